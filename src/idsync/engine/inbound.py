"""Inbound synchronization: connector space -> metaverse.

Two passes over the objects of a run, each in committed batches:

1. *connect*: deletes, disconnects (the joining rule left scope), joins and projections;
2. *flow*: each touched metaverse object's attributes are computed again from every connector
   space object linked to it, by precedence.

Linking everything before any flow means a group's members are in the metaverse before the
group's member list is translated, whatever order the objects come in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from idsync.engine.core import Engine
from idsync.engine.flow import (
    Contribution,
    DeferredRefs,
    NeedFullRefs,
    Outcome,
    RefDelta,
    RefSet,
    group_by_target,
    resolve,
)
from idsync.engine.joins import BatchJoinLookups, find_match, index_entries
from idsync.engine.lists import load_lists, split_loaded
from idsync.engine.reconciliation import DeleteCause, deprovision, sources_of
from idsync.engine.recorder import RunRecorder
from idsync.engine.ruleset import CompiledRule, has_provision
from idsync.engine.views import InboundView
from idsync.engine.writes import MetaverseWrites
from idsync.events import EventId
from idsync.expressions import IGNORE_THIS_FLOW, ErrorFunctionTriggered, ExpressionError
from idsync.model import CSObject, MVObject, PendingImport
from idsync.rules.model import LinkType
from idsync.rules.scoping import in_scope
from idsync.store.metaverse import MV_SPACE
from idsync.store.reference_journal import JournalSpace, RelinkMark
from idsync.values import same_values
from idsync.writeback.copies import writeback_ou

SYNC_RULE_ERROR = "sync-rule-error-function-triggered"
EXPRESSION_ERROR = "sync-rule-expression-failed"

#: Links that keep a metaverse object alive (the reference: Provision and StickyJoin).
KEEPER_LINKS = {LinkType.PROVISION.value, LinkType.STICKY_JOIN.value}


class Inbound:
    def __init__(self, engine: Engine, recorder: RunRecorder) -> None:
        self.engine = engine
        self.store = engine.store
        self.rs = engine.ruleset()
        self.recorder = recorder
        self.mv_join_keys = self.rs.mv_join_attributes()
        self._ref_attrs: dict[int, frozenset[str]] = {}
        self._dn_cache: dict[int, str] = {}
        #: objects of the batch being flowed that hold errors (the only ones to clear)
        self._erred: set[int] = set()
        #: objects linked in the connect batch under way (their referrers are requeued)
        self._linked: list[int] = []
        #: metaverse objects the batch under way changed (queued for outbound at its end)
        self._dirty: set[int] = set()
        #: the flow batch's metaverse writes, written when it ends (idsync.engine.writes)
        self._writes = MetaverseWrites()
        #: the connect batch's links and projections, written together (``_flush_links``)
        self._links_due: list[tuple[int, str, int, str, int]] = []
        self._requeue_due: list[int] = []
        self._projections: list[tuple[CSObject, str, int]] = []
        #: (metaverse id, connector id) linked in the connect batch under way, not yet written
        self._batch_links: set[tuple[int, int]] = set()
        self._joins = BatchJoinLookups(self.store.join_index)
        #: whether the reference change journal may replace whole list comparisons (a delta
        #: synchronization with every connector fully synchronized under the current rules)
        self.use_journal = False
        #: objects of the batch linked or unlinked since their lists were last compared
        self._relinked: set[int] = set()
        self._lists: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        #: group writeback's OU: its objects are the cloud's groups, never projected here
        self.writeback_ou = writeback_ou(self.store)

    def lists(self, connector_id: int) -> tuple[frozenset[str], frozenset[str]]:
        """(lists the connector's inbound rules read, lists it shares with its outbound)."""
        if connector_id not in self._lists:
            self._lists[connector_id] = (self.engine.inbound_lists(connector_id),
                                         self.engine.shared_lists(connector_id))
        return self._lists[connector_id]

    def ref_attrs(self, connector_id: int) -> frozenset[str]:
        if connector_id not in self._ref_attrs:
            self._ref_attrs[connector_id] = self.engine.cs_ref_attributes(connector_id)
        return self._ref_attrs[connector_id]

    def _reads(self, connector_id: int, object_type: str | None, *,
               link_only: bool = False) -> set[str]:
        out: set[str] = set()
        for r in self.rs.inbound_for(connector_id, object_type):
            out |= r.link_reads if link_only else r.reads
        return out

    def _load_refs(self, objs: Iterable[CSObject], *, link_only: bool = False,
                   defer: bool = False) -> None:
        """Load the reference values the rules read. ``link_only``: only what scoping and
        join conditions read (the connect pass). ``defer``: large lists stay in the store as
        ``DeferredRefs``, and their Direct flows are computed there as differences."""
        by_conn: dict[int, list[CSObject]] = defaultdict(list)
        for o in objs:
            by_conn[o.connector_id].append(o)
        for cid, group in by_conn.items():
            names: set[str] = set()
            for o in group:
                names |= self._reads(cid, o.object_type, link_only=link_only)
            names &= self.ref_attrs(cid)
            lists = load_lists(self.store, "cs", [o.id for o in group], names,
                               self.engine.ref_delta_threshold,
                               deferrable=None if defer else ())
            for o in group:
                o.refs = {n: set() for n in names}
                o.refs.update(lists[o.id])

    def _view(self, cs: CSObject, cs_to_mv: dict[int, int]) -> InboundView:
        return InboundView(cs, cs_to_mv=cs_to_mv, dn_of=self._dn_of,
                           dn_to_mv=lambda dn, c=cs.connector_id: self._dn_to_mv(c, dn),
                           multivalued=self.engine.multivalued,
                           mv_ref_attributes=self.engine.mv_ref_attributes,
                           parameters=self.engine.parameters)

    def _dn_of(self, cs_id: int) -> str:
        if cs_id not in self._dn_cache:
            found = self.store.cs.dns_and_anchors([cs_id])
            self._dn_cache[cs_id] = found[cs_id][0] if cs_id in found else ""
        return self._dn_cache[cs_id]

    def _dn_to_mv(self, connector_id: int, dn: str) -> int | None:
        cs = self.store.cs.find_dn(connector_id, dn)
        return cs.mv_id if cs else None

    def _in_scope(self, rules: Sequence[CompiledRule], view: InboundView) -> list[CompiledRule]:
        cs = view.cs
        return [r for r in rules if in_scope(
            r.rule.scoping, view.values_of,
            lambda dn, c=cs: self.store.cs.is_member_of(c.id, c.connector_id, dn))]

    # --- pass 1: connect ----------------------------------------------------------------

    def connect_batch(self, ids: Sequence[int]) -> None:
        objs = self.store.cs.by_ids(ids)
        self._load_refs(objs.values(), link_only=True)
        self._prefetch_joins(objs.values())
        for cs_id in ids:
            cs = objs.get(cs_id)
            if cs is not None:
                self.connect(cs)
        self._end_batch()

    def _flush_links(self) -> None:
        """Write the connect batch's projections (one insert of new metaverse objects) and
        links (one update). Nothing in the batch reads a link back except a join's check that
        the candidate is not linked from this connector already (``_batch_links``); the rare
        paths that read links (disconnect, hand-over) flush first."""
        if self._projections:
            ids = self.store.mv.create_many([t for _, t, _ in self._projections])
            for (cs, _, rule_id), mv_id in zip(self._projections, ids, strict=True):
                self._link(cs, mv_id, LinkType.PROVISION.value, rule_id)
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
        self._joins.forget()
        by_rule: dict[int, list[CSObject]] = defaultdict(list)
        for cs in objs:
            if cs.mv_id is None and cs.pending_import != PendingImport.DELETE:
                for r in self.rs.inbound_for(cs.connector_id, cs.object_type):
                    if r.rule.join:
                        by_rule[r.id].append(cs)
        for rule_id, group in by_rule.items():
            self._joins.prefetch(MV_SPACE, self.rs.by_id[rule_id].rule.join, inbound=True,
                                 values_of=[self._view(cs, {}).values_of for cs in group])

    def _end_batch(self) -> None:
        """Objects referencing the objects linked in this batch are synchronized again (their
        references translate to the new links): one look-up for the batch. The metaverse
        objects the batch changed go to the outbound queue together."""
        self._flush_links()
        if self._linked:
            self.store.cs.mark_pending_update(self.store.cs.referencing(self._linked))
            self._linked = []
        if self._dirty:
            self.store.mv.mark_dirty(sorted(self._dirty))
            self._dirty = set()

    def connect(self, cs: CSObject) -> None:
        if cs.pending_import == PendingImport.DELETE:
            self.remove(cs)
            return
        if cs.pending_import == PendingImport.DELETE_ADD and cs.mv_id is not None:
            self.disconnect(cs)
        if (self.writeback_ou is not None and cs.link_direction != "outbound"
                and self.writeback_ou.holds(cs)):
            if cs.mv_id is not None:  # projected as an on-premises group before
                self.disconnect(cs)
                self.recorder.count("disconnectors")
            return
        rules = self.rs.inbound_for(cs.connector_id, cs.object_type)
        view = self._view(cs, {})
        scoped = self._in_scope(rules, view)
        if cs.mv_id is not None:
            if cs.link_direction != "inbound":
                return  # linked by outbound provisioning or join: outbound scope governs it
            if cs.link_rule_id in {r.id for r in scoped}:
                return
            if self._hand_over_link(cs, scoped):
                return
            self.disconnect(cs)
            self.recorder.count("disconnectors")
        if not scoped:
            return
        join_rules = [r for r in scoped if r.rule.join]
        if len(join_rules) > 1:
            self.recorder.object_error(
                cs.id, cs.dn, "sync", "ambiguous-join-rules",
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
        self.recorder.count("projections")

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
                self.store.cs.set_link(cs.id, mv.id, rule.rule.link_type.value, rule.id,
                                       "inbound")
                cs.link_rule_id, cs.link_type = rule.id, rule.rule.link_type.value
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

        mv_id = find_match(self._joins, MV_SPACE, rule.rule.join, inbound=True,
                           values_of=view.values_of, acceptable=acceptable)
        if mv_id is None:
            return False
        self._link(cs, mv_id, rule.rule.link_type.value, rule.id)
        self.recorder.count("joins")
        return True

    def _link(self, cs: CSObject, mv_id: int, link_type: str, rule_id: int) -> None:
        cs.mv_id, cs.link_type, cs.link_rule_id, cs.link_direction = (
            mv_id, link_type, rule_id, "inbound")
        self._links_due.append((mv_id, link_type, rule_id, "inbound", cs.id))
        self._batch_links.add((mv_id, cs.connector_id))
        if cs.pending_import is None:
            self._requeue_due.append(cs.id)
        # Objects that reference this one (groups it is a member of) now translate to it:
        # queued once for the whole batch (_end_batch).
        self._linked.append(cs.id)
        self._dirty.add(mv_id)

    def disconnect(self, cs: CSObject) -> None:
        mv_id = cs.mv_id
        if mv_id is None:
            return
        self._flush_links()  # _kept_alive reads the links of mv_id
        self._joins.forget()  # the metaverse object may flow again and change its join values
        self.store.cs.set_link(cs.id, None, None, None, None)
        cs.mv_id = None
        self.store.cs.mark_pending_update(self.store.cs.referencing([cs.id]))
        if not self._kept_alive(mv_id):
            self.delete_mv(mv_id, cs)
        else:
            self.flow_mv_ids([mv_id])

    def _kept_alive(self, mv_id: int) -> bool:
        return any(o.link_direction == "inbound" and o.link_type in KEEPER_LINKS
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
            deprovision(self.engine, self.recorder, o, DeleteCause.METAVERSE_DELETED,
                        f"metaverse object {mv_id} was deleted: its source {source.dn} {gone}",
                        sources)
        self.store.deprovisions.metaverse_deleted(mv_id)
        referrers = self.store.mv.delete(mv_id)
        self.store.mv.mark_dirty(referrers)
        self.recorder.count("mv-deletes")

    def remove(self, cs: CSObject) -> None:
        if cs.mv_id is not None:
            self.disconnect(cs)
        self.store.cs.mark_pending_update(self.store.cs.referencing([cs.id]))
        self.store.cs.remove(cs.id)
        self.recorder.count("deletes")

    # --- pass 2: flow ---------------------------------------------------------------------

    def flow_batch(self, ids: Sequence[int]) -> None:
        objs = self.store.cs.by_ids(ids)
        mv_ids = sorted({o.mv_id for o in objs.values() if o.mv_id is not None})
        if mv_ids:
            self.flow_mv_ids(mv_ids)
            # A change imported on any linked object re-evaluates the outbound flows too (an
            # export the directory did not keep is staged again), not only a metaverse change.
            self._dirty.update(mv_ids)
            self._end_batch()
        self.store.cs.clear_pending_import(ids)

    def flow_mv_ids(self, mv_ids: Sequence[int], *, defer: bool = True) -> None:
        mvs = self.store.mv.by_ids(mv_ids)
        ids = list(mvs)
        mv_lists = load_lists(self.store, "mv", ids, None, self.engine.ref_delta_threshold,
                              deferrable=None if defer else ())
        links: dict[int, list[CSObject]] = defaultdict(list)
        linked = self.store.cs.linked_to(ids)
        self._load_refs(linked, defer=defer)
        self._erred = self.store.errors.holders([o.id for o in linked])
        self._relinked = self.store.journal.marked([o.id for o in linked], RelinkMark.INBOUND) if (
            self.use_journal) else set()
        for o in linked:
            links[o.mv_id].append(o)  # type: ignore[index]
        cs_to_mv = self._translate(linked)
        spent: list[CSObject] = []
        for mv_id in mv_ids:
            mv = mvs.get(mv_id)
            if mv is None:
                continue
            mv.refs = mv_lists[mv_id]
            try:
                flowed = self._flow_one(mv, links.get(mv_id, []), cs_to_mv)
            except NeedFullRefs:
                # A rule needs the values of a large list after all: this object is
                # evaluated again with every value loaded (nothing was written yet).
                self.flow_mv_ids([mv_id], defer=False)
                continue
            if flowed:
                spent.extend(links.get(mv_id, []))
        self._writes.flush(self.store)
        self._spend_journal(spent)

    def _spend_journal(self, linked: Sequence[CSObject]) -> None:
        """The lists of ``linked`` were just compared: their journal entries are spent."""
        by_conn: dict[int, list[int]] = defaultdict(list)
        for o in linked:
            by_conn[o.connector_id].append(o.id)
        for cid, ids in by_conn.items():
            self.store.journal.consume(JournalSpace.CONNECTOR_SPACE, ids,
                                       self.lists(cid)[0] | {RelinkMark.INBOUND})

    def _compare_refs(self, mv: MVObject, name: str, value: RefDelta,
                      lineage: dict[str, Any]) -> tuple[set[int], set[int]]:
        """What a metaverse list gains and loses from a large source list: only the values
        the journal names when it can stand in for the whole comparison, else the whole
        lists compared in the store."""
        deltas = self.store.refdeltas
        cid = lineage["connector"]
        if (self.use_journal and value.source_id not in self._relinked
                and mv.lineage.get(name) == lineage
                and value.attribute not in self.lists(cid)[1]):
            # The list was last made from this same source by this same rule, and every
            # change to the source list or to its targets' links since is in the journal.
            journal = self.store.journal
            changes = journal.changed(JournalSpace.CONNECTOR_SPACE, value.source_id,
                                      value.attribute)
            return journal.inbound_changed(value.source_id, value.attribute, mv.id, name, cid,
                                          changes)
        return deltas.inbound(value.source_id, value.attribute, mv.id, name)

    def _translate(self, linked: Sequence[CSObject]) -> dict[int, int]:
        """CS id -> MV id for the loaded reference values of ``linked``: one join over the
        objects whose values are all loaded, a look-up of the loaded targets for the others."""
        whole, partial = split_loaded({o.id: o.refs for o in linked})
        cs_to_mv = self.store.cs.reference_targets_mv(whole) if whole else {}
        if partial:
            cs_to_mv.update(self.store.cs.mv_ids_of(sorted(partial)))
        return cs_to_mv

    def _flow_one(self, mv: MVObject, links: list[CSObject], cs_to_mv: dict[int, int]) -> bool:
        """Flow one metaverse object; False when a rule failed and nothing was written."""
        contributions: list[tuple[str, Contribution]] = []
        for cs in links:
            rules = [r for r in self.rs.inbound_for(cs.connector_id, cs.object_type)
                     if r.rule.mv_object_type == mv.object_type]
            if not rules:
                continue
            view = self._view(cs, cs_to_mv)
            scoped = self._in_scope(rules, view)
            try:
                contributions.extend(self._contributions(cs, mv, scoped, view))
            except ErrorFunctionTriggered as exc:
                self.recorder.object_error(cs.id, cs.dn, "sync", SYNC_RULE_ERROR, exc.message)
                self.recorder.event(EventId.SYNC_RULE_ERROR, f"{cs.dn}: {exc.message}",
                                    {"cs_id": cs.id, "code": SYNC_RULE_ERROR})
                return False
            except ExpressionError as exc:
                self.recorder.object_error(cs.id, cs.dn, "sync", EXPRESSION_ERROR, str(exc))
                return False
            if cs.id in self._erred:
                self.store.errors.clear(cs.id, "sync")
        if apply_outcomes(mv, group_by_target(contributions), self.engine.mv_ref_attributes,
                          self.store, self._compare_refs, self._writes):
            self._writes.save(mv)
            if self.mv_join_keys:
                self._writes.replace_index(
                    mv.id, index_entries(self.mv_join_keys, lambda a: mv.attributes.get(a, ())))
            self._dirty.add(mv.id)
            self.recorder.count("mv-updates")
        return True

    def _contributions(self, cs: CSObject, mv: MVObject, rules: Sequence[CompiledRule],
                       view: InboundView) -> list[tuple[str, Contribution]]:
        out = []
        for r in rules:
            for t in r.transformations:
                if t.apply_once and (t.target in mv.attributes or mv.refs.get(t.target)):
                    # Set once already: the flow keeps the value (it is not recalled either).
                    value = IGNORE_THIS_FLOW
                else:
                    value = t.evaluate(view)
                out.append((t.target, Contribution(r.precedence, r.id, cs.connector_id,
                                                   t.merge_type, value)))
        return out


#: What a metaverse list gains and loses from a deferred source list (``Inbound._compare_refs``).
CompareRefs = Callable[[MVObject, str, RefDelta, dict[str, Any]], tuple[set[int], set[int]]]


def apply_outcomes(mv: MVObject, grouped: dict[str, list[Contribution]],
                   ref_attributes: frozenset[str], store: Any,
                   compare: CompareRefs | None = None,
                   writes: MetaverseWrites | None = None) -> bool:
    """Write the winning contributions into ``mv``; returns whether anything changed.
    Attributes a rule contributed before and no rule contributes now are recalled. Every
    outcome is decided before anything is written, so a ``NeedFullRefs`` leaves no trace."""
    changed = False
    names = sorted(set(grouped) | set(mv.lineage))
    outcomes = {name: resolve(grouped[name]) if name in grouped else Outcome("remove")
                for name in names}
    for name in names:
        outcome = outcomes[name]
        if outcome.action == "keep":
            continue
        is_ref = isinstance(outcome.value, RefSet | RefDelta) or name in mv.refs or (
            name in ref_attributes and outcome.action == "remove")
        if is_ref:
            changed |= _apply_ref(mv, name, outcome, store, compare, writes)
            if isinstance(outcome.value, RefDelta) and not store.mv.has_refs(mv.id, name):
                # An empty translation removes the attribute, as an empty RefSet does.
                outcome = Outcome("remove", lineage=outcome.lineage)
        else:
            changed |= _apply_value(mv, name, outcome)
        if outcome.action == "set" and outcome.lineage:
            if mv.lineage.get(name) != outcome.lineage:
                mv.lineage[name] = outcome.lineage
                changed = True
        elif name in mv.lineage:
            del mv.lineage[name]
            changed = True
    return changed


def _apply_value(mv: MVObject, name: str, outcome: Outcome) -> bool:
    if outcome.action == "set":
        if not same_values(mv.attributes.get(name), outcome.value):
            mv.attributes[name] = list(outcome.value)
            return True
        return False
    if name in mv.attributes:
        del mv.attributes[name]
        return True
    return False


def _apply_ref(mv: MVObject, name: str, outcome: Outcome, store: Any,
               compare: CompareRefs | None, writes: MetaverseWrites | None = None) -> bool:
    if isinstance(outcome.value, RefDelta):
        # The source list is large: the database computes what changes.
        if compare is not None and outcome.lineage:
            adds, removes = compare(mv, name, outcome.value, outcome.lineage)
        else:
            adds, removes = store.refdeltas.inbound(outcome.value.source_id,
                                                    outcome.value.attribute, mv.id, name)
        if adds or removes:
            store.mv.change_refs(mv.id, name, adds, removes)
        return bool(adds or removes)
    have = mv.refs.get(name, set())
    if isinstance(have, DeferredRefs):
        have = store.refdeltas.mv_targets(mv.id, name)
    want: set[int] = set(outcome.value.ids) if outcome.action == "set" and isinstance(
        outcome.value, RefSet) else set()
    adds, removes = want - have, have - want
    if not adds and not removes:
        return False
    (writes or store.mv).change_refs(mv.id, name, adds, removes)
    mv.refs[name] = want
    return True
