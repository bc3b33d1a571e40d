"""``idsync config export DIR`` / ``idsync config import DIR`` (swing migration, rebuild)."""

from __future__ import annotations

from typing import Any

import click

from idsync.administration.config_io import export_config, import_config
from idsync.cli.common import console, handle_errors, open_store
from idsync.cli.root import cli
from idsync.cli.secret_input import passphrase_option, read_secrets, secret_options
from idsync.errors import ConfigurationError

PASSPHRASE = passphrase_option(
    "--secrets-passphrase", "IDSYNC_CONFIG_PASSPHRASE",
    "Encrypt (export) or decrypt (import) connector secrets with a passphrase, typed at a "
    "hidden prompt or taken from IDSYNC_CONFIG_PASSPHRASE. Without it the export leaves "
    "secrets out.")


@cli.group()
def config() -> None:
    """Server configuration as readable files."""


@config.command("export")
@click.argument("folder", type=click.Path(file_okay=False))
@PASSPHRASE
@click.pass_context
@handle_errors
def export_cmd(ctx: click.Context, folder: str, secrets_passphrase: str | None) -> None:
    """Write connectors, sync rules, scheduler settings and API versions to FOLDER."""
    out = export_config(open_store(ctx), folder, passphrase=secrets_passphrase)
    console.print(f"configuration exported to {out}"
                  + ("" if secrets_passphrase else " (secrets left out)"))


@config.command("import")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@PASSPHRASE
@secret_options("CONNECTOR.KEY")
@click.option("--api-version", type=click.Choice(["1", "2"]),
              help="Set the cloud connectors' sync API version (export and import).")
@click.pass_context
@handle_errors
def import_cmd(ctx: click.Context, folder: str, secrets_passphrase: str | None,
               api_version: str | None, **secret_input: Any) -> None:
    """Apply an exported configuration to this (new) workspace, with staging mode on.
    Secrets the export left out are given as CONNECTOR.KEY (e.g. --secret-env
    corp.password=CORP_PASSWORD)."""
    secrets: dict[str, dict[str, str]] = {}
    for target, value in read_secrets(**secret_input).items():
        connector, dot, key = target.partition(".")
        if not dot or not connector or not key:
            raise ConfigurationError(f"secret {target!r} is not named CONNECTOR.KEY")
        secrets.setdefault(connector, {})[key] = value
    versions = ({"export_api_version": int(api_version), "import_api_version": int(api_version)}
                if api_version else None)
    done = import_config(open_store(ctx, must_exist=False), folder,
                         passphrase=secrets_passphrase, secrets=secrets, api_versions=versions)
    console.print(f"imported {len(done['connectors'])} connector(s) and {done['rules']} rule(s); "
                  "staging mode is on: review `idsync export preview CONNECTOR`, then "
                  "`idsync scheduler set --staging-mode false` on this server")
