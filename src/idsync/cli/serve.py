"""``idsync serve``: run sync cycles on schedule, with the web UI, health and metrics over
HTTP."""

from __future__ import annotations

import ipaddress
import ssl
import sys
from pathlib import Path

import click

from idsync.administration.admin_accounts import has_admins
from idsync.cli.common import console, handle_errors, open_store, workspace_path
from idsync.cli.root import cli
from idsync.errors import ConfigurationError
from idsync.scheduler.logs import configure_json_logging
from idsync.scheduler.service import Service, Tls
from idsync.web.app import install_ui


def _tls(cert: Path | None, key: Path | None) -> Tls | None:
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise ConfigurationError("HTTPS needs both --tls-cert and --tls-key")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigurationError(
            f"cannot serve HTTPS with {cert} and {key}: {exc.strerror or exc}; give a PEM "
            "certificate (with its chain) and its unencrypted PEM private key") from exc
    return Tls(str(cert), str(key))


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address of the web UI, /health and /metrics (keep it on loopback unless "
                   "you serve HTTPS).")
@click.option("--port", default=8765, show_default=True, type=int,
              help="Port of the web UI, /health and /metrics (0: any free port).")
@click.option("--tls-cert", type=click.Path(dir_okay=False, path_type=Path),
              help="Serve HTTPS with this PEM certificate (chain first).")
@click.option("--tls-key", type=click.Path(dir_okay=False, path_type=Path),
              help="The certificate's PEM private key.")
@click.option("--max-cycles", type=int, help="Stop after this many cycles.")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str, port: int, tls_cert: Path | None,
          tls_key: Path | None, max_cycles: int | None) -> None:
    """Run the service: sync cycles on schedule and on request, the web UI, JSON logs on
    stderr, clean stop on SIGTERM (the run in progress finishes first)."""
    tls = _tls(tls_cert, tls_key)
    store = open_store(ctx)  # refuse a folder that is not a workspace, like every command
    try:
        admins = has_admins(store)
    finally:
        store.close()
    configure_json_logging()
    workspace = workspace_path(ctx)
    service = Service(workspace, host=host, port=port, max_cycles=max_cycles, tls=tls,
                      extend_app=lambda app: install_ui(app, workspace, secure=tls is not None))

    def announce() -> None:
        console.print(f"web UI: {service.url}/", highlight=False, soft_wrap=True)
        if not admins:
            console.print("no administrator can sign in yet: create one with "
                          "`idsync admin add NAME` (this workspace), then open the web UI",
                          highlight=False, soft_wrap=True)
        if tls is None and not _loopback(host):
            console.print(f"warning: the web UI on {host} is plain HTTP: passwords and "
                          "session cookies cross the network in clear; serve HTTPS with "
                          "--tls-cert and --tls-key", style="yellow", highlight=False,
                          soft_wrap=True)

    service.on_started = announce
    sys.exit(service.run())
