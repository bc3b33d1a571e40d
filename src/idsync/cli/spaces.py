"""``idsync cs search`` and ``idsync mv search|show``: look into the connector spaces and the
metaverse, with the lineage of every metaverse attribute."""

from __future__ import annotations

from typing import Any

import click

from idsync.cli.common import (
    display_value,
    handle_errors,
    json_option,
    open_store,
    print_json,
    print_table,
)
from idsync.cli.root import cli
from idsync.errors import ConfigurationError
from idsync.model import CSObject, MVObject
from idsync.store import Store

limit_option = click.option("--limit", default=100, show_default=True,
                            help="Most objects to print (0 = all).")
count_option = click.option("--count", "count_only", is_flag=True, help="Print only the count.")


def cs_dict(store: Store, cs: CSObject, *, with_export: bool = True) -> dict[str, Any]:
    attributes: dict[str, list[Any]] = {k: list(v) for k, v in cs.attributes.items()}
    refs = store.cs.refs_of([cs.id]).get(cs.id, {})
    targets = sorted({t for ts in refs.values() for t in ts})
    names = store.cs.dns_and_anchors(targets) if targets else {}
    for attr, ts in refs.items():
        attributes[attr] = sorted(names[t][0] for t in ts if t in names)
    out: dict[str, Any] = {
        "id": cs.id, "object_type": cs.object_type, "dn": cs.dn, "anchor": cs.anchor,
        "attributes": dict(sorted(attributes.items())),
        "pending_import": cs.pending_import, "mv_id": cs.mv_id,
        "link": None if cs.mv_id is None else {
            "type": cs.link_type, "direction": cs.link_direction, "rule_id": cs.link_rule_id},
        "placeholder": cs.placeholder,
    }
    if with_export:
        pe = store.exports.get_many([cs.id]).get(cs.id)
        if pe is not None:
            ref_targets = sorted({t for ts in (*pe.ref_adds.values(), *pe.ref_removes.values())
                                  for t in ts})
            ref_names = store.cs.dns_and_anchors(ref_targets) if ref_targets else {}
            out["pending_export"] = {
                "kind": pe.kind, "state": pe.state, "new_dn": pe.new_dn,
                "attributes": pe.attributes,
                "value_adds": {a: sorted(ref_names.get(t, ("?",))[0] for t in ts)
                               for a, ts in pe.ref_adds.items()},
                "value_removes": {a: sorted(ref_names.get(t, ("?",))[0] for t in ts)
                                  for a, ts in pe.ref_removes.items()},
            }
            if pe.kind == "delete":
                # Why deprovisioning staged it (idsync.engine.reconciliation); None for a
                # delete staged otherwise (a rollback's) or before idsync kept the cause.
                record = store.deprovisions.get_many([cs.id]).get(cs.id)
                out["pending_export"]["cause"] = None if record is None else {
                    "cause": record.cause, "detail": record.detail}
        else:
            out["pending_export"] = None
    return out


@cli.group()
def cs() -> None:
    """Connector space: the staged copy of a connected directory."""


@cs.command("search")
@click.argument("connector")
@click.option("--dn", help="Exactly this DN.")
@click.option("--anchor", help="Exactly this anchor.")
@click.option("--object-type", help="Only this object type.")
@click.option("--pending-import", is_flag=True, help="Only objects with a pending import.")
@click.option("--pending-export", is_flag=True, help="Only objects with a pending export.")
@click.option("--placeholders", is_flag=True, help="Include placeholders.")
@limit_option
@count_option
@json_option
@click.pass_context
@handle_errors
def cs_search(ctx: click.Context, connector: str, dn: str | None, anchor: str | None,
              object_type: str | None, pending_import: bool, pending_export: bool,
              placeholders: bool, limit: int, count_only: bool, as_json: bool) -> None:
    """Search a connector space."""
    store = open_store(ctx)
    record = store.connectors.get(connector)
    found = store.cs.search(record.id, dn=dn, anchor=anchor, object_type=object_type,
                            pending_import=pending_import, pending_export=pending_export,
                            placeholders=placeholders, limit=0 if count_only else limit)
    if count_only:
        print_json({"count": len(found)}) if as_json else click.echo(len(found))
        return
    rows = [cs_dict(store, o) for o in found]
    if as_json:
        print_json(rows)
        return
    print_table(f"Connector space {connector}", ["id", "type", "dn", "anchor", "pending import",
                                                 "pending export", "mv"],
                [[r["id"], r["object_type"], r["dn"], r["anchor"], r["pending_import"],
                  (r["pending_export"] or {}).get("kind"), r["mv_id"]] for r in rows])


def mv_dict(store: Store, mv: MVObject, *, lineage: bool = False) -> dict[str, Any]:
    refs = store.mv.refs_of([mv.id]).get(mv.id, {})
    attributes: dict[str, list[Any]] = {k: list(v) for k, v in mv.attributes.items()}
    for attr, ts in refs.items():
        attributes[attr] = sorted(ts)
    out: dict[str, Any] = {"id": mv.id, "object_type": mv.object_type,
                           "attributes": dict(sorted(attributes.items()))}
    if lineage:
        rules = {r.id: r.name for r in store.rules.list()}
        # Lineage names a connector by id, possibly one deleted since (None: unknown).
        connectors: dict[int | None, str] = {c.id: c.name for c in store.connectors.list()}
        out["lineage"] = {
            attr: {"connector": connectors.get(info.get("connector"), info.get("connector")),
                   "rule": rules.get(info.get("rule"), info.get("rule")),
                   "precedence": info.get("precedence")}
            for attr, info in sorted(mv.lineage.items())}
        out["connectors"] = [
            {"connector": connectors.get(o.connector_id), "cs_id": o.id, "dn": o.dn,
             "link_type": o.link_type, "direction": o.link_direction,
             "rule": rules.get(o.link_rule_id)}
            for o in store.cs.linked_to([mv.id])]
    return out


@cli.group()
def mv() -> None:
    """Metaverse: the joined view of every identity."""


@mv.command("search")
@click.option("--object-type", help="person, group, contact...")
@click.option("--attribute", help="Objects that have this attribute...")
@click.option("--value", help="...with this value.")
@limit_option
@count_option
@json_option
@click.pass_context
@handle_errors
def mv_search(ctx: click.Context, object_type: str | None, attribute: str | None,
              value: str | None, limit: int, count_only: bool, as_json: bool) -> None:
    """Search the metaverse."""
    store = open_store(ctx)
    if count_only and not attribute:
        n = store.mv.count(object_type)
        print_json({"count": n}) if as_json else click.echo(n)
        return
    found = store.mv.search(object_type=object_type, attribute=attribute, value=value,
                            limit=0 if count_only else limit)
    if count_only:
        print_json({"count": len(found)}) if as_json else click.echo(len(found))
        return
    rows = [mv_dict(store, o) for o in found]
    if as_json:
        print_json(rows)
        return
    print_table("Metaverse", ["id", "type", "displayName", "attributes"],
                [[r["id"], r["object_type"], (r["attributes"].get("displayName") or [""])[0],
                  len(r["attributes"])] for r in rows])


@mv.command("show")
@click.argument("mv_id", type=int)
@json_option
@click.pass_context
@handle_errors
def mv_show(ctx: click.Context, mv_id: int, as_json: bool) -> None:
    """Show a metaverse object with its lineage: which connector and rule set each attribute."""
    store = open_store(ctx)
    found = store.mv.get(mv_id)
    if found is None:
        raise ConfigurationError(f"no metaverse object {mv_id}")
    data = mv_dict(store, found, lineage=True)
    if as_json:
        print_json(data)
        return
    rows = []
    for attr, vals in data["attributes"].items():
        info = data["lineage"].get(attr, {})
        shown = ", ".join(display_value(v) for v in vals[:5]) + (
            f" ... ({len(vals)} values)" if len(vals) > 5 else "")
        rows.append([attr, shown, info.get("connector"), info.get("rule")])
    print_table(f"Metaverse object {mv_id} ({found.object_type})",
                ["attribute", "values", "connector", "rule"], rows)
    print_table("Connectors", ["connector", "cs id", "dn", "link", "direction", "rule"],
                [[c["connector"], c["cs_id"], c["dn"], c["link_type"], c["direction"],
                  c["rule"]] for c in data["connectors"]])
