"""``idsync init``: create a workspace (the folder holding the database)."""

from __future__ import annotations

import click

from idsync.cli.common import console, handle_errors, open_store, print_json, workspace_path
from idsync.cli.root import cli
from idsync.store import Store, workspace_exists, write_workspace_config


@cli.command()
@click.option("--database", metavar="URL", default=None,
              help="Keep the workspace's data in PostgreSQL (postgresql://user@host:port/db) "
                   "instead of the SQLite file idsync.db; written to workspace.yaml.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@handle_errors
def init(ctx: click.Context, database: str | None, as_json: bool) -> None:
    """Create the workspace and its database (or upgrade an existing one's schema)."""
    path = workspace_path(ctx)
    existed = workspace_exists(path)
    if database:
        Store.open(path, database=database).close()  # reachable and migrated before it is named
        write_workspace_config(path, database)
    store = open_store(ctx, must_exist=False)
    version = store.db.schema_version()
    if as_json:
        print_json({"workspace": str(path), "schema_version": version, "created": not existed})
        return
    verb = "uses" if existed else "created"
    console.print(f"workspace {path} {verb} schema version {version}")
