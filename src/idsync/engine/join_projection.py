"""Join and projection, the first inbound pass: connector space -> metaverse links.

For each object of a batch: deletes, disconnects (the joining rule left scope), joins and
projections. Linking everything before any attribute flows (``engine.inbound_flow``) means a
group's members are in the metaverse before the group's member list is translated, whatever
order the objects come in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from idsync.engine.joins import find_match
from idsync.engine.reconciliation import DeleteCause, deprovision, sources_of
from idsync.engine.ruleset import CompiledRule, has_provision
from idsync.engine.sync_context import SyncContext
from idsync.engine.views import InboundView
from idsync.error_codes import ErrorCode
from idsync.model import CSObject, Direction, LinkType, PendingImport
from idsync.store.connector_space.links import LinkRow
from idsync.store.metaverse import MV_SPACE
from idsync.writeback.copies import writeback_ou

#: Links that keep a metaverse object alive (the reference: Provision and StickyJoin).
KEEPER_LINKS = {LinkType.PROVISION, LinkType.STICKY_JOIN}

#: (metaverse id, link type, rule id, direction, cs id): a link as ``cs.set_links`` writes it


class JoinProjection:
    """``reflow``: flows metaverse objects again (``InboundFlow.flow_mv_ids``), for one that a
    disconnect leaves alive with fewer contributors."""

    def __init__(self, ctx: SyncContext, reflow: Callable[[Sequence[int]], None]) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.rs = ctx.rs
        self.recorder = ctx.recorder
        self.reflow = reflow
        #: the batch's links and projections, written together (``_flush_links``)
        self._links_due: list[LinkRow] = []
        self._requeue_due: list[int] = []
        self._projections: list[tuple[CSObject, str, int]] = []
        #: (metaverse id, connector id) linked in the batch under way, not yet written
        self._batch_links: set[tuple[int, int]] = set()
        #: group writeback's OU: its objects are the cloud's groups, never projected here
        self.writeback_ou = writeback_ou(self.store)

    def connect_batch(self, ids: Sequence[int]) -> None:
        objs = self.store.cs.by_ids(ids)
        self.ctx.load_cs_refs(objs.values(), link_only=True)
        self._prefetch_joins(objs.values())
        for cs_id in ids:
            cs = objs.get(cs_id)
            if cs is not None:
                self.connect(cs)
        self._flush_links()
        self.ctx.end_inbound_batch()

    def _flush_links(self) -> None:
        """Write the connect batch's projections (one insert of new metaverse objects) and
        links (one update). Nothing in the batch reads a link back except a join's check that
        the candidate is not linked from this connector already (``_batch_links``); the rare
        paths that read links (disconnect, hand-over) flush first."""
        if self._projections:
            ids = self.store.mv.create_many([t for _, t, _ in self._projections])
            for (cs, _, rule_id), mv_id in zip(self._projections, ids, strict=True):
                self._link(cs, mv_id, LinkType.PROVISION, rule_id)
            self._projections = []
        if self._links_due:
            self.store.cs.set_links(self._links_due)
            self._links_due = []
        if self._requeue_due:
            self.store.cs.mark_pending_update(self._requeue_due)
            self._requeue_due = []
        self._batch_links = set()

    def _prefetch_joins(self, objs: Iterable[CSObject]) -> None:
        """The metaverse join index values the batch's join rules will look up, in one query
        per attribute (the connect pass writes nothing to that index; a disconnect, which
        may re-flow a metaverse object, forgets them)."""
        self.ctx.joins.forget()
        by_rule: dict[int, list[CSObject]] = defaultdict(list)
        for cs in objs:
            if cs.mv_id is None and cs.pending_import != PendingImport.DELETE:
                for r in self.rs.inbound_for(cs.connector_id, cs.object_type):
                    if r.rule.join:
                        by_rule[r.id].append(cs)
        for rule_id, group in by_rule.items():
            self.ctx.joins.prefetch(
                MV_SPACE, self.rs.by_id[rule_id].rule.join, inbound=True,
                values_of=[self.ctx.inbound_view(cs, {}).values_of for cs in group])

    def connect(self, cs: CSObject) -> None:
        if cs.pending_import == PendingImport.DELETE:
            self.remove(cs)
            return
        if cs.pending_import == PendingImport.DELETE_ADD and cs.mv_id is not None:
            self.disconnect(cs)
        if (self.writeback_ou is not None and cs.link_direction != Direction.OUTBOUND
                and self.writeback_ou.holds(cs)):
            if cs.mv_id is not None:  # projected as an on-premises group before
                self.disconnect(cs)
                self.recorder.count("disconnectors", cs_id=cs.id)
            return
        rules = self.rs.inbound_for(cs.connector_id, cs.object_type)
        view = self.ctx.inbound_view(cs, {})
        scoped = self.ctx.inbound_scoped(rules, view)
        if cs.mv_id is not None:
            if cs.link_direction != Direction.INBOUND:
                return  # linked by outbound provisioning or join: outbound scope governs it
            if cs.link_rule_id in {r.id for r in scoped}:
                return
            if self._hand_over_link(cs, scoped):
                return
            self.disconnect(cs)
            self.recorder.count("disconnectors", cs_id=cs.id)
        if not scoped:
            return
        join_rules = [r for r in scoped if r.rule.join]
        if len(join_rules) > 1:
            self.recorder.object_error(
                cs.id, cs.dn, "sync", ErrorCode.AMBIGUOUS_JOIN_RULES,
                "more than one in-scope rule has join conditions: "
                + ", ".join(r.rule.name for r in join_rules))
            return
        if join_rules and self._join(cs, join_rules[0], view):
            return
        provision = has_provision(scoped)
        if provision is None:
            return
        if join_rules and not self._has_join_values(join_rules[0], view):
            return
        # The new metaverse object is created with the batch's others (_flush_links): no join
        # in this batch can find it, its join values are indexed when it first flows.
        self._projections.append((cs, provision.rule.mv_object_type, provision.id))
        self.recorder.count("projections", cs_id=cs.id)

    def _hand_over_link(self, cs: CSObject, scoped: Sequence[CompiledRule]) -> bool:
        """The joining rule is gone (disabled, deleted, replaced by an editable copy) while
        another in-scope rule would link the object to the same kind of metaverse object: the
        link passes to that rule instead of breaking. Only the joining rule leaving *scope*
        breaks a join."""
        joining = self.rs.by_id.get(cs.link_rule_id) if cs.link_rule_id is not None else None
        if joining is not None:
            return False  # the rule still exists: the object left its scope
        self._flush_links()
        mv = self.store.mv.get(cs.mv_id) if cs.mv_id is not None else None
        if mv is None:
            return False
        for rule in scoped:
            if rule.rule.mv_object_type == mv.object_type and (
                    rule.rule.join or rule.rule.link_type is LinkType.PROVISION):
                self.store.cs.set_link(cs.id, mv.id, rule.rule.link_type, rule.id,
                                       Direction.INBOUND)
                cs.link_rule_id, cs.link_type = rule.id, rule.rule.link_type
                return True
        return False

    def _has_join_values(self, rule: CompiledRule, view: InboundView) -> bool:
        return any(view.values_of(c.cs_attribute)
                   for g in rule.rule.join for c in g.conditions)

    def _join(self, cs: CSObject, rule: CompiledRule, view: InboundView) -> bool:
        mv_type = rule.rule.mv_object_type

        def acceptable(candidates: set[int]) -> set[int]:
            mvs = self.store.mv.by_ids(sorted(candidates))
            linked_here = {o.mv_id for o in self.store.cs.linked_to(sorted(candidates))
                           if o.connector_id == cs.connector_id}
            linked_here |= {m for m, c in self._batch_links if c == cs.connector_id}
            return {i for i, m in mvs.items() if m.object_type == mv_type
                    and i not in linked_here}

        mv_id = find_match(self.ctx.joins, MV_SPACE, rule.rule.join, inbound=True,
                           values_of=view.values_of, acceptable=acceptable)
        if mv_id is None:
            return False
        self._link(cs, mv_id, rule.rule.link_type, rule.id)
        self.recorder.count("joins", cs_id=cs.id)
        return True

    def _link(self, cs: CSObject, mv_id: int, link_type: LinkType, rule_id: int) -> None:
        cs.mv_id, cs.link_type, cs.link_rule_id, cs.link_direction = (
            mv_id, link_type, rule_id, Direction.INBOUND)
        self._links_due.append((mv_id, link_type, rule_id, Direction.INBOUND,
                                cs.id))
        self._batch_links.add((mv_id, cs.connector_id))
        if cs.pending_import is None:
            self._requeue_due.append(cs.id)
        # Objects that reference this one (groups it is a member of) now translate to it:
        # queued once for the whole batch (SyncContext.end_inbound_batch).
        self.ctx.linked_cs.append(cs.id)
        self.ctx.dirty.add(mv_id)

    def disconnect(self, cs: CSObject) -> None:
        mv_id = cs.mv_id
        if mv_id is None:
            return
        self._flush_links()  # _kept_alive reads the links of mv_id
        self.ctx.joins.forget()  # the metaverse object may flow again: new join values
        self.store.cs.set_link(cs.id, None, None, None, None)
        cs.mv_id = None
        self.store.cs.mark_pending_update(self.store.cs.referencing([cs.id]))
        if not self._kept_alive(mv_id):
            self.delete_mv(mv_id, cs)
        else:
            self.reflow([mv_id])

    def _kept_alive(self, mv_id: int) -> bool:
        return any(o.link_direction == Direction.INBOUND and o.link_type in KEEPER_LINKS
                   for o in self.store.cs.linked_to([mv_id]))

    def delete_mv(self, mv_id: int, source: CSObject) -> None:
        """The metaverse object goes (``source``, its last keeper, left); objects provisioned
        from it are deprovisioned, remembering the source objects they came from."""
        linked = self.store.cs.linked_to([mv_id])
        sources = sources_of(linked) | (
            {(source.connector_id, source.anchor)} if source.anchor else set())
        gone = "was deleted" if source.pending_import == PendingImport.DELETE else \
            "left the scope of its rules"
        for o in linked:
            deprovision(self.ctx.engine, self.recorder, o, DeleteCause.METAVERSE_DELETED,
                        f"metaverse object {mv_id} was deleted: its source {source.dn} {gone}",
                        sources)
        self.store.deprovisions.metaverse_deleted(mv_id)
        referrers = self.store.mv.delete(mv_id)
        self.store.mv.mark_dirty(referrers)
        self.recorder.count("mv-deletes", mv_id=mv_id)

    def remove(self, cs: CSObject) -> None:
        if cs.mv_id is not None:
            self.disconnect(cs)
        self.store.cs.mark_pending_update(self.store.cs.referencing([cs.id]))
        self.store.cs.remove(cs.id)
        self.recorder.count("deletes", cs_id=cs.id)
