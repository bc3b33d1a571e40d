"""The ``idsync`` command line: one Click group, one module per command group."""

from __future__ import annotations

import click

from idsync import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="idsync")
@click.option(
    "--workspace",
    envvar="IDSYNC_HOME",
    default="~/.idsync",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Workspace folder holding the database (env IDSYNC_HOME).",
)
@click.pass_context
def cli(ctx: click.Context, workspace: str) -> None:
    """idsync: keep a cloud directory in step with an on-premises directory."""
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = workspace
    from idsync.secrets import redaction

    redaction.install()


def _register() -> None:
    # Each command group lives in its own module and registers itself on ``cli``.
    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(f"idsync.cli.{module}")


COMMAND_MODULES: list[str] = [
    "workspace",
    "connector",
    "run",
    "spaces",
    "history",
    "rules",
    "threshold",
    "limits",
    "exports",
    "demo",
    "expression",
    "scheduler",
    "cycle",
    "serve",
    "db",
    "config",
    "doctor",
    "preview",
    "simulate",
    "writeback",
    "apiversion",
    "secrets",
]


def build() -> click.Group:
    """The ``idsync`` group with every command registered (tests drive this one)."""
    _register()
    return cli


def main() -> None:
    build()(prog_name="idsync")
