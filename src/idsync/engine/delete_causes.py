"""Why a pending delete is there, for the few objects a message shows.

Deprovisioning keeps the cause with the delete it stages (``store.deprovisions``: out of scope,
or the metaverse object deleted, and the rule that had provisioned the object); that record is
read first. A delete without one (staged before idsync kept causes, or staged again after a
discard) is explained the way a synchronization would find it: the connector's inbound join
rules look for the metaverse object that would take the object back. None found: the
metaverse object is gone (deleted in the source). Found and out of scope of the outbound
rules: "out of scope of rule X". Found and in scope: the cause is gone and the delete is
stale. Without join rules for the object's type the cause is left unsaid.
"""

from __future__ import annotations

from collections.abc import Sequence

from idsync.engine.core import RunContext
from idsync.engine.joins import find_match, values_in
from idsync.engine.reconciliation import DeleteCause
from idsync.engine.ruleset import has_provision
from idsync.model import ConnectorRecord
from idsync.rules.scoping import in_scope
from idsync.store.metaverse import MV_SPACE

DELETED_IN_SOURCE = "no metaverse object left: deleted in the source"
CAUSE_GONE = "back in scope: its cause is gone, a full synchronization keeps it"


def delete_causes(engine: RunContext, record: ConnectorRecord, cs_ids: Sequence[int]
                  ) -> dict[int, str]:
    store = engine.store
    rs = engine.ruleset()
    out: dict[int, str] = {}
    # ``kept``, not ``record``: the join look-ups below need the connector's record.
    for cs_id, kept in store.deprovisions.get_many(list(cs_ids)).items():
        if kept.cause == DeleteCause.METAVERSE_DELETED:
            out[cs_id] = DELETED_IN_SOURCE
        elif kept.cause == DeleteCause.OUT_OF_SCOPE:
            rule = rs.by_id.get(kept.link_rule_id) if kept.link_rule_id else None
            out[cs_id] = (f"out of scope of rule {rule.rule.name!r}" if rule is not None
                          else "out of scope: its provisioning rule is disabled or gone")
    for obj in store.cs.by_ids([i for i in cs_ids if i not in out]).values():
        joining = [r for r in rs.inbound_for(record.id, obj.object_type) if r.rule.join]
        if not joining:
            continue
        mv_id = None
        for rule in joining:
            mv_id = find_match(store.join_index, MV_SPACE, rule.rule.join, inbound=True,
                               values_of=values_in(obj.attributes),
                               acceptable=lambda found: found)
            if mv_id is not None:
                break
        if mv_id is None:
            out[obj.id] = DELETED_IN_SOURCE
            continue
        mv = store.mv.by_ids([mv_id]).get(mv_id)
        rules = rs.outbound.get(record.id, {}).get(mv.object_type, []) if mv else []
        if mv is None or not rules:
            out[obj.id] = ("disconnected: no enabled outbound rule of this connector takes it "
                           "(a rule disabled or deleted?)")
            continue
        scoped = [r for r in rules if in_scope(r.rule.scoping, values_in(mv.attributes))]
        if scoped:
            out[obj.id] = CAUSE_GONE
        else:
            rule = has_provision(rules) or rules[0]
            out[obj.id] = f"out of scope of rule {rule.rule.name!r}"
    return out
