"""``idsync audit list``: the administrator audit log (idsync.administration.audit), newest
first."""

from __future__ import annotations

from typing import Any

import click

from idsync.administration.audit import AuditAction
from idsync.cli.common import handle_errors, json_option, open_store, print_json, print_table
from idsync.cli.root import cli
from idsync.values import dumps


@cli.group()
def audit() -> None:
    """The administrator audit log: who changed what, old -> new."""


def _short(value: Any) -> str:
    return "" if value is None else dumps(value)


@audit.command("list")
@click.option("--limit", default=50, show_default=True, help="Most entries to print (0 = all).")
@click.option("--admin", help="Only this admin's changes.")
@click.option("--action", type=click.Choice([a.value for a in AuditAction]),
              help="Only this kind of change.")
@click.option("--since", help="Only changes at or after this time (ISO 8601, UTC).")
@json_option
@click.pass_context
@handle_errors
def list_(ctx: click.Context, limit: int, admin: str | None, action: str | None,
          since: str | None, as_json: bool) -> None:
    """The latest changes made by administrators (CLI and web UI), newest first."""
    store = open_store(ctx)
    entries = store.audit.list(limit=limit, admin=admin, action=action, since=since)
    if as_json:
        print_json([e.to_dict() for e in entries])
        return
    print_table("Admin audit log", ["time", "admin", "via", "action", "target", "old -> new"],
                [[e.at, e.admin, e.via, e.action, e.target,
                  f"{_short(e.old)} -> {_short(e.new)}"] for e in entries])
