"""``idsync export-deletion-threshold show|set|enable|disable`` (prevent accidental deletes)."""

from __future__ import annotations

import click

from idsync.administration.thresholds import save_deletion_threshold
from idsync.cli.common import console, handle_errors, json_option, open_store, print_json
from idsync.cli.root import cli
from idsync.engine.deletion_limits import deletion_threshold
from idsync.errors import ConfigurationError
from idsync.store import Store


def _save(store: Store, value: dict) -> None:
    save_deletion_threshold(store, enabled=value["enabled"], count=value["count"])


@cli.group("export-deletion-threshold")
def threshold() -> None:
    """Stop an export that would delete this many objects or more (default 500)."""


@threshold.command()
@json_option
@click.pass_context
@handle_errors
def show(ctx: click.Context, as_json: bool) -> None:
    """Show the threshold."""
    value = deletion_threshold(open_store(ctx))
    if as_json:
        print_json(value)
    else:
        console.print(f"enabled: {value['enabled']}  threshold: {value['count']} deletes")


@threshold.command("set")
@click.argument("count", type=int)
@click.pass_context
@handle_errors
def set_(ctx: click.Context, count: int) -> None:
    """Set the threshold (and enable it)."""
    if count < 1:
        raise ConfigurationError("the threshold must be at least 1; use `disable` to turn it off")
    store = open_store(ctx)
    _save(store, {"enabled": True, "count": count})
    console.print(f"export deletion threshold enabled at {count}")


@threshold.command()
@click.option("--count", type=int, help="Also set the threshold.")
@click.pass_context
@handle_errors
def enable(ctx: click.Context, count: int | None) -> None:
    """Enable the threshold."""
    store = open_store(ctx)
    value = deletion_threshold(store)
    _save(store, {"enabled": True, "count": count or value["count"]})
    console.print("export deletion threshold enabled")


@threshold.command()
@click.pass_context
@handle_errors
def disable(ctx: click.Context) -> None:
    """Disable the threshold (every pending delete will be exported)."""
    store = open_store(ctx)
    value = deletion_threshold(store)
    _save(store, {"enabled": False, "count": value["count"]})
    console.print("export deletion threshold disabled")
