"""``idsync db backup FILE`` (online), ``idsync db restore FILE`` (service stopped) and
``idsync db migrate --to URL`` (SQLite workspace -> PostgreSQL, service stopped)."""

from __future__ import annotations

import click

from idsync.cli.common import console, handle_errors, open_store, print_json, workspace_path
from idsync.cli.main import cli
from idsync.errors import ConfigurationError
from idsync.locks import live_holders
from idsync.ops.backup import backup, restore
from idsync.scheduler.lock import owner_alive
from idsync.store import Store
from idsync.store.postgres import redact


@cli.group()
def db() -> None:
    """The workspace database: backup, restore, migration to PostgreSQL."""


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


@db.command("migrate")
@click.option("--to", "url", required=True, metavar="URL",
              help="postgresql://user[:password]@host:port/database (an empty database, or a "
                   "schema named with ?options=-csearch_path%3Dname)")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@handle_errors
def migrate_cmd(ctx: click.Context, url: str, as_json: bool) -> None:
    """Copy the workspace's SQLite database to PostgreSQL, every table with its ids, and point
    the workspace at it (workspace.yaml). Stop `idsync serve` first; idsync.db stays as it was."""
    from idsync.store.transfer import migrate_workspace

    path = workspace_path(ctx)
    if (path / "idsync.db").exists():
        current = Store.open(path, migrate=False, database=str(path / "idsync.db"))
        try:
            owner = current.settings.get("service")
            if owner and owner_alive(owner):
                raise ConfigurationError(
                    f"idsync serve is running (pid {owner.get('pid')}); stop it before migrating")
            for running in live_holders(current):
                raise ConfigurationError(f"{running} is running; let it end before migrating")
        finally:
            current.close()
    report = migrate_workspace(path, url)
    if as_json:
        print_json({"target": report.target, "schema_version": report.schema_version,
                    "rows": report.rows, "total": report.total})
        return
    console.print(f"copied {report.total} rows in {len(report.rows)} tables to "
                  f"{redact(url)} (schema version {report.schema_version}); the workspace now "
                  "uses it (workspace.yaml); idsync.db is left as it was")
