"""``idsync run CONNECTOR PROFILE``: run one run profile, with live counters."""

from __future__ import annotations

import sys

import click
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from idsync.cli.common import (
    console,
    err_console,
    handle_errors,
    json_option,
    open_store,
    print_json,
    print_table,
    workspace_path,
)
from idsync.cli.root import cli
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import RunResult, run_profile
from idsync.errors import ConfigurationError
from idsync.model import RunProfile, RunStatus


def _counter_text(profile: str, counters: dict[str, int]) -> Text:
    parts = ", ".join(f"{k} {v}" for k, v in sorted(counters.items())) or "starting"
    return Text(f"{profile}: {parts}")


def print_result(result: RunResult) -> None:
    style = "green" if result.status == "success" else (
        "yellow" if result.ok else "red")
    console.print(Text.assemble(f"run {result.run_id}: {result.profile} on {result.connector}: ",
                                (result.status, style)), highlight=False)
    if result.counters:
        print_table(None, ["counter", "value"], sorted(result.counters.items()))
    if result.message:
        console.print(result.message, highlight=False, soft_wrap=True)


@cli.command("run")
@click.argument("connector")
@click.argument("profile")
@click.option("--accept-deletes", is_flag=True,
              help="Full import: stage the deletes even past the deletion limits.")
@click.option("--accept-changes", is_flag=True,
              help="Import or synchronization: take an attribute change past the attribute "
                   "change limit (lifts its hold).")
@json_option
@click.pass_context
@handle_errors
def run_cmd(ctx: click.Context, connector: str, profile: str, accept_deletes: bool,
            accept_changes: bool, as_json: bool) -> None:
    """Run a run profile on a connector: "Full Import", "Delta Import", "Full
    Synchronization", "Delta Synchronization" or "Export" (short: fi, di, fs, ds, e).
    Exits non-zero when the run stops; exit 3, with the holder named, when another run of
    the connector holds it (nothing runs then)."""
    try:
        run_profile_ = RunProfile.parse(profile)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc
    store = open_store(ctx)
    engine = RunContext(store, str(workspace_path(ctx)))
    try:
        if as_json or not console.is_terminal:
            result = run_profile(engine, connector, run_profile_, accept_deletes=accept_deletes,
                                 accept_changes=accept_changes)
        else:
            with Live(_counter_text(run_profile_.value, {}), console=console,
                      transient=True) as live:
                result = run_profile(
                    engine, connector, run_profile_, accept_deletes=accept_deletes,
                    accept_changes=accept_changes,
                    on_progress=lambda c: live.update(_counter_text(run_profile_.value, c)))
    finally:
        engine.close()
    if result.status == RunStatus.NO_START_CONNECTOR_BUSY:
        # Refused, not failed: one line naming the holder (the attempt is in the history).
        if as_json:
            print_json({"run_id": result.run_id, "connector": result.connector,
                        "profile": result.profile, "status": result.status,
                        "message": result.message})
        else:
            err_console.print(f"[red]refused:[/red] {escape(result.message or '')}",
                              highlight=False, soft_wrap=True, markup=True)
        sys.exit(3)
    if as_json:
        print_json({"run_id": result.run_id, "connector": result.connector,
                    "profile": result.profile, "status": result.status,
                    "counters": result.counters, "message": result.message})
    else:
        print_result(result)
    if not result.ok:
        sys.exit(1)
