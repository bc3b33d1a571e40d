"""``idsync scheduler show|set|override|purge-run-history`` (Get-/Set-ADSyncScheduler and the
connector overrides)."""

from __future__ import annotations

import sys

import click

from idsync.administration.audit import AuditAction, record_change
from idsync.cli.common import (
    console,
    handle_errors,
    json_option,
    open_store,
    print_json,
    print_table,
    workspace_path,
)
from idsync.cli.root import cli
from idsync.events import EventId
from idsync.largegroups.swing import SwingGroup
from idsync.scheduler.changes import (
    SchedulerChange,
    change_scheduler,
    swing_back_for,
    swing_deletes,
)
from idsync.scheduler.cycle import purge_run_history
from idsync.scheduler.settings import load_settings, scheduler_view

BOOL = click.Choice(["true", "false"], case_sensitive=False)


def _bool(value: str | None) -> bool | None:
    return None if value is None else value.lower() == "true"


@cli.group()
def scheduler() -> None:
    """The scheduler: when sync cycles run, staging mode, connector overrides."""


@scheduler.command()
@json_option
@click.pass_context
@handle_errors
def show(ctx: click.Context, as_json: bool) -> None:
    """Every scheduler field (Get-ADSyncScheduler) and the connector overrides."""
    view = scheduler_view(open_store(ctx))
    if as_json:
        print_json(view)
        return
    overrides = view.pop("connector_overrides")
    print_table("Scheduler", ["field", "value"],
                [[k, "" if v is None else v] for k, v in view.items()])
    print_table("Connector overrides", ["connector", "full import required",
                                        "full sync required"],
                [[o["connector"], o["full_import_required"], o["full_sync_required"]]
                 for o in overrides])


@scheduler.command("set")
@click.option("--sync-cycle-enabled", type=BOOL, help="Run cycles on schedule.")
@click.option("--interval", help="Customized interval (d.HH:mm:ss, 30m, 2h...); never below "
              "the allowed minimum. 'default' returns to 30 minutes.")
@click.option("--next-cycle-policy", type=click.Choice(["delta", "initial"],
                                                       case_sensitive=False))
@click.option("--purge-run-history-interval", help="Keep run history this long (default 7d).")
@click.option("--maintenance-enabled", type=BOOL)
@click.option("--staging-mode", type=BOOL, help="Staging mode: import and sync, never export.")
@click.option("--suspended", type=BOOL, help="Suspend the scheduler (during an upgrade).")
@click.option("--confirm", is_flag=True,
              help="Leave staging mode although large groups would be deleted (swing back to "
                   "a server on API v1).")
@click.option("--lock-lease", help="How long a cycle or run lock held from another host "
              "survives without a heartbeat before it is taken over (default 3m).")
@click.pass_context
@handle_errors
def set_(ctx: click.Context, sync_cycle_enabled: str | None, interval: str | None,
         next_cycle_policy: str | None, purge_run_history_interval: str | None,
         maintenance_enabled: str | None, staging_mode: str | None,
         suspended: str | None, confirm: bool, lock_lease: str | None) -> None:
    """Change scheduler settings (Set-ADSyncScheduler, plus staging mode). Leaving staging
    mode on a server whose cloud connector is on API v1 (a swing back from a v2 server) lists
    the groups above the v1 limit it will delete, and changes nothing without --confirm."""
    store = open_store(ctx)
    change = SchedulerChange(
        sync_cycle_enabled=_bool(sync_cycle_enabled), interval=interval,
        next_cycle_policy=next_cycle_policy,
        purge_run_history_interval=purge_run_history_interval,
        maintenance_enabled=_bool(maintenance_enabled), staging_mode=_bool(staging_mode),
        suspended=_bool(suspended), lock_lease=lock_lease)
    swing = swing_back_for(store, str(workspace_path(ctx)), change)
    _hold_swing_back(swing, confirm)
    changes = change_scheduler(store, change, swing).changes
    console.print("scheduler: " + (", ".join(changes) if changes else "nothing changed"))


def _hold_swing_back(plan: list[SwingGroup], confirm: bool) -> None:
    """Show what leaving staging mode does to the groups above the v1 limit; without
    ``confirm`` and with deletes to make, stop (exit 3) before anything changes."""
    if not plan:
        return
    print_table("groups above the API v1 member limit in the cloud, and what leaving staging "
                "mode does to each", ["name", "members", "what happens", "connector", "dn"],
                [[g.name, g.member_count, g.fate, g.connector, g.dn] for g in plan])
    deletes = swing_deletes(plan)
    if deletes and not confirm:
        console.print(f"{deletes} large group(s) would be deleted from the cloud or, written "
                      "back, on-premises (this server's cloud connector is on API v1, which "
                      "cannot hold them); nothing changed. Run again with --confirm to leave "
                      "staging mode.")
        sys.exit(3)


@scheduler.command()
@click.argument("connector")
@click.option("--full-import-required", type=BOOL)
@click.option("--full-sync-required", type=BOOL)
@click.pass_context
@handle_errors
def override(ctx: click.Context, connector: str, full_import_required: str | None,
             full_sync_required: str | None) -> None:
    """Force or suppress the next cycle's full import / full sync on one connector
    (Set-ADSyncSchedulerConnectorOverride). The next cycle honours and clears them."""
    store = open_store(ctx)
    record = store.connectors.get(connector)
    with store.transaction():
        store.connectors.set_required(record.id, full_import=_bool(full_import_required),
                                      full_sync=_bool(full_sync_required))
        record_change(store, AuditAction.CONNECTOR_OVERRIDE, connector,
                      {"full_import_required": record.full_import_required,
                       "full_sync_required": record.full_sync_required},
                      {"full_import_required": _bool(full_import_required),
                       "full_sync_required": _bool(full_sync_required)})
        store.events.add(int(EventId.SCHEDULER_CHANGED), "information",
                         f"connector override on {connector}: full import required "
                         f"{full_import_required}, full sync required {full_sync_required}",
                         connector_id=record.id)
    after = store.connectors.get(connector)
    console.print(f"{connector}: full import required {after.full_import_required}, "
                  f"full sync required {after.full_sync_required}")


@scheduler.command("purge-run-history")
@click.pass_context
@handle_errors
def purge(ctx: click.Context) -> None:
    """Purge run history older than the purge interval now."""
    store = open_store(ctx)
    removed = purge_run_history(store, load_settings(store).purge_run_history_interval,
                                force=True)
    console.print(f"{removed} run(s) purged")
