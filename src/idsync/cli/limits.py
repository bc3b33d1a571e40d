"""``idsync deletion-limit``, ``idsync member-removal-limit``, ``idsync attribute-change-limit``:
the limits the data-safety guards apply, per connector (and object type)."""

from __future__ import annotations

from typing import Any

import click

from idsync.administration.audit import AuditAction
from idsync.administration.thresholds import (
    reset_deletion_limit,
    reset_share_limit,
    set_default_deletion_percent,
    set_deletion_limit,
    set_share_limit,
)
from idsync.cli.common import console, handle_errors, json_option, open_store, print_json
from idsync.cli.root import cli
from idsync.engine import deletion_limits, import_guards, member_removals
from idsync.engine.share_limits import ShareLimitSetting

# --- deletion limits -----------------------------------------------------------------------

@cli.group("deletion-limit")
def deletion_limit() -> None:
    """Stop an export (or a full import) that would delete too many objects of one type: a
    count, or a percentage of the connector space's objects of that type. Without a limit of
    its own a type has the default: the export deletion threshold's count (500) or 20% of the
    objects once 50 deletes are held."""


@deletion_limit.command("show")
@click.argument("connector", required=False)
@json_option
@click.pass_context
@handle_errors
def show(ctx: click.Context, connector: str | None, as_json: bool) -> None:
    """The default and each connector's limits, with the objects each type holds now."""
    store = open_store(ctx)
    default = deletion_limits.server_default(store)
    records = [store.connectors.get(connector)] if connector else store.connectors.list()
    rows: list[dict[str, Any]] = []
    for record in records:
        objects = store.guards.objects_by_type(record.id)
        for t in sorted(set(objects) | set(deletion_limits.configured(store).get(
                record.name, {}))):
            name = None if t == deletion_limits.ALL_TYPES else t
            limit = deletion_limits.limit_for(store, record.name, name or "")
            rows.append({"connector": record.name, "object_type": t,
                         "objects": objects.get(t, 0) if name else sum(objects.values()),
                         "limit": limit.to_dict() if limit else None})
    if as_json:
        print_json({"default": default.to_dict() if default else None, "limits": rows})
        return
    console.print("default: " + (default.describe() if default else
                                 "off (idsync export-deletion-threshold enable)"),
                  highlight=False)
    for r in rows:
        lim = r["limit"]
        text = "none" if lim is None else deletion_limits.DeletionLimit(
            lim["count"], lim["percent"], lim["floor"],
            deletion_limits.LimitSource(lim["source"])).describe() + f" ({lim['source']})"
        what = "each object type" if r["object_type"] == deletion_limits.ALL_TYPES \
            else r["object_type"]
        console.print(f"{r['connector']} {what} ({r['objects']} objects): {text}",
                      highlight=False)


@deletion_limit.command("set")
@click.argument("connector")
@click.option("--object-type", help="Only this object type (default: each type of the "
                                     "connector without a limit of its own).")
@click.option("--count", type=int, help="Stop at this many deletes.")
@click.option("--percent", type=float, help="Stop above this share of the type's objects.")
@click.option("--floor", type=int,
              help="The percentage applies from this many deletes (default 1).")
@click.pass_context
@handle_errors
def set_(ctx: click.Context, connector: str, object_type: str | None, count: int | None,
         percent: float | None, floor: int | None) -> None:
    """Set a connector's limit (for one object type, or all of them)."""
    store = open_store(ctx)
    limit = set_deletion_limit(store, connector, object_type, count=count, percent=percent,
                               floor=floor)
    what = f"{store.connectors.get(connector).name} {object_type or 'each object type'}"
    console.print(f"deletion limit of {what}: {limit.describe()}", highlight=False)


@deletion_limit.command("set-default")
@click.option("--percent", type=float, required=True,
              help="Stop above this share of a type's objects.")
@click.option("--floor", type=int, default=deletion_limits.DEFAULT_FLOOR, show_default=True,
              help="The percentage applies from this many deletes.")
@click.pass_context
@handle_errors
def set_default(ctx: click.Context, percent: float, floor: int) -> None:
    """Set the default's percentage (its count is `idsync export-deletion-threshold set N`)."""
    set_default_deletion_percent(open_store(ctx), percent, floor)
    console.print(f"default deletion limit: {percent:g}% of a type's objects, from {floor} "
                  "deletes, or the export deletion threshold's count", highlight=False)


@deletion_limit.command("reset")
@click.argument("connector")
@click.option("--object-type", help="Only this object type's limit.")
@click.pass_context
@handle_errors
def reset(ctx: click.Context, connector: str, object_type: str | None) -> None:
    """Remove a connector's own limit (the default applies again)."""
    store = open_store(ctx)
    record = store.connectors.get(connector)
    reset_deletion_limit(store, connector, object_type)
    console.print(f"deletion limit of {record.name} {object_type or 'each object type'} "
                  "reset to the default", highlight=False)


# --- member removals -----------------------------------------------------------------------

@cli.group("member-removal-limit")
def member_removal_limit() -> None:
    """Hold a group's export when it would remove more than a share of its members (default:
    50% of groups holding at least 20); `idsync exports allow-member-removals` lets one
    through."""


@member_removal_limit.command("show")
@click.argument("connector")
@json_option
@click.pass_context
@handle_errors
def mr_show(ctx: click.Context, connector: str, as_json: bool) -> None:
    store = open_store(ctx)
    record = store.connectors.get(connector)
    limit = member_removals.limit_of(store, record.name)
    if as_json:
        print_json(limit.to_dict() if limit else None)
    else:
        console.print(f"{record.name}: " + (f"{limit.percent:g}% of groups holding at least "
                                            f"{limit.minimum} members" if limit else "off"))


# --- attribute changes on import -----------------------------------------------------------

@cli.group("attribute-change-limit")
def attribute_change_limit() -> None:
    """Hold an import before synchronization when it clears or changes one attribute on more
    than a share of a type's objects (default: 50%, in spaces holding at least 100 of that
    type); `idsync run CONNECTOR ... --accept-changes` takes it."""


@attribute_change_limit.command("show")
@click.argument("connector")
@json_option
@click.pass_context
@handle_errors
def ac_show(ctx: click.Context, connector: str, as_json: bool) -> None:
    """The limit, and the hold an import left, if any."""
    store = open_store(ctx)
    record = store.connectors.get(connector)
    limit = import_guards.limit_of(store, record.name)
    hold = import_guards.current_hold(store, record.name)
    if as_json:
        print_json({"limit": limit.to_dict() if limit else None, "hold": hold})
        return
    console.print(f"{record.name}: " + (f"{limit.percent:g}% of a type's objects, in spaces "
                                        f"holding at least {limit.minimum}" if limit
                                        else "off"), highlight=False)
    if hold:
        console.print(import_guards.held_message(record, hold), highlight=False)


# --- set and reset, alike for the two share limits -------------------------------------------

def _share_limit_commands(group: click.Group, setting: ShareLimitSetting, noun: str,
                          action: AuditAction) -> None:
    """``set CONNECTOR --percent P --min-... N | --off`` and ``reset CONNECTOR`` of one share
    limit (idsync.engine.share_limits)."""

    @group.command("set")
    @click.argument("connector")
    @click.option("--percent", type=float, help="Hold above this share (0-100].")
    @click.option(setting.option, "minimum", type=int,
                  help="Only sets holding at least this many.")
    @click.option("--off", is_flag=True, help="No limit for this connector.")
    @click.pass_context
    @handle_errors
    def set_limit(ctx: click.Context, connector: str, percent: float | None,
                  minimum: int | None, off: bool) -> None:
        store = open_store(ctx)
        value = set_share_limit(store, setting, action, noun, connector, percent=percent,
                                minimum=minimum, off=off)
        console.print(f"{noun} of {store.connectors.get(connector).name}: {value}",
                      highlight=False)

    @group.command("reset")
    @click.argument("connector")
    @click.pass_context
    @handle_errors
    def reset_limit(ctx: click.Context, connector: str) -> None:
        store = open_store(ctx)
        reset_share_limit(store, setting, action, noun, connector)
        console.print(f"{noun} of {store.connectors.get(connector).name} reset to the default")


_share_limit_commands(member_removal_limit, member_removals.SETTING, "member removal limit",
                      AuditAction.MEMBER_REMOVAL_LIMIT)
_share_limit_commands(attribute_change_limit, import_guards.SETTING, "attribute change limit",
                      AuditAction.ATTRIBUTE_CHANGE_LIMIT)
