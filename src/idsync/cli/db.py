"""``idsync db backup FILE`` (online) and ``idsync db restore FILE`` (service stopped)."""

from __future__ import annotations

import click

from idsync.cli.common import console, handle_errors, open_store, workspace_path
from idsync.cli.main import cli
from idsync.ops.backup import backup, restore


@cli.group()
def db() -> None:
    """The workspace database: backup and restore."""


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
@handle_errors
def backup_cmd(ctx: click.Context, file: str) -> None:
    """Write a consistent copy of the database to FILE, while the service keeps running."""
    path = backup(open_store(ctx), file)
    console.print(f"backup written to {path}")


@db.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.pass_context
@handle_errors
def restore_cmd(ctx: click.Context, file: str) -> None:
    """Replace the database with the backup FILE. Stop `idsync serve` first; the restored
    server continues from the backed-up watermarks."""
    ended = restore(workspace_path(ctx), file)
    console.print(f"database restored from {file}"
                  + (f"; {ended} run(s) in progress at backup time ended" if ended else ""))
