"""``idsync rules list|show|export|import|enable|disable|delete``."""

from __future__ import annotations

import click
import yaml

from idsync.cli.common import (
    console,
    handle_errors,
    json_option,
    open_store,
    print_json,
    print_table,
)
from idsync.cli.main import cli
from idsync.rules import admin
from idsync.rules.files import load_rules, write_rules


@cli.group()
def rules() -> None:
    """Sync rules: scope, join, transformations and precedence."""


@rules.command("list")
@click.option("--connector", help="Only this connector's rules.")
@click.option("--direction", type=click.Choice(["inbound", "outbound"]))
@json_option
@click.pass_context
@handle_errors
def list_(ctx: click.Context, connector: str | None, direction: str | None,
          as_json: bool) -> None:
    """List rules by precedence."""
    store = open_store(ctx)
    found = [r for r in store.rules.list()
             if (not connector or r.connector == connector)
             and (not direction or r.direction.value == direction)]
    if as_json:
        print_json([{"id": r.id, **r.to_dict()} for r in found])
        return
    print_table("Sync rules", ["precedence", "name", "direction", "connector", "cs type",
                               "mv type", "link", "disabled", "reserved"],
                [[r.precedence, r.name, r.direction.value, r.connector, r.cs_object_type,
                  r.mv_object_type, r.link_type.value, r.disabled, r.reserved] for r in found])


@rules.command()
@click.argument("name")
@json_option
@click.pass_context
@handle_errors
def show(ctx: click.Context, name: str, as_json: bool) -> None:
    """Show one rule in full (as YAML, or JSON)."""
    rule = open_store(ctx).rules.get(name)
    if as_json:
        print_json({"id": rule.id, **rule.to_dict()})
    else:
        click.echo(yaml.safe_dump(rule.to_dict(), sort_keys=False, allow_unicode=True,
                                  width=100))


@rules.command("export")
@click.argument("path", type=click.Path())
@click.option("--connector", help="Only this connector's rules.")
@click.pass_context
@handle_errors
def export_(ctx: click.Context, path: str, connector: str | None) -> None:
    """Write rules as YAML: one file per rule into a folder, or one file if PATH ends in
    .yaml."""
    store = open_store(ctx)
    found = [r for r in store.rules.list() if not connector or r.connector == connector]
    written = write_rules(found, path)
    console.print(f"{len(found)} rule(s) written to {len(written)} file(s) under {path}")


@rules.command("import")
@click.argument("path", type=click.Path(exists=True))
@click.pass_context
@handle_errors
def import_(ctx: click.Context, path: str) -> None:
    """Add or replace rules from a YAML file or folder. Every rule is validated (expressions
    compiled, connectors checked) before any is saved; the connectors of changed rules are
    marked for a full synchronization."""
    store = open_store(ctx)
    saved = admin.save_rules(store, load_rules(path))
    console.print(f"{len(saved)} rule(s) imported; full synchronization required on: "
                  + ", ".join(sorted({r.connector for r in saved})))


@rules.command()
@click.argument("name")
@click.pass_context
@handle_errors
def enable(ctx: click.Context, name: str) -> None:
    """Enable a rule."""
    admin.set_disabled(open_store(ctx), name, False)
    console.print(f"rule {name!r} enabled")


@rules.command()
@click.argument("name")
@click.pass_context
@handle_errors
def disable(ctx: click.Context, name: str) -> None:
    """Disable a rule (out-of-box rules too)."""
    admin.set_disabled(open_store(ctx), name, True)
    console.print(f"rule {name!r} disabled")


@rules.command()
@click.argument("name")
@click.pass_context
@handle_errors
def delete(ctx: click.Context, name: str) -> None:
    """Delete a rule (not an out-of-box one: disable those)."""
    admin.delete_rule(open_store(ctx), name)
    console.print(f"rule {name!r} deleted")
