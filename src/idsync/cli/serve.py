"""``idsync serve``: run sync cycles on schedule, with health and metrics over HTTP."""

from __future__ import annotations

import sys

import click

from idsync.cli.common import handle_errors, open_store, workspace_path
from idsync.cli.root import cli
from idsync.scheduler.logs import configure_json_logging
from idsync.scheduler.service import Service


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address of the health and metrics endpoint (keep it on loopback).")
@click.option("--port", default=8765, show_default=True, type=int,
              help="Port of /health and /metrics (0: any free port).")
@click.option("--max-cycles", type=int, help="Stop after this many cycles.")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str, port: int, max_cycles: int | None) -> None:
    """Run the service: sync cycles on schedule and on request, JSON logs on stderr, clean
    stop on SIGTERM (the run in progress finishes first)."""
    open_store(ctx).close()  # refuse a folder that is not a workspace, like every command
    configure_json_logging()
    sys.exit(Service(workspace_path(ctx), host=host, port=port, max_cycles=max_cycles).run())
