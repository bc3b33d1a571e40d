"""``idsync cs search`` and ``idsync mv search|show``: look into the connector spaces and the
metaverse, with the lineage of every metaverse attribute."""

from __future__ import annotations

import click

from idsync.administration.inspection import cs_dict, mv_dict
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

limit_option = click.option("--limit", default=100, show_default=True,
                            help="Most objects to print (0 = all).")
count_option = click.option("--count", "count_only", is_flag=True, help="Print only the count.")


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
@click.option("--rdn", help="This first DN component (uid=ann), under any parent.")
@click.option("--subtree", help="This base DN and everything under it.")
@click.option("--export-errors", is_flag=True, help="Only objects with export errors.")
@limit_option
@count_option
@json_option
@click.pass_context
@handle_errors
def cs_search(ctx: click.Context, connector: str, dn: str | None, anchor: str | None,
              object_type: str | None, pending_import: bool, pending_export: bool,
              placeholders: bool, rdn: str | None, subtree: str | None, export_errors: bool,
              limit: int, count_only: bool, as_json: bool) -> None:
    """Search a connector space."""
    store = open_store(ctx)
    record = store.connectors.get(connector)
    found = store.cs.search(record.id, dn=dn, anchor=anchor, object_type=object_type,
                            pending_import=pending_import, pending_export=pending_export,
                            placeholders=placeholders, rdn=rdn, subtree=subtree,
                            export_errors=export_errors, limit=0 if count_only else limit)
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
