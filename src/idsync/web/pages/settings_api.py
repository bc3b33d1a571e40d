"""The cloud API version switch (``idsync connector set-api-version``): each cloud
connector's export and import API versions, and a switch that first lists what a rollback to
API v1 does to every group above the v1 limit (deleted in the cloud, deleted on-premises when
written back, or disconnected), changing nothing until the admin confirms. The switch is
``largegroups.api_versions.set_api_versions``, which records the audit entry."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from idsync.errors import ConfigurationError
from idsync.largegroups.api_versions import (
    V1_MEMBER_LIMIT,
    api_versions_of,
    plan_api_versions,
    service_v1_limit,
    set_api_versions,
)
from idsync.web.pages.settings_tabs import tabs
from idsync.web.requests import UiRequest, action, view

CLOUD = "cloud"


def _version(raw: object, which: str) -> int:
    text = str(raw or "").strip()
    if text not in ("1", "2"):
        raise ConfigurationError(f"{which} API version {text!r}: choose 1 or 2")
    return int(text)


def _limit(ui: UiRequest, connector: str, export_version: int, import_version: int) -> int:
    # Only a switch to v1 asks the cloud service its v1 limit (a connection).
    if 1 in (export_version, import_version):
        return service_v1_limit(ui.store, connector, ui.ui.workspace)
    return V1_MEMBER_LIMIT


def api_versions_page(ui: UiRequest) -> Response:
    clouds = [(c.name, api_versions_of(ui.store, c.name))
              for c in ui.store.connectors.list() if c.type == CLOUD]
    return ui.render("settings_api.html", clouds=clouds, **tabs("/settings/api-versions"))


def switch_preview(ui: UiRequest) -> Response:
    """The rollback list for the versions asked, before anything changes."""
    connector = ui.store.connectors.get(ui.params["connector"]).name
    export_version = _version(ui.query.get("export"), "export")
    import_version = _version(ui.query.get("import"), "import")
    limit = _limit(ui, connector, export_version, import_version)
    plan = plan_api_versions(ui.store, connector, export_version, import_version, limit)
    return ui.render("settings_api_confirm.html", connector=connector,
                     current=api_versions_of(ui.store, connector), export=export_version,
                     import_=import_version, plan=plan, limit=limit,
                     deletes=sum(1 for g in plan if g.deleted_in_cloud),
                     **tabs("/settings/api-versions"))


def switch(ui: UiRequest) -> Response:
    connector = ui.store.connectors.get(ui.params["connector"]).name
    export_version = _version(ui.form.get("export"), "export")
    import_version = _version(ui.form.get("import"), "import")
    limit = _limit(ui, connector, export_version, import_version)
    plan, changed = set_api_versions(ui.store, connector, export_version, import_version,
                                     confirm=ui.form.get("confirm") == "yes", limit=limit)
    if not changed:
        raise ConfigurationError(
            f"{len(plan)} group(s) above the v1 limit would be affected: confirm the list "
            "first; nothing changed")
    deletes = sum(1 for g in plan if g.deleted_in_cloud)
    text = (f"Connector {connector}: export API v{export_version}, import API "
            f"v{import_version}; full import and full sync required.")
    if deletes:
        text += (f" {deletes} cloud delete(s) staged: review them in the export preview "
                 "before the next export (the deletion threshold applies).")
    return ui.redirect("/settings/api-versions", msg=text)


routes = [
    Route("/settings/api-versions", view(api_versions_page)),
    Route("/settings/api-versions/{connector}", view(switch_preview)),
    Route("/settings/api-versions/{connector}", action(switch), methods=["POST"]),
]
