"""``idsync exports discard|discarded|allow-member-removals``: act on pending exports a guard
holds (the deletion limits, the member removal limit)."""

from __future__ import annotations

import sys

import click

from idsync.administration.audit import AuditAction, record_change
from idsync.cli.common import (
    console,
    handle_errors,
    json_option,
    open_store,
    print_json,
    print_table,
)
from idsync.cli.root import cli
from idsync.engine.discards import discard, parse_kind, plan_discard
from idsync.engine.member_removals import allow_once
from idsync.error_codes import ErrorCode
from idsync.errors import ConfigurationError
from idsync.events import EventId


@cli.group("exports")
def exports_group() -> None:
    """Pending exports held by a guard: discard them, or allow a group's member removals."""


@exports_group.command("discard")
@click.argument("connector")
@click.option("--kind", help="Only this kind: delete, add, modify or rename.")
@click.option("--object-type", help="Only objects of this type.")
@click.option("--confirm", is_flag=True, help="Discard them (without it: only list them).")
@json_option
@click.pass_context
@handle_errors
def discard_cmd(ctx: click.Context, connector: str, kind: str | None, object_type: str | None,
                confirm: bool, as_json: bool) -> None:
    """Drop pending exports not yet sent. Lists what it would drop and does nothing without
    --confirm. Every connector then needs a full synchronization, which stages again whatever
    the current configuration still wants."""
    store = open_store(ctx)
    plan = plan_discard(store, connector, parse_kind(kind), object_type)
    done = discard(store, plan) if confirm and plan.total else 0
    if done:
        # After the fact: a large discard commits chunk by chunk (idsync.engine.discards).
        record_change(store, AuditAction.EXPORTS_DISCARD, plan.connector, None,
                      {"kind": kind, "object_type": object_type, "discarded": done})
    if as_json:
        print_json({**plan.to_dict(), "discarded": done, "confirmed": confirm})
    else:
        print_table(None, ["kind", "object type", "pending", "sample"],
                    [[k, t, n, "; ".join(plan.samples.get((k, t), []))]
                     for (k, t), n in sorted(plan.counts.items())])
        if not plan.total:
            console.print(f"no pending export of {plan.connector} matches")
        elif not confirm:
            console.print(f"{plan.total} pending exports of {plan.connector} would be discarded; "
                          "nothing was changed. Run again with --confirm to discard them.",
                          highlight=False)
        else:
            console.print(
                f"{done} pending exports of {plan.connector} discarded (see `idsync exports "
                f"discarded {plan.connector}`). Every connector is marked for a full "
                "synchronization, which stages again each change whose cause remains: a "
                "delete whose source object is still gone or out of scope comes back (and "
                "meets the deletion limit again), so fix the cause before the next cycle.",
                highlight=False)
    if plan.total and not confirm:
        sys.exit(1)


@exports_group.command("discarded")
@click.argument("connector")
@click.option("--limit", type=int, default=100, show_default=True)
@json_option
@click.pass_context
@handle_errors
def discarded_cmd(ctx: click.Context, connector: str, limit: int, as_json: bool) -> None:
    """The pending exports discarded from a connector, latest first."""
    store = open_store(ctx)
    record = store.connectors.get(connector)
    rows = store.guards.discarded(record.id, limit)
    if as_json:
        print_json([{"dn": dn, "object_type": t, "kind": k, "discarded_at": at,
                     "outcome": outcome} for dn, t, k, at, outcome in rows])
    else:
        print_table(None, ["discarded at", "kind", "object type", "dn", "outcome"],
                    [[at, k, t, dn, outcome or "waiting for the full synchronization"]
                     for dn, t, k, at, outcome in rows])


@exports_group.command("allow-member-removals")
@click.argument("connector")
@click.argument("group_dn")
@click.pass_context
@handle_errors
def allow_cmd(ctx: click.Context, connector: str, group_dn: str) -> None:
    """Let the next export send one group's member removals past the member removal limit
    (once: a later mass removal is held again)."""
    store = open_store(ctx)
    record = store.connectors.get(connector)
    found = [o for o in store.cs.search(record.id, dn=group_dn) if not o.placeholder]
    if not found:
        raise ConfigurationError(
            f"connector {record.name} holds no object at {group_dn!r}; the held groups are "
            f"listed by `idsync errors list --connector {record.name} --code "
            f"{ErrorCode.MEMBER_REMOVAL_LIMIT}`")
    with store.transaction():
        for obj in found:
            allow_once(store, record, obj.id, obj.dn)
            record_change(store, AuditAction.MEMBER_REMOVALS_ALLOW, record.name, None,
                          {"dn": obj.dn})
        store.events.add(int(EventId.MEMBER_REMOVALS_ALLOWED), "information",
                         f"member removals of {group_dn} allowed once on {record.name}",
                         connector_id=record.id, data={"dn": group_dn})
    console.print(f"the next export of {record.name} sends the member removals of {group_dn}",
                  highlight=False)
