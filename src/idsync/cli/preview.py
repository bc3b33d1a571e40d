"""``idsync export preview CONNECTOR [--csv FILE]``: what the next export would send."""

from __future__ import annotations

import click
from rich.text import Text

from idsync.administration.preview import pending_changes, summary, write_csv
from idsync.cli.common import console, handle_errors, json_option, open_store, print_json
from idsync.cli.root import cli


@cli.group("export")
def export_group() -> None:
    """Pending exports (staging servers review them before a swing)."""


@export_group.command()
@click.argument("connector")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False),
              help="Write one row per value change to this CSV file.")
@click.option("--include-exported", is_flag=True,
              help="Also list changes sent but not yet confirmed by an import.")
@json_option
@click.pass_context
@handle_errors
def preview(ctx: click.Context, connector: str, csv_file: str | None, include_exported: bool,
            as_json: bool) -> None:
    """Each pending object change (add, update, rename, delete) and attribute change with its
    old value (the hologram) and new value."""
    store = open_store(ctx)
    if csv_file:
        n = write_csv(pending_changes(store, connector, include_exported=include_exported),
                      csv_file)
        console.print(f"{n} pending object change(s) written to {csv_file}")
        return
    changes = list(pending_changes(store, connector, include_exported=include_exported))
    if as_json:
        print_json({"connector": connector, "summary": summary(changes),
                    "objects": [c.to_dict() for c in changes]})
        return
    for c in changes:
        console.print(Text.assemble((str(c.operation), "bold"), f" {c.dn}"
                                    + (f" -> {c.new_dn}" if c.new_dn else "")
                                    + (f" ({c.object_type})" if c.object_type else "")),
                      highlight=False)
        for ch in c.to_dict()["changes"]:
            console.print(f"    {ch['operation']:8} {ch['attribute']}: {ch['old']} -> "
                          f"{ch['new']}", highlight=False, markup=False)
    totals = summary(changes)
    console.print("pending exports: " + (", ".join(f"{k} {v}" for k, v in sorted(
        totals.items())) or "none"))
