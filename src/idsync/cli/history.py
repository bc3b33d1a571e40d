"""``idsync runs list|show|locks|unlock``, ``idsync errors list``, ``idsync events list``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from idsync.cli.common import (
    console,
    handle_errors,
    json_option,
    open_store,
    print_json,
    print_table,
)
from idsync.cli.root import cli
from idsync.error_codes import is_informational
from idsync.errors import ConfigurationError
from idsync.locks import CYCLE_LOCK, clear, describe_holder, held_locks, run_lock_name


@cli.group()
def runs() -> None:
    """Run history."""


@runs.command("list")
@click.option("--connector", help="Only this connector's runs.")
@click.option("--limit", default=20, show_default=True, help="Most runs to print (0 = all).")
@json_option
@click.pass_context
@handle_errors
def runs_list(ctx: click.Context, connector: str | None, limit: int, as_json: bool) -> None:
    """The latest runs, newest first."""
    store = open_store(ctx)
    cid = store.connectors.get(connector).id if connector else None
    found = store.runs.list(connector_id=cid, limit=limit)
    if as_json:
        print_json([asdict(r) for r in found])
        return
    print_table("Runs", ["id", "connector", "profile", "status", "started", "ended", "counters"],
                [[r.id, r.connector, r.profile, r.status, r.started_at, r.ended_at,
                  ", ".join(f"{k} {v}" for k, v in sorted(r.counters.items()))] for r in found])


@runs.command("show")
@click.argument("run_id", type=int)
@json_option
@click.pass_context
@handle_errors
def runs_show(ctx: click.Context, run_id: int, as_json: bool) -> None:
    """One run with its counters and per-object errors."""
    store = open_store(ctx)
    run = store.runs.get(run_id)
    if run is None:
        raise ConfigurationError(f"no run {run_id}")
    errors = store.runs.errors(run_id)
    if as_json:
        print_json({**asdict(run), "errors": errors})
        return
    fields: list[list[Any]] = [
        ["connector", run.connector], ["profile", run.profile], ["status", run.status],
        ["started", run.started_at], ["ended", run.ended_at], ["message", run.message]]
    print_table(f"Run {run_id}", ["field", "value"],
                fields + [[k, v] for k, v in sorted(run.counters.items())]
                + [[f"traffic: {k.replace('_', ' ')}", v] for k, v in run.traffic.items()])
    if errors:
        print_table("Errors", ["dn", "stage", "code", "detail"],
                    [[e["dn"], e["stage"], e["code"], e["detail"]] for e in errors])


@cli.group()
def errors() -> None:
    """Per-object errors kept on connector space objects until they clear."""


@errors.command("list")
@click.option("--connector", help="Only this connector.")
@click.option("--stage", type=click.Choice(["import", "sync", "export"]))
@click.option("--code", help="Only this error code (e.g. dn-attributes-failure).")
@click.option("--limit", default=100, show_default=True, help="0 = all.")
@json_option
@click.pass_context
@handle_errors
def errors_list(ctx: click.Context, connector: str | None, stage: str | None, code: str | None,
                limit: int, as_json: bool) -> None:
    """List object errors with their code, first seen time and retry count."""
    store = open_store(ctx)
    cid = store.connectors.get(connector).id if connector else None
    found = store.errors.list(connector_id=cid, stage=stage, code=code, limit=limit)
    if as_json:
        print_json([{**asdict(e), "informational": is_informational(e.code)} for e in found])
        return
    print_table("Object errors", ["connector", "dn", "stage", "code", "detail", "first seen",
                                  "retries"],
                [[e.connector, e.dn, e.stage,
                  e.code + (" (informational)" if is_informational(e.code) else ""), e.detail,
                  e.first_seen, e.retry_count] for e in found])


@cli.group()
def events() -> None:
    """The event log."""


@events.command("list")
@click.option("--id", "event_id", type=int, help="Only this event ID (e.g. 116, 6949).")
@click.option("--level", type=click.Choice(["information", "warning", "error"]))
@click.option("--run", "run_id", type=int, help="Only events of this run.")
@click.option("--connector", help="Only this connector.")
@click.option("--limit", default=50, show_default=True, help="0 = all.")
@json_option
@click.pass_context
@handle_errors
def events_list(ctx: click.Context, event_id: int | None, level: str | None,
                run_id: int | None, connector: str | None, limit: int, as_json: bool) -> None:
    """List events, newest first."""
    store = open_store(ctx)
    cid = store.connectors.get(connector).id if connector else None
    found = store.events.list(event_id=event_id, level=level, run_id=run_id, connector_id=cid,
                              limit=limit)
    if as_json:
        print_json([asdict(e) for e in found])
        return
    print_table("Events", ["time", "id", "level", "connector", "run", "message"],
                [[e.time, e.event_id, e.level, e.connector, e.run_id, e.message]
                 for e in found])


@runs.command("locks")
@json_option
@click.pass_context
@handle_errors
def runs_locks(ctx: click.Context, as_json: bool) -> None:
    """Who holds the sync cycle and each connector now: one row per lock, with its holder
    (command, host, pid, since), its last heartbeat and whether the holder is alive. A lock
    whose holder is gone is taken over by the next run by itself."""
    views = held_locks(open_store(ctx))
    if as_json:
        print_json([v.to_dict() for v in views])
        return
    print_table("Locks", ["lock", "profile", "run", "command", "host", "pid", "since",
                          "heartbeat", "holder"],
                [["sync cycle" if v.row.name == CYCLE_LOCK else v.connector, v.row.profile,
                  v.row.run_id, v.row.command, v.row.host, v.row.pid, v.row.since[:19],
                  f"{v.row.age_ms / 1000:.0f} s ago", v.state.value] for v in views])


@runs.command("unlock")
@click.argument("connector")
@click.pass_context
@handle_errors
def runs_unlock(ctx: click.Context, connector: str) -> None:
    """Clear a connector's run lock whose holder is gone (refused while it runs). Never
    needed in normal operation: the next run takes such a lock over by itself."""
    store = open_store(ctx)
    record = store.connectors.get(connector)
    row = clear(store, run_lock_name(record.id), what=f"the run lock of connector {connector}",
                connector_id=record.id)
    console.print(f"cleared the run lock of connector {connector} "
                  f"({describe_holder(row)})", highlight=False)

