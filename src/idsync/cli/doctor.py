"""``idsync doctor``: one line per check, OK / WARN / FAIL; non-zero exit on FAIL."""

from __future__ import annotations

import sys

import click
from rich.text import Text

from idsync.administration.doctor import FAIL, OK, exit_code, run_checks
from idsync.cli.common import (
    console,
    handle_errors,
    json_option,
    open_store,
    print_json,
    workspace_path,
)
from idsync.cli.root import cli

STYLE = {OK: "green", FAIL: "red"}


@cli.command()
@click.option("--offline", is_flag=True, help="Do not contact the connected directories.")
@json_option
@click.pass_context
@handle_errors
def doctor(ctx: click.Context, offline: bool, as_json: bool) -> None:
    """Validate the installation: connectors reachable and bound, schema attributes the rules
    name, rules compile, scheduler state, pending exports and errors, API versions."""
    store = open_store(ctx)
    checks = run_checks(store, str(workspace_path(ctx)), connectivity=not offline)
    if as_json:
        print_json({"ok": exit_code(checks) == 0, "checks": [c.to_dict() for c in checks]})
    else:
        for c in checks:
            style = STYLE.get(c.status, "yellow")
            # One line per check, whatever the terminal's width; names and details are
            # data (DNs, server messages), never markup.
            console.print(Text.assemble((f"{c.status:4}", style), f"  {c.name}: {c.detail}"),
                          highlight=False, soft_wrap=True)
    sys.exit(exit_code(checks))
