"""The export deletion threshold and the data-safety limits (``idsync
export-deletion-threshold``, ``deletion-limit show``, ``member-removal-limit``,
``attribute-change-limit``), changed through ``idsync.administration.thresholds``, the
operations the command line calls (each records its audit entry)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from idsync.administration.audit import AuditAction
from idsync.administration.thresholds import (
    reset_deletion_limit,
    reset_share_limit,
    save_deletion_threshold,
    set_default_deletion_percent,
    set_deletion_limit,
    set_share_limit,
)
from idsync.engine import deletion_limits, import_guards, member_removals
from idsync.engine.share_limits import ShareLimitSetting
from idsync.errors import ConfigurationError
from idsync.web.pages.settings_tabs import tabs
from idsync.web.requests import UiRequest, action, view

#: The two share limits by the name their URL uses: (setting, audit action, noun).
SHARE_LIMITS: dict[str, tuple[ShareLimitSetting, AuditAction, str]] = {
    "member-removal": (member_removals.SETTING, AuditAction.MEMBER_REMOVAL_LIMIT,
                       "member removal limit"),
    "attribute-change": (import_guards.SETTING, AuditAction.ATTRIBUTE_CHANGE_LIMIT,
                         "attribute change limit"),
}


def _int(ui: UiRequest, name: str, label: str) -> int | None:
    raw = str(ui.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{label} {raw!r}: give a whole number") from None


def _float(ui: UiRequest, name: str, label: str) -> float | None:
    raw = str(ui.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{label} {raw!r}: give a number") from None


def limits_page(ui: UiRequest) -> Response:
    store = ui.store
    default = deletion_limits.server_default(store)
    connectors: list[dict[str, Any]] = []
    for record in store.connectors.list():
        shares = {}
        for key, (setting, _action, _noun) in SHARE_LIMITS.items():
            limit = setting.limit_of(store, record.name)
            shares[key] = limit
        own = deletion_limits.configured(store).get(record.name, {})
        connectors.append({"name": record.name, "shares": shares,
                           "deletion_limits": {t: deletion_limits.limit_for(
                               store, record.name,
                               "" if t == deletion_limits.ALL_TYPES else t)
                               for t in sorted(own)}})
    return ui.render("settings_limits.html", threshold=deletion_limits.deletion_threshold(store),
                     default=default, default_percent=deletion_limits.default_percent(store),
                     connectors=connectors,
                     connector_names=[c["name"] for c in connectors],
                     share_limits=[(k, v[2]) for k, v in SHARE_LIMITS.items()],
                     all_types=deletion_limits.ALL_TYPES, **tabs("/settings/limits"))


def threshold_set(ui: UiRequest) -> Response:
    count = _int(ui, "count", "threshold")
    if count is None:
        raise ConfigurationError("threshold: give the number of deletes that stops an export")
    enabled = str(ui.form.get("enabled") or "") == "true"
    value = save_deletion_threshold(ui.store, enabled=enabled, count=count)
    state = "enabled" if value["enabled"] else "disabled"
    return ui.redirect("/settings/limits",
                       msg=f"Export deletion threshold {state} at {value['count']} deletes.")


def default_percent_set(ui: UiRequest) -> Response:
    percent = _float(ui, "percent", "percent")
    floor = _int(ui, "floor", "floor")
    if percent is None:
        raise ConfigurationError("default deletion limit: give the percentage")
    set_default_deletion_percent(ui.store, percent,
                                 deletion_limits.DEFAULT_FLOOR if floor is None else floor)
    return ui.redirect("/settings/limits", msg=f"Default deletion limit: {percent:g}% of a "
                                               "type's objects.")


def deletion_limit_set(ui: UiRequest) -> Response:
    connector = ui.params["connector"]
    object_type = str(ui.form.get("object_type") or "").strip() or None
    what = f"{connector} {object_type or 'each object type'}"
    if ui.form.get("reset") == "yes":
        reset_deletion_limit(ui.store, connector, object_type)
        return ui.redirect("/settings/limits", msg=f"Deletion limit of {what} reset to the "
                                                   "default.")
    limit = set_deletion_limit(ui.store, connector, object_type,
                               count=_int(ui, "count", "count"),
                               percent=_float(ui, "percent", "percent"),
                               floor=_int(ui, "floor", "floor"))
    return ui.redirect("/settings/limits", msg=f"Deletion limit of {what}: {limit.describe()}.")


def share_limit_set(ui: UiRequest) -> Response:
    kind = SHARE_LIMITS.get(ui.params["kind"])
    if kind is None:
        raise ConfigurationError(f"unknown limit {ui.params['kind']!r}")
    setting, audit_action, noun = kind
    connector = ui.params["connector"]
    if ui.form.get("reset") == "yes":
        reset_share_limit(ui.store, setting, audit_action, noun, connector)
        return ui.redirect("/settings/limits", msg=f"{noun} of {connector} reset to the default.")
    value = set_share_limit(ui.store, setting, audit_action, noun, connector,
                            percent=_float(ui, "percent", "percent"),
                            minimum=_int(ui, "minimum", "minimum"),
                            off=ui.form.get("off") == "yes")
    return ui.redirect("/settings/limits", msg=f"{noun} of {connector}: {value}.")


routes = [
    Route("/settings/limits", view(limits_page)),
    Route("/settings/deletion-threshold", action(threshold_set), methods=["POST"]),
    Route("/settings/deletion-limits/default", action(default_percent_set), methods=["POST"]),
    Route("/settings/deletion-limits/{connector}", action(deletion_limit_set),
          methods=["POST"]),
    Route("/settings/limits/{kind}/{connector}", action(share_limit_set), methods=["POST"]),
]
