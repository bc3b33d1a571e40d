"""Inbound attribute flow, the second inbound pass: connector space -> metaverse attributes.

Each metaverse object a batch touched is computed again from every connector space object linked
to it, by precedence (``engine.flow``); attributes no rule contributes any more are recalled. A
large reference list (a group's members) is compared in the store as a difference, restricted to
what the reference-change journal names when it can (``engine.reference_journal``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from idsync.engine.flow import (
    Action,
    Contribution,
    DeferredRefs,
    NeedFullRefs,
    RefDelta,
    RefSet,
    Resolution,
    group_by_target,
    resolve,
)
from idsync.engine.joins import index_entries
from idsync.engine.lists import load_lists, split_loaded
from idsync.engine.ruleset import CompiledRule
from idsync.engine.sync_context import SyncContext
from idsync.engine.views import InboundView
from idsync.engine.writes import MetaverseWrites
from idsync.error_codes import ErrorCode
from idsync.events import EventId
from idsync.expressions import IGNORE_THIS_FLOW, ErrorFunctionTriggered, ExpressionError
from idsync.model import CSObject, MVObject
from idsync.store import Store
from idsync.store.reference_journal import JournalSpace, RelinkMark
from idsync.values import same_values


class InboundFlow:
    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.rs = ctx.rs
        self.recorder = ctx.recorder
        self.mv_join_keys = self.rs.mv_join_attributes()
        #: the batch's metaverse writes, written when it ends (idsync.engine.writes)
        self._writes = MetaverseWrites()

    def flow_batch(self, ids: Sequence[int]) -> None:
        objs = self.store.cs.by_ids(ids)
        mv_ids = sorted({o.mv_id for o in objs.values() if o.mv_id is not None})
        if mv_ids:
            self.flow_mv_ids(mv_ids)
            # A change imported on any linked object re-evaluates the outbound flows too (an
            # export the directory did not keep is staged again), not only a metaverse change.
            self.ctx.dirty.update(mv_ids)
            self.ctx.end_inbound_batch()
        self.store.cs.clear_pending_import(ids)

    def flow_mv_ids(self, mv_ids: Sequence[int], *, defer: bool = True) -> None:
        ctx = self.ctx
        mvs = self.store.mv.by_ids(mv_ids)
        ids = list(mvs)
        mv_lists = load_lists(self.store, JournalSpace.METAVERSE, ids, None,
                              ctx.engine.ref_delta_threshold, deferrable=None if defer else ())
        links: dict[int, list[CSObject]] = defaultdict(list)
        linked = self.store.cs.linked_to(ids)
        ctx.load_cs_refs(linked, defer=defer)
        ctx.erred = self.store.errors.holders([o.id for o in linked])
        ctx.relinked = ctx.journal.relinked([o.id for o in linked], RelinkMark.INBOUND)
        for o in linked:
            if o.mv_id is not None:
                links[o.mv_id].append(o)
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
        ctx.journal.spend_inbound(spent)

    def _compare_refs(self, mv: MVObject, name: str, value: RefDelta,
                      lineage: dict[str, Any]) -> tuple[set[int], set[int]]:
        """What a metaverse list gains and loses from a large source list: only the values
        the journal names when it can stand in for the whole comparison, else the whole
        lists compared in the store."""
        found = self.ctx.journal.inbound_changes(mv, name, value, lineage, self.ctx.relinked)
        if found is not None:
            return found
        return self.store.refdeltas.inbound(value.source_id, value.attribute, mv.id, name)

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
            view = self.ctx.inbound_view(cs, cs_to_mv)
            scoped = self.ctx.inbound_scoped(rules, view)
            try:
                contributions.extend(self._contributions(cs, mv, scoped, view))
            except ErrorFunctionTriggered as exc:
                self.recorder.object_error(cs.id, cs.dn, "sync", ErrorCode.SYNC_RULE_ERROR,
                                           exc.message)
                self.recorder.event(EventId.SYNC_RULE_ERROR, f"{cs.dn}: {exc.message}",
                                    {"cs_id": cs.id, "code": ErrorCode.SYNC_RULE_ERROR})
                return False
            except ExpressionError as exc:
                self.recorder.object_error(cs.id, cs.dn, "sync", ErrorCode.EXPRESSION_ERROR,
                                           str(exc))
                return False
            if cs.id in self.ctx.erred:
                self.store.errors.clear(cs.id, "sync")
        if apply_outcomes(mv, group_by_target(contributions), self.ctx.engine.mv_ref_attributes,
                          self.store, self._compare_refs, self._writes):
            self._writes.save(mv)
            if self.mv_join_keys:
                self._writes.replace_index(
                    mv.id, index_entries(self.mv_join_keys, lambda a: mv.attributes.get(a, ())))
            self.ctx.dirty.add(mv.id)
            self.recorder.count("mv-updates", mv_id=mv.id)
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


#: What a metaverse list gains and loses from a deferred source list
#: (``InboundFlow._compare_refs``).
CompareRefs = Callable[[MVObject, str, RefDelta, dict[str, Any]], tuple[set[int], set[int]]]


def apply_outcomes(mv: MVObject, grouped: dict[str, list[Contribution]],
                   ref_attributes: frozenset[str], store: Store,
                   compare: CompareRefs | None = None,
                   writes: MetaverseWrites | None = None) -> bool:
    """Write the winning contributions into ``mv``; returns whether anything changed.
    Attributes a rule contributed before and no rule contributes now are recalled. Every
    outcome is decided before anything is written, so a ``NeedFullRefs`` leaves no trace."""
    changed = False
    names = sorted(set(grouped) | set(mv.lineage))
    outcomes = {name: resolve(grouped[name]) if name in grouped else Resolution(Action.REMOVE)
                for name in names}
    for name in names:
        outcome = outcomes[name]
        if outcome.action is Action.KEEP:
            continue
        is_ref = isinstance(outcome.value, RefSet | RefDelta) or name in mv.refs or (
            name in ref_attributes and outcome.action is Action.REMOVE)
        if is_ref:
            changed |= _apply_ref(mv, name, outcome, store, compare, writes)
            if isinstance(outcome.value, RefDelta) and not store.mv.has_refs(mv.id, name):
                # An empty translation removes the attribute, as an empty RefSet does.
                outcome = Resolution(Action.REMOVE, lineage=outcome.lineage)
        else:
            changed |= _apply_value(mv, name, outcome)
        if outcome.action is Action.SET and outcome.lineage:
            if mv.lineage.get(name) != outcome.lineage:
                mv.lineage[name] = outcome.lineage
                changed = True
        elif name in mv.lineage:
            del mv.lineage[name]
            changed = True
    return changed


def _apply_value(mv: MVObject, name: str, outcome: Resolution) -> bool:
    if outcome.action is Action.SET:
        if not same_values(mv.attributes.get(name), outcome.value):
            mv.attributes[name] = list(outcome.value)
            return True
        return False
    if name in mv.attributes:
        del mv.attributes[name]
        return True
    return False


def _apply_ref(mv: MVObject, name: str, outcome: Resolution, store: Store,
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
    want: set[int] = set(outcome.value.ids) if outcome.action is Action.SET and isinstance(
        outcome.value, RefSet) else set()
    adds, removes = want - have, have - want
    if not adds and not removes:
        return False
    (writes or store.mv).change_refs(mv.id, name, adds, removes)
    mv.refs[name] = want
    return True
