"""``idsync object preview CONNECTOR --dn DN [--commit] [--json]``: one object's whole path
(read fresh, import, join or projection, inbound, provisioning, outbound, exports) as a step
trace with old -> new values, changing nothing; ``--commit`` imports, synchronizes and exports
that one object (idsync.administration.object_preview)."""

from __future__ import annotations

import sys

import click

from idsync.administration.object_preview import commit_object, preview_object
from idsync.administration.object_trace import ObjectTrace
from idsync.cli.common import (
    console,
    handle_errors,
    json_option,
    open_store,
    print_json,
    workspace_path,
)
from idsync.cli.root import cli
from idsync.model import RunStatus


@cli.group("object")
def object_group() -> None:
    """One object of a connector space."""


@object_group.command("preview")
@click.argument("connector")
@click.option("--dn", required=True, help="The object's DN in the connector's directory.")
@click.option("--commit", is_flag=True,
              help="Import, synchronize and export this one object (recorded runs); other "
                   "pending exports stay pending.")
@json_option
@click.pass_context
@handle_errors
def preview(ctx: click.Context, connector: str, dn: str, commit: bool, as_json: bool) -> None:
    """Preview one object's path through the sync engine (provision on demand), then commit
    it with --commit."""
    store = open_store(ctx)
    workspace = str(workspace_path(ctx))
    trace = (commit_object if commit else preview_object)(store, workspace, connector, dn)
    if as_json:
        print_json(trace.to_dict())
    else:
        print_trace(trace)
    # As `idsync run`: 3 when a connector's run lock was held by another run, 1 when a run
    # stopped.
    if any(r.status == RunStatus.NO_START_CONNECTOR_BUSY for r in trace.runs):
        sys.exit(3)
    if not trace.ok:
        sys.exit(1)


def print_trace(trace: ObjectTrace) -> None:
    console.print(f"{'commit' if trace.committed else 'preview'} of {trace.dn} "
                  f"({trace.connector})", highlight=False, markup=False, soft_wrap=True)
    for number, step in enumerate(trace.steps, 1):
        where = f" [{step.connector}]" if step.connector else ""
        console.print(f"{number}. {step.kind.value}{where}: {step.summary}", highlight=False,
                      markup=False)
        for line in step.details:
            console.print(f"     {line}", highlight=False, markup=False, soft_wrap=True)
        for change in step.changes:
            note = f"  ({change.note})" if change.note else ""
            console.print(f"     {change.attribute}: {change.old} -> {change.new}{note}",
                          highlight=False, markup=False, soft_wrap=True)
    for run in trace.runs:
        console.print(f"run #{run.run_id}: {run.connector} {run.profile}: {run.status}"
                      + (f" ({run.message})" if run.message else ""), highlight=False,
                      markup=False)
    for note in trace.notes:
        console.print(note, highlight=False, markup=False, soft_wrap=True)
