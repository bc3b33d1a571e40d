"""``idsync demo``: from nothing to a synchronized directory, with a summary table."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from idsync.cli.common import console, handle_errors, print_json, workspace_path
from idsync.cli.root import cli
from idsync.demo import CLOUD, GRAPH, SOURCE, TARGET, TARGETS, StageFigure, run_demo
from idsync.store import DB_FILE, Store


@cli.command()
@click.option("--no-churn", is_flag=True, help="Skip the delta cycle after a source churn.")
@click.option("--ldap", is_flag=True,
              help="Use a local OpenLDAP slapd (started with the sample data) as the source.")
@click.option("--target", type=click.Choice(TARGETS), default="cloud", show_default=True,
              help="cloud: a local clouddir through the out-of-box rules (sync API v2); "
                   "graph: the same clouddir through its Microsoft Graph API (MSAL, a "
                   "certificate); file: a second LDIF directory.")
@click.option("--json", "as_json", is_flag=True, help="Print the stage figures as JSON.")
@click.pass_context
@handle_errors
def demo(ctx: click.Context, no_churn: bool, ldap: bool, target: str, as_json: bool) -> None:
    """Create a workspace, load the bundled sample directory, run a full cycle into a second
    directory and a delta cycle after a churn, and print a summary."""
    workspace = workspace_path(ctx)

    def progress(f: StageFigure) -> None:
        if not as_json:
            console.print(f"  {f.cycle:8} {f.result.connector:9} {f.result.profile:22} "
                          f"{f.result.status} ({f.seconds:.2f} s)", highlight=False)

    if not as_json:
        source = "a local slapd with sample data" if ldap else "the bundled sample directory"
        into = {"cloud": "a local clouddir (sync API)",
                "graph": "a local clouddir through Microsoft Graph"}.get(
            target, "a second LDIF directory")
        console.print(f"idsync demo in {workspace}: {SOURCE} ({source}) -> {into}")
    figures = run_demo(workspace, churn=not no_churn, ldap=ldap, target=target,
                       on_stage=progress)
    store = Store.open(workspace, database=str(workspace / DB_FILE))  # the demo's own file
    try:
        source_record = store.connectors.get(SOURCE)
        into_record = store.connectors.get({"cloud": CLOUD, "graph": GRAPH}.get(target, TARGET))
        totals = {
            "metaverse_persons": store.mv.count("person"),
            "metaverse_groups": store.mv.count("group"),
            "metaverse_contacts": store.mv.count("contact"),
            f"{SOURCE}_objects": store.cs.count(source_record.id),
            f"{into_record.name}_objects": store.cs.count(into_record.id),
            "pending_exports": store.exports.count(into_record.id),
            "errors": store.errors.count(into_record.id) + store.errors.count(source_record.id),
        }
    finally:
        store.close()
    if as_json:
        print_json({"workspace": str(workspace), "stages": [
            {"cycle": f.cycle, "connector": f.result.connector, "profile": f.result.profile,
             "status": f.result.status, "seconds": round(f.seconds, 3),
             "counters": f.result.counters} for f in figures], "totals": totals})
        return
    table = Table(title="idsync demo", header_style="bold")
    for col in ("cycle", "connector", "run profile", "status", "adds", "updates", "deletes",
                "seconds", "objects/s"):
        table.add_column(col, justify="right" if col in ("adds", "updates", "deletes",
                                                         "seconds", "objects/s") else "left")
    for f in figures:
        c = f.result.counters
        adds = c.get("adds", 0) + c.get("projections", 0) + c.get("provisioned", 0)
        rate = f"{f.objects / f.seconds:,.0f}" if f.seconds > 0 and f.objects else ""
        table.add_row(f.cycle, f.result.connector, f.result.profile, f.result.status,
                      str(adds), str(c.get("updates", 0) + c.get("mv-updates", 0)),
                      str(c.get("deletes", 0) + c.get("mv-deletes", 0)), f"{f.seconds:.2f}",
                      rate)
    Console(width=max(console.width, 110)).print(table)
    console.print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in totals.items()))
    console.print(f"Look around: idsync --workspace {workspace} mv search --object-type group")
    if target == "cloud":
        console.print("The cloud directory is kept: clouddir serve --db "
                      f"sqlite:///{workspace}/clouddir/clouddir.db")
