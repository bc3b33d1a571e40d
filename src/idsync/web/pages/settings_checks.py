"""Group writeback (``idsync writeback enable|show|disable``) and ``idsync doctor``'s checks.
Writeback changes go through ``administration.writeback`` (which records the audit entry),
enabling it through the same preview guard as the command line (held above the deletion
limits unless confirmed); disabling lists the written-back groups it deletes first."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from idsync.administration.doctor import exit_code, run_checks
from idsync.administration.simulation import guard_change
from idsync.administration.writeback import (
    disable_writeback,
    enable_writeback,
    writeback_config,
    writeback_preview,
)
from idsync.errors import ConfigurationError
from idsync.web.pages.settings_tabs import tabs
from idsync.web.requests import UiRequest, action, view
from idsync.writeback.rules import DEFAULT_MEMBER_LIMIT, NAMINGS, WritebackConfig


def writeback_page(ui: UiRequest) -> Response:
    connectors = ui.store.connectors.list()
    return ui.render("settings_writeback.html", config=writeback_config(ui.store),
                     groups=writeback_preview(ui.store), namings=NAMINGS,
                     default_limit=DEFAULT_MEMBER_LIMIT,
                     onprems=[c.name for c in connectors if c.type == "ldap"],
                     clouds=[c.name for c in connectors if c.type == "cloud"],
                     **tabs("/settings/writeback"))


def writeback_enable(ui: UiRequest) -> Response:
    raw_limit = str(ui.form.get("member_limit") or DEFAULT_MEMBER_LIMIT).strip()
    if not raw_limit.isdigit():
        raise ConfigurationError(f"member limit {raw_limit!r}: give a whole number")
    config = WritebackConfig(str(ui.form.get("onprem") or ""), str(ui.form.get("cloud") or ""),
                             str(ui.form.get("ou") or "").strip(),
                             str(ui.form.get("naming") or "id"), int(raw_limit))
    if not config.ou:
        raise ConfigurationError("writeback OU: give the DN the groups are written to")
    done = guard_change(ui.store, ui.ui.workspace, "writeback enable",
                        lambda: enable_writeback(ui.store, config),
                        confirm=ui.form.get("confirm") == "yes")
    names = ", ".join(r.name for r in done.result)
    return ui.redirect("/settings/writeback",
                       msg=f"Group writeback enabled: {names}; full import on {config.cloud} "
                           "and full sync required.")


def writeback_disable_confirm(ui: UiRequest) -> Response:
    return ui.render("settings_writeback_disable.html", config=writeback_config(ui.store),
                     groups=writeback_preview(ui.store), **tabs("/settings/writeback"))


def writeback_disable(ui: UiRequest) -> Response:
    if ui.form.get("confirm") != "yes":
        return writeback_disable_confirm(ui)
    groups = disable_writeback(ui.store)
    return ui.redirect("/settings/writeback",
                       msg=f"Group writeback disabled; the next full sync stages the deletes "
                           f"of {len(groups)} written-back group(s) (see the export preview).")


def doctor_page(ui: UiRequest) -> Response:
    """The checks run only on request: they connect to every directory."""
    checks = run_checks(ui.store, ui.ui.workspace) if ui.query.get("run") == "1" else None
    return ui.render("settings_doctor.html", checks=checks,
                     code=exit_code(checks) if checks is not None else None,
                     **tabs("/settings/doctor"))


routes = [
    Route("/settings/writeback", view(writeback_page)),
    Route("/settings/writeback/enable", action(writeback_enable), methods=["POST"]),
    Route("/settings/writeback/disable", view(writeback_disable_confirm)),
    Route("/settings/writeback/disable", action(writeback_disable), methods=["POST"]),
    Route("/settings/doctor", view(doctor_page)),
]
