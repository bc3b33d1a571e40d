"""``idsync connector list|show|add|set``."""

from __future__ import annotations

from typing import Any

import click

from idsync.administration.audit import AuditAction, changed_fields, record_change, secret_changes
from idsync.administration.cleartext import warn_cleartext
from idsync.administration.simulation import changes_scope
from idsync.cli.common import (
    console,
    handle_errors,
    json_option,
    open_store,
    parse_assignments,
    print_json,
    print_table,
    workspace_path,
)
from idsync.cli.root import cli
from idsync.cli.secret_input import read_secrets, secret_options
from idsync.cli.simulate import apply_guarded, confirm_option
from idsync.connectors import registry
from idsync.connectors.base import SchemaProvider
from idsync.connectors.settings import validate as validate_settings
from idsync.errors import ConfigurationError
from idsync.events import EventId
from idsync.model import ConnectorRecord
from idsync.store import Store

SECRET_MASK = "********"


def connector_dict(store: Store, c: ConnectorRecord) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "type": c.type,
        "settings": c.settings,
        "secrets": {k: SECRET_MASK for k in c.secrets}
                   | {k: "(cannot be decrypted)" for k in c.unreadable_secrets},
        "watermark": c.watermark,
        "full_import_required": c.full_import_required,
        "full_sync_required": c.full_sync_required,
        "objects": store.cs.count(c.id),
        "pending_import": store.cs.count(c.id, pending_only=True),
        "pending_export": store.exports.count(c.id),
        "errors": store.errors.count(c.id),
    }


def validate_connector(record: ConnectorRecord, workspace: str) -> None:
    """Check the settings against the type's schema, then build the connector once (no
    connection is made) so bad settings and missing secrets fail now, before anything is
    stored."""
    validate_settings(record.type, record.settings)
    instance = registry.create(record, workspace)
    instance.close()


@cli.group()
def connector() -> None:
    """Connectors: the links to connected directories."""


@connector.command("list")
@json_option
@click.pass_context
@handle_errors
def list_(ctx: click.Context, as_json: bool) -> None:
    """List connectors with their object and pending counts."""
    store = open_store(ctx)
    rows = [connector_dict(store, c) for c in store.connectors.list()]
    if as_json:
        print_json(rows)
        return
    print_table("Connectors", ["name", "type", "objects", "pending import", "pending export",
                               "errors", "full import req.", "full sync req."],
                [[r["name"], r["type"], r["objects"], r["pending_import"], r["pending_export"],
                  r["errors"], r["full_import_required"], r["full_sync_required"]] for r in rows])


@connector.command()
@click.argument("name")
@json_option
@click.pass_context
@handle_errors
def show(ctx: click.Context, name: str, as_json: bool) -> None:
    """Show one connector's settings (secrets masked), watermark and counts."""
    store = open_store(ctx)
    data = connector_dict(store, store.connectors.get(name))
    if as_json:
        print_json(data)
        return
    print_table(f"Connector {name}", ["field", "value"], [[k, v] for k, v in data.items()])


@connector.command()
@click.argument("name")
@click.option("--type", "type_", required=True, type=click.Choice(sorted(
    registry.CONNECTOR_TYPES)), help="Connector type.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="A setting (value in YAML: lists as [a, b]). Repeatable.")
@secret_options()
@json_option
@click.pass_context
@handle_errors
def add(ctx: click.Context, name: str, type_: str, settings: tuple[str, ...],
        as_json: bool, **secret_input: Any) -> None:
    """Add a connector. Secrets (e.g. the LDAP bind password) are sealed with the workspace
    key and never printed."""
    store = open_store(ctx)
    values = parse_assignments(settings)
    secret_values = read_secrets(**secret_input)
    probe = ConnectorRecord(id=0, name=name, type=type_, settings=values,
                            secrets=secret_values, watermark=None, full_import_required=True,
                            full_sync_required=True)
    validate_connector(probe, str(workspace_path(ctx)))
    warn_cleartext(probe)
    with store.transaction():
        record = store.connectors.add(name, type_, values, secret_values)
        store.events.add(int(EventId.CONNECTOR_CHANGED), "information",
                         f"connector {name} ({type_}) added", connector_id=record.id)
        record_change(store, AuditAction.CONNECTOR_ADD, name, None,
                      {"type": type_, "settings": values,
                       "secrets": secret_changes({}, secret_values)[1]})
    if as_json:
        print_json(connector_dict(store, record))
    else:
        console.print(f"connector {name} added ({type_})")


@connector.command("set")
@click.argument("name")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE")
@click.option("--unset", "unset", multiple=True, metavar="KEY")
@secret_options()
@confirm_option
@click.pass_context
@handle_errors
def set_(ctx: click.Context, name: str, settings: tuple[str, ...], unset: tuple[str, ...],
         confirm: bool, **secret_input: Any) -> None:
    """Change a connector's settings or secrets. A change of settings marks a full import as
    required; a change of scope (partitions, containers, object types...) is previewed first
    and held if it would delete more than the deletion limit allows."""
    store = open_store(ctx)
    record = store.connectors.get(name)
    new_settings = dict(record.settings)
    new_settings.update(parse_assignments(settings))
    for key in unset:
        if key not in new_settings:
            raise ConfigurationError(f"connector {name} has no setting {key!r}")
        new_settings.pop(key)
    given = read_secrets(**secret_input)
    new_secrets = dict(record.secrets)
    new_secrets.update(given)
    probe = ConnectorRecord(id=record.id, name=name, type=record.type, settings=new_settings,
                            secrets=new_secrets, watermark=record.watermark,
                            full_import_required=True, full_sync_required=True,
                            unreadable_secrets=tuple(k for k in record.unreadable_secrets
                                                     if k not in given))
    validate_connector(probe, str(workspace_path(ctx)))

    def change() -> None:
        with store.transaction():
            store.connectors.update(record.id, settings=new_settings, secrets=new_secrets)
            if new_settings != record.settings:
                store.connectors.set_required(record.id, full_import=True)
            store.events.add(int(EventId.CONNECTOR_CHANGED), "information",
                             f"connector {name} changed: "
                             + ", ".join(sorted(set(parse_assignments(settings)) | set(unset)
                                                | {f"secret {k}" for k in given})),
                             connector_id=record.id)
            old, new = changed_fields(record.settings, new_settings)
            old_secrets, new_secrets_named = secret_changes(record.secrets, new_secrets)
            if old_secrets or new_secrets_named:
                old["secrets"], new["secrets"] = old_secrets, new_secrets_named
            record_change(store, AuditAction.CONNECTOR_SET, name, old, new)

    if changes_scope(record.settings, new_settings):
        apply_guarded(ctx, store, f"connector set {name}", change, confirm)
    else:
        change()
    console.print(f"connector {name} updated")


@connector.command()
@click.argument("name")
@click.option("--object-type", help="Only this object type (or LDAP object class).")
@json_option
@click.pass_context
@handle_errors
def schema(ctx: click.Context, name: str, object_type: str | None, as_json: bool) -> None:
    """List the object types and attributes the connected directory's schema declares (for
    LDAP: the server's subschema), so rules can be checked against it."""
    store = open_store(ctx)
    record = store.connectors.get(name)
    instance = registry.create(record, str(workspace_path(ctx)))
    try:
        if not isinstance(instance, SchemaProvider):
            raise ConfigurationError(f"connector {name} ({record.type}) publishes no schema")
        found = instance.schema()
    finally:
        instance.close()
    types = {t: attrs for t, attrs in sorted(found.object_types.items())
             if not object_type or t.lower() == object_type.lower()}
    if object_type and not types:
        raise ConfigurationError(f"the schema of {name} has no object type {object_type!r}")
    if as_json:
        print_json({t: [{"name": a.name, "multivalued": a.multivalued,
                         "reference": a.reference, "binary": a.binary} for a in attrs]
                    for t, attrs in types.items()})
        return
    for t, attrs in types.items():
        print_table(f"{name}: {t}", ["attribute", "multi-valued", "reference", "binary"],
                    [[a.name, a.multivalued, a.reference, a.binary] for a in attrs])
