"""``idsync connector settings [TYPE]``: every setting of every connector type, from the
schemas that validate them (the page ``docs/settings.md`` is this command's output)."""

from __future__ import annotations

import sys

import click

from idsync.cli.common import handle_errors
from idsync.cli.connector import connector
from idsync.connectors.settings import SCHEMAS
from idsync.connectors.settings.reference import render


@connector.command("settings")
@click.argument("connector_type", metavar="[TYPE]", required=False,
                type=click.Choice(sorted(SCHEMAS)))
@handle_errors
def settings_cmd(connector_type: str | None) -> None:
    """Print the settings reference (Markdown): each setting's value, default and meaning."""
    sys.stdout.write(render(connector_type))
