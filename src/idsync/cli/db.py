"""``idsync db backup FILE`` (online), ``idsync db restore FILE`` (service stopped) and
``idsync db migrate --to URL`` (SQLite workspace -> PostgreSQL, service stopped)."""

from __future__ import annotations

from pathlib import Path

import click

from idsync.administration.backup import backup, restore
from idsync.cli.common import (
    console,
    err_console,
    handle_errors,
    open_store,
    print_json,
    workspace_path,
)
from idsync.cli.root import cli
from idsync.errors import ConfigurationError
from idsync.locks import live_holders
from idsync.scheduler.lock import owner_alive
from idsync.secrets.backups import INCLUDE_KEY_WARNING, add_key, copy_key
from idsync.secrets.keys import KeyRing
from idsync.store import Store
from idsync.store.postgres import redact
from idsync.store.transfer import migrate_workspace


@cli.group()
def db() -> None:
    """The workspace database: backup, restore, migration to PostgreSQL."""


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--include-key", is_flag=True,
              help="Also write the workspace key to FILE.key (keep it apart from the backup).")
@click.pass_context
@handle_errors
def backup_cmd(ctx: click.Context, file: str, include_key: bool) -> None:
    """Write a consistent copy of the database to FILE (0600), while the service keeps
    running. Connector secrets stay sealed in it; the key is not in it."""
    path = backup(open_store(ctx), file)
    console.print(f"backup written to {path}")
    if include_key:
        key = copy_key(KeyRing(workspace_path(ctx)), path)
        err_console.print(INCLUDE_KEY_WARNING.format(key=key), highlight=False, markup=False)


@db.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--key-file", type=click.Path(dir_okay=False, exists=True),
              help="The backup's key (from `db backup --include-key`): added to the "
                   "workspace's key so the backup's secrets open.")
@click.pass_context
@handle_errors
def restore_cmd(ctx: click.Context, file: str, key_file: str | None) -> None:
    """Replace the database with the backup FILE. Stop `idsync serve` first; the restored
    server continues from the backed-up watermarks. Secrets the workspace key cannot open
    are named: enter them again with `idsync connector set NAME --secret KEY`."""
    ring = KeyRing(workspace_path(ctx))
    if key_file:
        add_key(ring, Path(key_file))
    ended = restore(workspace_path(ctx), file)
    console.print(f"database restored from {file}"
                  + (f"; {ended} run(s) in progress at backup time ended" if ended else ""))
    lost = [s for s in open_store(ctx).secrets.status() if not s.readable]
    for connector in sorted({s.connector for s in lost}):
        names = [s.name for s in lost if s.connector == connector]
        err_console.print(
            f"warning: connector {connector}: secret(s) {', '.join(names)} cannot be decrypted "
            f"with {ring.describe()} (restored without the backup's key): enter them again "
            f"with `idsync connector set {connector} "
            + " ".join(f"--secret {n}" for n in names) + "`", highlight=False, markup=False)


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
