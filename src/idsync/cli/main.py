"""The ``idsync`` command: the root group (``root``) with every command group registered. Each
command group lives in its own module and registers itself on ``cli`` when imported, so this
module imports them all; none of them imports this one."""

from __future__ import annotations

import click

from idsync.cli import (  # noqa: F401  (imported for the commands they register)
    admin,
    apiversion,
    audit,
    config,
    connector,
    cycle,
    db,
    demo,
    doctor,
    exports,
    expression,
    history,
    limits,
    objects,
    preview,
    rules,
    run,
    scheduler,
    secrets,
    serve,
    settings,
    simulate,
    spaces,
    threshold,
    workspace,
    writeback,
)
from idsync.cli.root import cli

__all__ = ["build", "cli", "main"]


def build() -> click.Group:
    """The ``idsync`` group with every command registered (tests drive this one)."""
    return cli


def main() -> None:
    build()(prog_name="idsync")
