"""Server settings (issue 17 section 7): the overview with the scheduler's settings as a form
(every field of ``idsync scheduler show``) and staging mode with its confirmations. Changes go
through ``idsync.scheduler.changes``, the operation ``idsync scheduler set`` calls, which
validates them alike and records them in the audit log. The other settings pages are
``settings_limits``, ``settings_exports``, ``settings_api`` and ``settings_checks``."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from idsync.errors import ConfigurationError
from idsync.scheduler.changes import (
    SchedulerChange,
    change_scheduler,
    swing_back_for,
    swing_deletes,
)
from idsync.scheduler.settings import POLICIES, load_settings, scheduler_view
from idsync.web.pages import (
    settings_api,
    settings_checks,
    settings_exports,
    settings_limits,
)
from idsync.web.pages.settings_tabs import tabs
from idsync.web.requests import UiRequest, action, view

#: What turning staging mode on does, said before the admin confirms it.
STAGING_ON_TEXT = ("Staging mode on: this server keeps importing and synchronizing, but "
                   "exports nothing to any directory until staging mode is turned off again.")
STAGING_OFF_TEXT = ("Staging mode off: this server exports its pending changes to the "
                    "connected directories from the next cycle on.")

BOOLEAN_FIELDS = ("sync_cycle_enabled", "maintenance_enabled", "suspended")


def _bool_field(ui: UiRequest, name: str) -> bool:
    value = str(ui.form.get(name) or "")
    if value not in ("true", "false"):
        raise ConfigurationError(f"{name.replace('_', ' ')}: choose true or false")
    return value == "true"


def settings_page(ui: UiRequest) -> Response:
    shown = scheduler_view(ui.store)
    overrides = shown.pop("connector_overrides")
    settings = load_settings(ui.store)
    return ui.render("settings.html", scheduler=shown, overrides=overrides, settings=settings,
                     policies=POLICIES, staging_on_text=STAGING_ON_TEXT,
                     staging_off_text=STAGING_OFF_TEXT, **tabs("/settings"))


def scheduler_change_from(ui: UiRequest) -> SchedulerChange:
    """The fields the form changed: a field left as shown is not sent, so the message and
    the event name only what changed."""
    settings = load_settings(ui.store)
    shown = scheduler_view(ui.store)
    changed: dict[str, Any] = {}
    for name in BOOLEAN_FIELDS:
        if name in ui.form:
            flag = _bool_field(ui, name)
            if flag != getattr(settings, name):
                changed[name] = flag
    texts = {"interval": shown["customized_sync_cycle_interval"],
             "purge_run_history_interval": shown["purge_run_history_interval"],
             "lock_lease": shown["lock_lease"]}
    for name, current in texts.items():
        if name not in ui.form:
            continue
        value = str(ui.form.get(name) or "").strip()
        if name == "interval" and not value:
            value = "default" if settings.customized_interval is not None else ""
        if not value and name != "interval":
            raise ConfigurationError(f"{name.replace('_', ' ')}: give a duration such as "
                                     "30m, 2h or d.HH:mm:ss")
        if value and value != current:
            changed[name] = value
    policy = str(ui.form.get("next_cycle_policy") or settings.next_cycle_policy).lower()
    if policy != settings.next_cycle_policy:
        changed["next_cycle_policy"] = policy
    return SchedulerChange(**changed)


def scheduler_set(ui: UiRequest) -> Response:
    result = change_scheduler(ui.store, scheduler_change_from(ui))
    text = ", ".join(result.changes) if result.changes else "nothing changed"
    return ui.redirect("/settings", msg=f"Scheduler: {text}.")


def _staging_change(value: str) -> SchedulerChange:
    if value not in ("true", "false"):
        raise ConfigurationError("staging mode: choose true or false")
    return SchedulerChange(staging_mode=value == "true")


def staging_mode_confirm(ui: UiRequest) -> Response:
    """What changing staging mode does, and for leaving it the large groups a swing back to
    API v1 deletes (the CLI's ``--confirm`` list), before anything changes."""
    change = _staging_change(str(ui.query.get("staging_mode") or ""))
    return _confirm_page(ui, change)


def _confirm_page(ui: UiRequest, change: SchedulerChange) -> Response:
    swing = swing_back_for(ui.store, ui.ui.workspace, change)
    return ui.render("settings_staging_confirm.html", wanted=change.staging_mode,
                     effect=STAGING_ON_TEXT if change.staging_mode else STAGING_OFF_TEXT,
                     groups=swing, deletes=swing_deletes(swing), **tabs("/settings"))


def staging_mode_set(ui: UiRequest) -> Response:
    change = _staging_change(str(ui.form.get("staging_mode") or ""))
    if ui.form.get("confirm") != "yes":
        return _confirm_page(ui, change)
    # Listed again now: the confirmation covers the groups as they are at this moment.
    swing = swing_back_for(ui.store, ui.ui.workspace, change)
    result = change_scheduler(ui.store, change, swing)
    text = STAGING_ON_TEXT if change.staging_mode else STAGING_OFF_TEXT
    if result.deletes:
        text += (f" {result.deletes} large group delete(s) staged: review them in the "
                 "export preview before the next export.")
    return ui.redirect("/settings", msg=text)


routes = [
    Route("/settings", view(settings_page)),
    Route("/settings/scheduler", action(scheduler_set), methods=["POST"]),
    Route("/settings/staging-mode", view(staging_mode_confirm)),
    Route("/settings/staging-mode", action(staging_mode_set), methods=["POST"]),
    *settings_limits.routes,
    *settings_exports.routes,
    *settings_api.routes,
    *settings_checks.routes,
]
