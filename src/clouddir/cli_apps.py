"""``clouddir app create`` and ``clouddir app list``: app registrations, whose client
credentials (a secret or a certificate) get access tokens from the tenant's token endpoint."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from clouddir.apps import BadCertificate, create_app
from clouddir.storage import Store, StoreError, open_store

DEFAULT_DB = "sqlite:///clouddir.db"
DB_HELP = "Database URL: sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST:PORT/DB."


def _open_tenant(db_url: str, tenant_id: str) -> Store:
    try:
        store = open_store(db_url)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    if not store.tenant_exists(tenant_id):
        store.close()
        raise click.ClickException(f"no tenant {tenant_id!r}; `clouddir tenant create` prints "
                                   "the ids")
    return store


@click.group("app")
def app_group() -> None:
    """Manage app registrations (client credentials for the OAuth token endpoint)."""


@app_group.command("create")
@click.argument("tenant_id")
@click.option("--name", required=True, help="The app's display name.")
@click.option("--db", "db_url", envvar="CLOUDDIR_DB", default=DEFAULT_DB, show_default=True,
              help=DB_HELP)
@click.option("--secret-file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the client secret to this new file (mode 0600) instead of printing "
                   "it.")
@click.option("--certificate", "certificate_file",
              type=click.Path(exists=True, dir_okay=False, readable=True), default=None,
              help="Register this public certificate (PEM, RSA key): the app then "
                   "authenticates with assertions signed by its private key. Without "
                   "--secret-file no secret is made.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {client_id, tenant_id, thumbprint[, secret]} as JSON.")
def app_create(tenant_id: str, name: str, db_url: str, secret_file: str | None,
               certificate_file: str | None, as_json: bool) -> None:
    """Register an app in a tenant and print its client id and secret (shown once; stored
    hashed) or its certificate's thumbprint."""
    if secret_file is not None and os.path.lexists(secret_file):
        raise click.ClickException(f"{secret_file} exists: name a new file for the secret (it "
                                   "is written once, mode 0600)")
    pem = Path(certificate_file).read_bytes() if certificate_file else None
    with_secret = certificate_file is None or secret_file is not None
    store = _open_tenant(db_url, tenant_id)
    try:
        app, secret = create_app(store, tenant_id, name, with_secret, pem)
    except BadCertificate as exc:
        raise click.ClickException(f"{certificate_file}: {exc}") from exc
    finally:
        store.close()
    thumbprint = app.certificates[0].thumbprint if app.certificates else None
    shown: dict[str, str | None] = {"client_id": app.client_id, "tenant_id": tenant_id,
                                    "thumbprint": thumbprint}
    if secret is not None and secret_file is not None:
        # O_EXCL: never through a file (or symlink) someone put there; 0600 from the start.
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secret + "\n")
        shown["secret_file"] = secret_file
    elif secret is not None:
        shown["secret"] = secret
    if as_json:
        click.echo(json.dumps(shown))
    else:
        for key, value in shown.items():
            if value is not None:
                click.echo(f"{key + ':':<12} {value}")


@app_group.command("list")
@click.argument("tenant_id")
@click.option("--db", "db_url", envvar="CLOUDDIR_DB", default=DEFAULT_DB, show_default=True,
              help=DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def app_list(tenant_id: str, db_url: str, as_json: bool) -> None:
    """List a tenant's apps: client id, name, how many secrets, certificate thumbprints."""
    store = _open_tenant(db_url, tenant_id)
    try:
        apps = store.apps_of(tenant_id)
    finally:
        store.close()
    rows = [{"client_id": a.client_id, "name": a.name, "secrets": len(a.secret_hashes),
             "thumbprints": [c.thumbprint for c in a.certificates]} for a in apps]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        thumbprints = ",".join(row["thumbprints"]) or "-"  # type: ignore[arg-type]
        click.echo(f"{row['client_id']}  secrets: {row['secrets']}  certificates: "
                   f"{thumbprints}  {row['name']}")
