"""``clouddir serve`` and ``clouddir tenant create`` (``clouddir app``: clouddir.cli_apps)."""

from __future__ import annotations

import json
import os
import ssl
import sys
from typing import Any

import click
import uvicorn

from clouddir.app import create_app
from clouddir.auth import create_tenant
from clouddir.cli_apps import app_group
from clouddir.settings import limits_from_env
from clouddir.storage import Store, StoreError, open_store

DEFAULT_DB = "sqlite:///clouddir.db"
DB_HELP = "Database URL: sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST:PORT/DB."


def _open(db_url: str, pool_size: int | None = None) -> Store:
    """The store, or a one-line error (bad scheme, unreachable server) instead of a traceback."""
    try:
        return open_store(db_url, pool_size)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc


class _Group(click.Group):
    """Whatever a command did not handle ends as one line on stderr and exit 1, never as a
    traceback (``clouddir --debug`` shows it)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit,
                click.exceptions.Abort, SystemExit):
            raise
        except Exception as exc:
            if (isinstance(ctx.obj, dict) and ctx.obj.get("debug")) or os.environ.get(
                    "CLOUDDIR_DEBUG", "") not in ("", "0"):
                raise
            text = " ".join(str(exc).split())
            sys.stderr.write(f"Error: {type(exc).__name__}: {text}; run again with "
                             "`clouddir --debug` for the traceback\n")
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, envvar="CLOUDDIR_DEBUG",
              help="Show the traceback of a failure (env CLOUDDIR_DEBUG=1).")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """clouddir: the cloud directory idsync syncs to."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--db", "db_url", envvar="CLOUDDIR_DB", default=DEFAULT_DB, show_default=True,
              help=DB_HELP)
@click.option("--db-pool-size", envvar="CLOUDDIR_DB_POOL_SIZE", type=click.IntRange(1, 100),
              default=None, help="PostgreSQL: connections at most (default 4).")
@click.option("--limit", "limit_values", multiple=True, metavar="NAME=VALUE",
              help="Override a service limit, e.g. --limit v1_member_limit=500 "
                   "(also CLOUDDIR_<NAME> in the environment).")
@click.option("--log-level", default="warning", show_default=True)
@click.option("--tls-cert", type=click.Path(dir_okay=False), default=None,
              help="Serve HTTPS with this certificate (PEM, with its chain); needs --tls-key.")
@click.option("--tls-key", type=click.Path(dir_okay=False), default=None,
              help="The private key (PEM) of --tls-cert.")
def serve(host: str, port: int, db_url: str, db_pool_size: int | None,
          limit_values: tuple[str, ...], log_level: str, tls_cert: str | None,
          tls_key: str | None) -> None:
    """Serve the sync API, the admin API and the OAuth endpoints over HTTP (HTTPS with
    --tls-cert and --tls-key: MSAL only talks to an HTTPS authority)."""
    _check_tls(tls_cert, tls_key)
    overrides: dict[str, str] = {}
    for item in limit_values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--limit")
        overrides[name] = value
    try:
        limits = limits_from_env().updated(overrides)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--limit") from exc
    app = create_app(_open(db_url, db_pool_size), limits)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False,
                ssl_certfile=tls_cert, ssl_keyfile=tls_key)


def _check_tls(cert: str | None, key: str | None) -> None:
    """Both files or neither, and loadable: one line now rather than uvicorn's traceback."""
    if (cert is None) != (key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if cert is None or key is None:
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise click.ClickException(f"cannot use the TLS certificate {cert} with the key "
                                   f"{key}: {reason}") from exc


@main.group()
def tenant() -> None:
    """Manage tenants."""


@tenant.command("create")
@click.argument("name")
@click.option("--db", "db_url", envvar="CLOUDDIR_DB", default=DEFAULT_DB, show_default=True,
              help=DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print {tenant_id, token} as JSON.")
@click.option("--max-objects", type=click.IntRange(0, 10**12), default=None,
              help="The tenant's object quota (default: the server's max_objects limit, "
                   "300,000).")
@click.option("--max-bytes", type=click.IntRange(0, 10**15), default=None,
              help="The tenant's storage quota in bytes (default: the server's "
                   "max_tenant_bytes limit, 2 GiB).")
@click.option("--token-file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the token to this new file (mode 0600) instead of printing it: "
                   "idsync reads it with `connector add ... --secret-file token=PATH`.")
def tenant_create(name: str, db_url: str, as_json: bool, max_objects: int | None,
                  max_bytes: int | None, token_file: str | None) -> None:
    """Create a tenant and print its id and bearer token (shown once; stored hashed)."""
    if token_file is not None and os.path.lexists(token_file):
        raise click.ClickException(f"{token_file} exists: name a new file for the token "
                                   "(it is written once, mode 0600)")
    store = _open(db_url)
    created, token = create_tenant(store, name)
    if max_objects is not None:
        store.set_max_objects(created.id, max_objects)
    if max_bytes is not None:
        store.set_max_bytes(created.id, max_bytes)
    store.close()
    if token_file is not None:
        # O_EXCL: never through a file (or symlink) someone put there; 0600 from the start.
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(token + "\n")
        shown = {"tenant_id": created.id, "token_file": token_file}
        click.echo(json.dumps(shown) if as_json else f"tenant_id: {created.id}")
    elif as_json:
        click.echo(json.dumps({"tenant_id": created.id, "token": token}))
    else:
        click.echo(f"tenant_id: {created.id}{os.linesep}token:     {token}")


@tenant.command("quota")
@click.argument("tenant_id")
@click.option("--db", "db_url", envvar="CLOUDDIR_DB", default=DEFAULT_DB, show_default=True,
              help=DB_HELP)
@click.option("--max-objects", type=click.IntRange(0, 10**12), default=None,
              help="Set the tenant's object quota.")
@click.option("--max-bytes", type=click.IntRange(0, 10**15), default=None,
              help="Set the tenant's storage quota in bytes.")
@click.option("--default", "use_default", is_flag=True,
              help="Drop the tenant's own quotas: the server's max_objects and "
                   "max_tenant_bytes apply.")
@click.option("--recount", is_flag=True,
              help="Recount the bytes used from the objects and members (exact; the "
                   "counter is kept by every write, this is for a doubt).")
def tenant_quota(tenant_id: str, db_url: str, max_objects: int | None, max_bytes: int | None,
                 use_default: bool, recount: bool) -> None:
    """Show or set a tenant's object and storage quotas (creates past the object quota and
    writes that grow the tenant past the storage quota are refused with
    Directory_QuotaExceeded; reads, deletes and shrinking updates go on)."""
    store = _open(db_url)
    try:
        if not store.tenant_exists(tenant_id):
            raise click.ClickException(f"no tenant {tenant_id!r}; `clouddir tenant create` "
                                       f"prints the ids")
        if max_objects is not None or use_default:
            store.set_max_objects(tenant_id, None if use_default else max_objects)
        if max_bytes is not None or use_default:
            store.set_max_bytes(tenant_id, None if use_default else max_bytes)
        if recount or store.storage_usage(tenant_id)[0] is None:
            store.recount_bytes(tenant_id)
        own = store.tenant_max_objects(tenant_id)
        used = store.object_count(tenant_id)
        used_bytes, own_bytes = store.storage_usage(tenant_id)
    finally:
        store.close()
    quota = str(own) if own is not None else "server default (max_objects limit)"
    bytes_quota = (str(own_bytes) if own_bytes is not None
                   else "server default (max_tenant_bytes limit)")
    click.echo(f"objects: {used}{os.linesep}quota:   {quota}{os.linesep}"
               f"bytes:   {used_bytes}{os.linesep}bytes quota: {bytes_quota}")


main.add_command(app_group)

if __name__ == "__main__":
    main()
