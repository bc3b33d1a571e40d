"""``idsync cycle start|stop|status|unlock`` (Start-/Stop-ADSyncSyncCycle, run status)."""

from __future__ import annotations

import sys

import click
from rich.text import Text

from idsync.administration.audit import AuditAction, record_change
from idsync.administration.cycle_control import CYCLE_TARGET, start_cycle, stop_cycle
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
from idsync.errors import ConfigurationError
from idsync.locks import CYCLE_LOCK, Liveness, clear, describe_holder, held_locks
from idsync.scheduler.cycle import CycleRunner
from idsync.scheduler.lock import CycleLock
from idsync.scheduler.settings import CYCLE_COMPLETED_WITH_WARNINGS, load_settings, service_record


@cli.group()
def cycle() -> None:
    """Sync cycles on demand."""


@cycle.command()
@click.option("--policy", type=click.Choice(["delta", "initial"], case_sensitive=False),
              help="Default: the scheduler's next cycle policy.")
@json_option
@click.pass_context
@handle_errors
def start(ctx: click.Context, policy: str | None, as_json: bool) -> None:
    """Start a sync cycle. With `idsync serve` running, the service starts it; otherwise it
    runs here. Refused while a cycle runs."""
    store = open_store(ctx)
    holder = CycleLock(store).holder()
    if holder:
        console.print(Text.assemble(
            ("a sync cycle is already running", "red"),
            f" ({holder.get('policy')}, started {holder.get('started_at')}, pid "
            f"{holder.get('pid')} on {holder.get('host')}); see `idsync cycle status`"),
            highlight=False)
        sys.exit(3)
    if load_settings(store).suspended:
        raise ConfigurationError("the scheduler is suspended (an upgrade or a restore is "
                                 "under way); `idsync scheduler set --suspended false` first")
    policy = policy.lower() if policy else load_settings(store).next_cycle_policy
    if service_record(store):
        start_cycle(store, policy)  # the request and its audit entry
        console.print("cycle requested: the service starts it now")
        return
    with store.transaction():
        record_change(store, AuditAction.CYCLE_START, CYCLE_TARGET, None, {"policy": policy})
    result = CycleRunner(store, str(workspace_path(ctx))).run(policy, reason="cycle start")
    if as_json:
        print_json(result.to_dict())
    else:
        print_table(f"{result.policy} cycle: {result.status}",
                    ["connector", "profile", "status", "run"],
                    [[r.connector, r.profile, r.status, r.run_id] for r in result.runs])
        if result.message:
            console.print(result.message, highlight=False)
    if result.status not in ("success", CYCLE_COMPLETED_WITH_WARNINGS, "completed-with-errors"):
        sys.exit(1)


@cycle.command()
@click.pass_context
@handle_errors
def stop(ctx: click.Context) -> None:
    """Stop the running cycle after its current run profile; the rest waits for the next
    cycle. Harmless when none runs."""
    store = open_store(ctx)
    if CycleLock(store).holder() is None:
        console.print("no sync cycle is running")
        return
    try:
        holder = stop_cycle(store)  # the stop request and its audit entry
    except ConfigurationError:  # it ended meanwhile
        console.print("no sync cycle is running")
    else:
        console.print(f"stop requested: the {holder.get('policy')} cycle stops after its "
                      "current run profile")


@cycle.command()
@json_option
@click.pass_context
@handle_errors
def status(ctx: click.Context, as_json: bool) -> None:
    """What runs now: empty when idle (check this before changing settings). The cycle, its
    step, and every run that holds its connector's run lock (a cycle's or a hand-run one)."""
    store = open_store(ctx)
    holder = CycleLock(store).holder()
    running = [v for v in held_locks(store)
               if v.row.name != CYCLE_LOCK and v.state is Liveness.ALIVE]
    view: dict = dict(holder or {})
    if holder:
        # The run in progress, with its counters as of its last committed batch.
        view["runs_in_progress"] = [
            {"run_id": r.id, "connector": r.connector, "profile": r.profile,
             "started_at": r.started_at, "counters": r.counters}
            for r in store.runs.list(limit=10) if r.status == "in-progress"]
    if running:
        view["run_locks"] = [v.to_dict() for v in running]
    if as_json:
        print_json(view)
        return
    if holder:
        step = holder.get("step") or {}
        console.print(f"{holder.get('policy')} cycle started {holder.get('started_at')} "
                      f"({holder.get('reason')}, pid {holder.get('pid')} on "
                      f"{holder.get('host')})"
                      + (f": {step.get('profile')} on {step.get('connector')} "
                         f"({step.get('index')}/{step.get('of')})" if step else ""),
                      highlight=False)
        for run in view["runs_in_progress"]:
            counters = ", ".join(f"{k} {v}" for k, v in sorted(run["counters"].items()))
            console.print(f"  run {run['run_id']}: {run['profile']} on {run['connector']}"
                          + (f": {counters}" if counters else ""), highlight=False)
    for v in running:
        console.print(f"connector {v.connector} is held by {describe_holder(v.row)}",
                      highlight=False, markup=False, soft_wrap=True)


@cycle.command()
@click.pass_context
@handle_errors
def unlock(ctx: click.Context) -> None:
    """Clear the cycle lock of a holder that is gone (refused while it runs). Never needed in
    normal operation: the next cycle takes such a lock over by itself."""
    row = clear(open_store(ctx), CYCLE_LOCK, what="the sync cycle lock")
    console.print(f"cleared the sync cycle lock ({describe_holder(row)})", highlight=False,
                  markup=False)
