"""``idsync secrets list|rotate-key|new-key``: the sealed connector secrets and their key."""

from __future__ import annotations

import click

from idsync.administration.audit import AuditAction, record_change
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
from idsync.events import EventId
from idsync.secrets.keys import KeyRing, new_key
from idsync.secrets.rotation import rotate_key


@cli.group()
def secrets() -> None:
    """Connector secrets: sealed with the workspace key, kept apart from the database."""


@secrets.command("list")
@json_option
@click.pass_context
@handle_errors
def list_(ctx: click.Context, as_json: bool) -> None:
    """Each connector's secrets by name (never their values) and whether the workspace key
    opens them."""
    store = open_store(ctx)
    ring = KeyRing(workspace_path(ctx))
    rows = store.secrets.status()
    if as_json:
        print_json({"key": ring.describe(),
                    "secrets": [{"connector": s.connector, "name": s.name,
                                 "decryptable": s.readable} for s in rows]})
        return
    print_table(f"Secrets (key: {ring.describe()})", ["connector", "secret", "decryptable"],
                [[s.connector, s.name, "yes" if s.readable else "no"] for s in rows])
    unreadable = [s for s in rows if not s.readable]
    if unreadable:
        names = ", ".join(f"{s.connector}.{s.name}" for s in unreadable)
        err_console.print(
            f"warning: {names} cannot be decrypted with {ring.describe()}: provide the key "
            "that sealed them (IDSYNC_KEY or IDSYNC_KEY_FILE) or enter them again with "
            "`idsync connector set CONNECTOR --secret NAME`", highlight=False, markup=False)


@secrets.command("rotate-key")
@click.pass_context
@handle_errors
def rotate_key_cmd(ctx: click.Context) -> None:
    """Seal every secret under a new workspace key and retire the old one (safe to run while
    the service runs; a crash midway loses nothing: run it again)."""
    store = open_store(ctx)
    ring = KeyRing(workspace_path(ctx))
    result = rotate_key(store, ring)
    with store.transaction():
        store.events.add(int(EventId.CONNECTOR_CHANGED), "information",
                         f"workspace key rotated: {result.resealed} secret(s) sealed again")
        record_change(store, AuditAction.SECRETS_ROTATE_KEY, "workspace key", None,
                      {"resealed": result.resealed})
    console.print(f"{result.resealed} secret(s) sealed again under a new key in "
                  f"{ring.describe()}", highlight=False)
    if result.source.value == "environment":
        console.print("now set IDSYNC_KEY to the new key alone (its first entry)",
                      highlight=False)
    if result.unreadable:
        err_console.print(f"warning: {', '.join(result.unreadable)} could not be decrypted and "
                          "were left as they were; enter them again with `idsync connector "
                          "set CONNECTOR --secret NAME`", highlight=False, markup=False)


@secrets.command("new-key")
def new_key_cmd() -> None:
    """Print a new key (for IDSYNC_KEY or a key file named by IDSYNC_KEY_FILE)."""
    click.echo(new_key().decode("ascii"))
