"""What an administrator is shown of a connector space or metaverse object: the documents
``idsync cs search`` and ``idsync mv search|show`` print (``--json``), shared by the command line
and the web UI so both show the same thing.

These documents hold every value of every reference attribute: fine for the command line's
lists, not for a 250,000-member group on a web page, which reads them one page at a time
(``idsync.administration.object_pages``).
"""

from __future__ import annotations

from typing import Any

from idsync.model import Authority, CSObject, MVObject
from idsync.store import Store


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
            if store.authority.of([cs.id]).get(cs.id) is Authority.CLOUD:
                # Held by the export run until the authority returns (engine.authority).
                out["pending_export"]["held"] = "cloud-managed"
        else:
            out["pending_export"] = None
    return out


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
