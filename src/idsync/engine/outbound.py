"""Outbound synchronization: metaverse -> connector spaces, staged as pending exports.

The metaverse objects an inbound pass touched wait in ``mv_dirty``. Two passes drain it:

A. *provisioning*: for each connector with outbound rules, join or provision a connector space
   object for each in-scope metaverse object, deprovision those out of scope;
B. *flow*: compute each linked object's desired attributes and stage the difference from its
   hologram as a pending export (attribute-level, and value-level for references).

Every object is provisioned before any reference is translated, so a new group's new members
are already in the target connector space when its member list is computed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from idsync.dn import normalize_dn
from idsync.engine.core import BATCH_SIZE, STATISTICS_AFTER, Engine
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
from idsync.engine.inbound import EXPRESSION_ERROR, SYNC_RULE_ERROR
from idsync.engine.joins import BatchJoinLookups, find_match
from idsync.engine.lists import load_lists, split_loaded
from idsync.engine.reconciliation import (
    CancelCause,
    Reconciler,
    deprovision_out_of_scope,
    record_cancel,
    unstaged,
)
from idsync.engine.recorder import RunRecorder
from idsync.engine.ruleset import CompiledRule, has_provision
from idsync.engine.views import OutboundView
from idsync.events import EventId
from idsync.expressions import ErrorFunctionTriggered, ExpressionError
from idsync.model import CSObject, ExportState, MVObject, PendingExport
from idsync.rules.model import DN_TARGET, LinkType
from idsync.rules.scoping import in_scope
from idsync.store.reference_journal import JournalSpace, RelinkMark
from idsync.values import same_values

DN_ATTRIBUTES_FAILURE = "dn-attributes-failure"


@dataclasses.dataclass(slots=True)
class _Placing:
    """A metaverse object to provision into a connector at ``dn`` (``Outbound._place``)."""

    mv: MVObject
    cid: int
    rule: CompiledRule
    dn: str


class Outbound:
    def __init__(self, engine: Engine, recorder: RunRecorder) -> None:
        self.engine = engine
        self.store = engine.store
        self.rs = engine.ruleset()
        #: every connector, with its enabled outbound rules by metaverse type: a connector
        #: whose outbound rules are all disabled still deprovisions what they provisioned
        #: (disabling the last rule must stage what disabling each one does)
        self._targets: list[tuple[int, dict[str, list[CompiledRule]]]] = [
            *self.rs.outbound.items(),
            *((c.id, {}) for c in engine.connectors() if c.id not in self.rs.outbound)]
        self.recorder = recorder
        self._ref_attrs: dict[int, frozenset[str]] = {}
        #: objects of the batch being flowed that hold errors (the only ones to clear)
        self._erred: set[int] = set()
        #: whether the reference change journal may replace whole list comparisons
        self.use_journal = False
        #: objects of the batch linked or unlinked since their lists were last compared
        self._relinked: set[int] = set()
        #: (cs id, attribute) of the lists this batch compared
        self._compared: set[tuple[int, str]] = set()
        #: metaverse objects linked in the provisioning batch under way
        self._linked: list[int] = []
        #: exports staged by the batch under way, written at its end
        self._staged: dict[int, PendingExport] = {}
        #: links made by the provisioning batch under way, written at its end, and the
        #: connector space objects they claim
        self._links_due: list[tuple[int, str, int, str, int]] = []
        self._claimed: set[int] = set()
        self._joins = BatchJoinLookups(self.store.join_index)
        self._lists: dict[tuple[int, str | None], frozenset[str]] = {}
        self._shared: dict[int, frozenset[str]] = {}
        #: staged deletes whose cause is gone: linked back, cancelled (engine.reconciliation)
        self.reconciler = Reconciler(engine, recorder)

    def lists(self, connector_id: int, mv_object_type: str | None = None) -> frozenset[str]:
        """Lists the connector's outbound rules write (for one metaverse type), per run."""
        key = (connector_id, mv_object_type)
        if key not in self._lists:
            self._lists[key] = self.engine.outbound_lists(connector_id, mv_object_type)
        return self._lists[key]

    def shared(self, connector_id: int) -> frozenset[str]:
        if connector_id not in self._shared:
            self._shared[connector_id] = self.engine.shared_lists(connector_id)
        return self._shared[connector_id]

    def ref_attrs(self, connector_id: int) -> frozenset[str]:
        if connector_id not in self._ref_attrs:
            self._ref_attrs[connector_id] = self.engine.cs_ref_attributes(connector_id)
        return self._ref_attrs[connector_id]

    def run(self) -> None:
        for phase, work in ((0, self.provision_batch), (1, self.flow_batch)):
            if phase == 1 and self.recorder.counters["provisioned"] >= STATISTICS_AFTER:
                # The flows look the new objects up by their links (see refresh_statistics).
                self.store.db.refresh_statistics()
            while True:
                ids = self.store.mv.dirty_page(phase, 0, BATCH_SIZE)
                if not ids:
                    break
                with self.store.transaction():
                    work(ids)
                    if phase == 0:
                        self.store.mv.set_dirty_phase(ids, 1)
                    else:
                        self.store.mv.clear_dirty(ids)
                    self.recorder.checkpoint()

    # --- scope ----------------------------------------------------------------------------

    def _scoped(self, rules: Sequence[CompiledRule], mv: MVObject) -> list[CompiledRule]:
        def values_of(name: str) -> list[Any]:
            return list(mv.attributes.get(name) or ())

        def member_of(group_dn: str, rule: CompiledRule) -> bool:
            group = self.store.cs.find_dn(rule.connector_id, group_dn)
            return bool(group and group.mv_id and mv.id in self.store.mv.refs_of(
                [group.mv_id]).get(group.mv_id, {}).get("member", set()))

        return [r for r in rules if in_scope(r.rule.scoping, values_of,
                                             lambda dn, r=r: member_of(dn, r))]

    def _links(self, mv_ids: Sequence[int]) -> dict[tuple[int, int], CSObject]:
        return {(o.mv_id, o.connector_id): o  # type: ignore[misc]
                for o in self.store.cs.linked_to(list(mv_ids))}

    # --- pass A: provisioning -------------------------------------------------------------

    def provision_batch(self, ids: Sequence[int]) -> None:
        self._provision_batch(ids)
        self._flush_staged()
        if self._linked:
            self.store.mv.mark_dirty(self.store.mv.referrers(self._linked))
            self._linked = []

    def _flush_staged(self) -> None:
        """Write the batch's staged exports: each object is staged at most once per batch,
        and nothing in the batch reads them back."""
        if self._staged:
            self.store.exports.stage_many(list(self._staged.values()))
            self._staged = {}

    def _provision_batch(self, ids: Sequence[int]) -> None:
        mvs = self.store.mv.by_ids(ids)
        links = self._links(list(mvs))
        self._prefetch_joins(mvs.values(), links)
        self.reconciler.prefetch(list(mvs), links)
        placing: list[_Placing] = []
        for mv_id in ids:
            mv = mvs.get(mv_id)
            if mv is None:
                continue
            for cid, per_type in self._targets:
                rules = per_type.get(mv.object_type, [])
                scoped = self._scoped(rules, mv) if rules else []
                linked = links.get((mv.id, cid))
                if linked is not None:
                    if not scoped and linked.link_direction != "inbound":
                        deprovision_out_of_scope(self.engine, self.recorder, mv, linked, links)
                    elif scoped and self.reconciler.restores(linked, mv.id):
                        self._link(linked.id, mv, LinkType.PROVISION.value,
                                   _provisioning_rule(scoped))
                    continue
                if scoped and not self._take_back(mv, cid, scoped):
                    self._provision(mv, cid, scoped, placing)
        self._place(placing)
        self._flush_links()

    def _take_back(self, mv: MVObject, cid: int, scoped: list[CompiledRule]) -> bool:
        """Link back the object deprovisioning left with an unsent delete, if this identity
        had one in the connector: the delete is cancelled when the links are written."""
        former = self.reconciler.former(mv.id, cid)
        if former is None or former[0] in self._claimed:
            return False
        rule_id = former[1]
        if rule_id not in self.rs.by_id:  # the rule that provisioned it is gone
            rule_id = _provisioning_rule(scoped)
        self._link(former[0], mv, LinkType.PROVISION.value, rule_id)
        return True

    def _prefetch_joins(self, mvs: Iterable[MVObject],
                        links: dict[tuple[int, int], CSObject]) -> None:
        """The join index values the batch's outbound join rules will look up, one query per
        attribute (provisioning writes nothing to a connector space's join index)."""
        self._joins.forget()
        for cid, per_type in self.rs.outbound.items():
            by_rule: dict[int, list[MVObject]] = {}
            rules: dict[int, CompiledRule] = {}
            for mv in mvs:
                if (mv.id, cid) in links:
                    continue
                for r in per_type.get(mv.object_type, []):
                    if r.rule.join:
                        by_rule.setdefault(r.id, []).append(mv)
                        rules[r.id] = r
            for rule_id, group in by_rule.items():
                self._joins.prefetch(
                    cid, rules[rule_id].rule.join, inbound=False,
                    values_of=[lambda a, m=mv: list(m.attributes.get(a) or ()) for mv in group])

    def _provision(self, mv: MVObject, cid: int, scoped: list[CompiledRule],
                   placing: list[_Placing]) -> None:
        join_rules = [r for r in scoped if r.rule.join]
        for rule in join_rules:
            target = self._outbound_join(mv, cid, rule)
            if target is not None:
                # Joined, not provisioned (as the reverse join on the DN in _place): the
                # object was there before idsync, so deprovisioning disconnects it and a
                # rollback to API v1 lists it as joined.
                self._link(target.id, mv, LinkType.JOIN.value, rule.id)
                self.recorder.count("joins")
                return
        provision = has_provision(scoped)
        if provision is None:
            return
        dn = self._desired_dn(mv, cid, scoped)
        if dn is None:
            self.recorder.object_error(
                None, None, "sync", "provisioning-no-dn",
                f"metaverse object {mv.id}: rule {provision.rule.name!r} provisions to "
                f"connector {provision.rule.connector!r} but no in-scope rule flows a 'dn'",
                keep_on_object=False)
            return
        placing.append(_Placing(mv, cid, provision, dn))

    def _place(self, placing: list[_Placing]) -> None:
        """Give each object to provision its connector space object: one look-up of the
        batch's DNs per connector, then one insert of the new objects. An unclaimed object
        already at the DN is joined (a reverse join on the DN); a placeholder there (a
        reference target never imported) becomes the object."""
        existing: dict[int, dict[str, list[CSObject]]] = {}
        for cid in {p.cid for p in placing}:
            existing[cid] = self.store.cs.by_dns_all(
                cid, sorted({normalize_dn(p.dn) for p in placing if p.cid == cid}))
        new: list[_Placing] = []
        for p in placing:
            found = self._at_dn(existing[p.cid].get(normalize_dn(p.dn), []), p.mv)
            if found is not None and not found.placeholder:
                self._link(found.id, p.mv, LinkType.JOIN.value, p.rule.id)
                self.recorder.count("joins")
            elif found is not None:
                found.placeholder = False
                found.object_type = p.rule.rule.cs_object_type
                self.store.cs.save(found)
                self._provisioned(found.id, p)
            else:
                new.append(p)
        ids = self.store.cs.insert_many(
            [CSObject(0, p.cid, None, p.dn, p.rule.rule.cs_object_type, False, {}, None, None,
                      None, None, None) for p in new])
        for cs_id, p in zip(ids, new, strict=True):
            self._provisioned(cs_id, p)

    def _at_dn(self, objs: list[CSObject], mv: MVObject) -> CSObject | None:
        """Of the objects at the DN ``mv`` is provisioned to, the one it takes: a placeholder,
        else one a join may take (unlinked, unclaimed, and no delete staged for another
        identity: a DN freed by a deleted or renamed-away object and reused by a different
        person gives her a new object, beside the old one until its delete is confirmed)."""
        placeholder = next((o for o in objs if o.placeholder), None)
        if placeholder is not None:
            return placeholder
        free = [o for o in objs if o.mv_id is None and o.id not in self._claimed]
        foreign = self.reconciler.foreign([o.id for o in free], mv.id) if free else set()
        return next((o for o in free if o.id not in foreign), None)

    def _provisioned(self, cs_id: int, p: _Placing) -> None:
        self._link(cs_id, p.mv, LinkType.PROVISION.value, p.rule.id)
        self._staged[cs_id] = PendingExport(cs_id, p.cid, "add", None, {}, "pending", 0)
        self.recorder.count("provisioned")

    def _link(self, cs_id: int, mv: MVObject, link_type: str, rule_id: int) -> None:
        # Written with the batch's other links (_flush_links); a later join in the batch
        # must not claim the object again.
        self._links_due.append((mv.id, link_type, rule_id, "outbound", cs_id))
        self._claimed.add(cs_id)
        # Objects that reference this one can now name it in this connector: queued once
        # for the whole batch.
        self._linked.append(mv.id)

    def _flush_links(self) -> None:
        if self._links_due:
            # A link onto an object holding an unsent delete of the same identity cancels it.
            self.store.cs.set_links(self.reconciler.settle(self._links_due, self.rs.by_id))
            self._links_due = []
        self._claimed = set()

    def _outbound_join(self, mv: MVObject, cid: int, rule: CompiledRule) -> CSObject | None:
        def acceptable(candidates: set[int]) -> set[int]:
            objs = self.store.cs.by_ids(sorted(candidates))
            found = {i for i, o in objs.items() if o.mv_id is None and not o.placeholder
                     and o.object_type == rule.rule.cs_object_type and i not in self._claimed}
            return found - self.reconciler.foreign(found, mv.id)

        found = find_match(self._joins, cid, rule.rule.join, inbound=False,
                           values_of=lambda a: list(mv.attributes.get(a) or ()),
                           acceptable=acceptable)
        return self.store.cs.get(found) if found is not None else None

    def _desired_dn(self, mv: MVObject, cid: int, scoped: list[CompiledRule]) -> str | None:
        view = self._view(mv, cid, {}, None)
        contributions = []
        for r in scoped:
            for t in r.transformations:
                if t.target == DN_TARGET:
                    try:
                        value = t.evaluate(view)
                    except ExpressionError:
                        return None
                    contributions.append(Contribution(r.precedence, r.id, None,
                                                      t.merge_type, value))
        outcome = resolve(contributions)
        if outcome.action != "set" or not outcome.value:
            return None
        return str(outcome.value[0])

    def _view(self, mv: MVObject, cid: int, mv_to_cs: dict[int, int],
              hologram: dict[str, list[Any]] | None) -> OutboundView:
        return OutboundView(
            mv, mv_to_cs=mv_to_cs, dn_of=self._dn_of,
            dn_to_cs=lambda dn: (o.id if (o := self.store.cs.find_dn(cid, dn)) else None),
            hologram=hologram, multivalued=self.engine.multivalued,
            cs_ref_attributes=self.ref_attrs(cid), parameters=self.engine.parameters)

    def _dn_of(self, cs_id: int) -> str:
        found = self.store.cs.dns_and_anchors([cs_id])
        return found[cs_id][0] if cs_id in found else ""

    # --- pass B: flow ---------------------------------------------------------------------

    def flow_batch(self, ids: Sequence[int]) -> None:
        mvs = self.store.mv.by_ids(ids)
        links = self._links(list(mvs))
        linked_ids = [o.id for o in links.values()]
        pending = self.store.exports.get_many(linked_ids) if linked_ids else {}
        mv_to_cs_by_conn = self._load_refs(mvs, links, pending)
        self._erred = self.store.errors.holders(linked_ids)
        self._relinked = self.store.journal.marked(linked_ids, RelinkMark.OUTBOUND) if (
            self.use_journal) else set()
        self._compared = set()
        for mv_id in ids:
            mv = mvs.get(mv_id)
            if mv is None:
                continue
            for cid, per_type in self.rs.outbound.items():
                cs = links.get((mv.id, cid))
                if cs is None:
                    continue
                rules = per_type.get(mv.object_type, [])
                pe = pending.get(cs.id)
                if pe is not None and pe.kind == "delete":
                    continue
                scoped = self._scoped(rules, mv) if rules else []
                if not scoped:
                    unstaged(self.recorder, self.store, cs, pe)  # no rule writes it now
                    continue
                try:
                    self._flow_one(mv, cs, scoped, mv_to_cs_by_conn[cid], pe)
                except NeedFullRefs:
                    # A rule needs the values of a large list after all: evaluate this object
                    # again with every value loaded (nothing was staged yet).
                    whole, mv_to_cs = self._load_whole(mv, cs)
                    self._flow_one(whole, cs, scoped, mv_to_cs, pe)
        self._flush_staged()
        self._spend_journal(mvs, links)

    def _spend_journal(self, mvs: dict[int, MVObject],
                       links: dict[tuple[int, int], CSObject]) -> None:
        """The metaverse lists of the batch went out to every connector: their journal
        entries are spent, and so are the target lists' entries where the flow compared
        them. A target list the flow did not compare (its rule out of scope, a failed rule)
        is compared whole next time."""
        deltas = self.store.journal
        deltas.consume_all(JournalSpace.METAVERSE, list(mvs))
        by_conn: dict[int, list[CSObject]] = {}
        for (_, cid), cs in links.items():
            by_conn.setdefault(cid, []).append(cs)
        for cid, objs in by_conn.items():
            deltas.consume(JournalSpace.CONNECTOR_SPACE, [o.id for o in objs],
                           self.lists(cid) | {RelinkMark.OUTBOUND})
            missed = {o.id for o in objs for a in self.lists(cid, mvs[o.mv_id].object_type)
                      if (o.id, a) not in self._compared}
            deltas.mark(sorted(missed), RelinkMark.OUTBOUND)

    def _load_refs(self, mvs: dict[int, MVObject], links: dict[tuple[int, int], CSObject],
                   pending: dict[int, PendingExport]) -> dict[int, dict[int, int]]:
        """Load the metaverse objects' references and the linked objects' holograms, large
        lists left in the store (``DeferredRefs``; their Direct flows are computed there as
        differences). Returns, per connector, metaverse id -> CS id for the loaded values."""
        threshold = self.engine.ref_delta_threshold
        mv_lists = load_lists(self.store, "mv", list(mvs), None, threshold)
        for mv in mvs.values():
            mv.refs = mv_lists[mv.id]
        linked = list(links.values())
        # An export sent and not confirmed yet is compared with what the directory will hold
        # once it applies it (worked out in memory): those holograms are loaded whole.
        deferrable = {o.id for o in linked if o.anchor is not None and not (
            o.id in pending and pending[o.id].state == "exported")}
        holograms = load_lists(self.store, "cs", [o.id for o in linked], None, threshold,
                               deferrable=deferrable)
        for o in linked:
            o.refs = holograms[o.id]
        whole, partial = split_loaded({mv.id: mv.refs for mv in mvs.values()})
        out: dict[int, dict[int, int]] = {}
        for cid in self.rs.outbound:
            found = self.store.cs.mv_reference_targets_in(cid, whole) if whole else {}
            if partial:
                found.update(self.store.cs.in_connector_for_mv(cid, sorted(partial)))
            out[cid] = found
        return out

    def _load_whole(self, mv: MVObject, cs: CSObject) -> tuple[MVObject, dict[int, int]]:
        """A copy of ``mv`` with every reference value loaded, ``cs`` with its whole
        hologram, and the translation of the values into ``cs``'s connector space (``mv``
        itself keeps its deferred lists for the other connectors)."""
        refs = self.store.mv.refs_of([mv.id]).get(mv.id, {})
        whole = dataclasses.replace(mv, refs={a: set(v) for a, v in refs.items()})
        cs.refs = {a: set(v) for a, v in self.store.cs.refs_of([cs.id]).get(cs.id, {}).items()}
        return whole, self.store.cs.mv_reference_targets_in(cs.connector_id, [mv.id])

    def _flow_one(self, mv: MVObject, cs: CSObject, scoped: list[CompiledRule],
                  mv_to_cs: dict[int, int], pe: PendingExport | None) -> None:
        view = self._view(mv, cs.connector_id, mv_to_cs, cs.attributes)
        contributions: list[tuple[str, Contribution]] = []
        exists = cs.anchor is not None
        try:
            for r in scoped:
                for t in r.transformations:
                    if t.apply_once and exists:
                        continue
                    contributions.append((t.target, Contribution(
                        r.precedence, r.id, None, t.merge_type, t.evaluate(view))))
        except ErrorFunctionTriggered as exc:
            self.recorder.object_error(cs.id, cs.dn, "export", SYNC_RULE_ERROR, exc.message,
                                       connector_id=cs.connector_id)
            self.recorder.event(EventId.SYNC_RULE_ERROR, f"{cs.dn}: {exc.message}",
                                {"cs_id": cs.id, "code": SYNC_RULE_ERROR})
            self._hold(pe)
            return
        except ExpressionError as exc:
            self.recorder.object_error(cs.id, cs.dn, "export", EXPRESSION_ERROR, str(exc),
                                       connector_id=cs.connector_id)
            self._hold(pe)
            return
        if pe is not None and pe.state == "exported":
            # Sent but not confirmed yet: compare with what the directory will hold once it
            # applies that export, so an unrelated re-evaluation does not send it twice.
            expected = _expected_after(cs, pe)
            delta = self._delta(expected, group_by_target(contributions), None, view.dropped,
                                in_store=False)
            self._clear_rule_errors(cs, view.dropped)
            if _is_empty(delta):
                return
            self._stage(cs, _merge(pe, delta), None)
            return
        staged = self._delta(cs, group_by_target(contributions), pe, view.dropped)
        self._clear_rule_errors(cs, view.dropped)
        self._stage(cs, staged, pe)

    def _clear_rule_errors(self, cs: CSObject, dropped: dict[str, list[int]]) -> None:
        if cs.id in self._erred:
            self.store.errors.clear(cs.id, "export", code=SYNC_RULE_ERROR)
            self.store.errors.clear(cs.id, "export", code=EXPRESSION_ERROR)
        self._record_dropped_references(cs, dropped)

    def _hold(self, pe: PendingExport | None) -> None:
        """An object whose outbound rules fail is not exported (not even a provisioning add
        without the failed attribute) until they succeed; the next flow restages it."""
        if pe is not None and pe.state == "pending":
            self.store.exports.set_state([pe.cs_id], ExportState.HELD)

    def _record_dropped_references(self, cs: CSObject, dropped: dict[str, list[int]]) -> None:
        if not dropped:
            if cs.id in self._erred:
                self.store.errors.clear(cs.id, "export", code=DN_ATTRIBUTES_FAILURE)
            return
        parts = [f"{attr}: {len(ids)} value(s) name objects not in this connector space "
                 f"(metaverse ids {', '.join(map(str, ids[:5]))}{'...' if len(ids) > 5 else ''})"
                 for attr, ids in sorted(dropped.items())]
        detail = "; ".join(parts)
        self.recorder.object_error(cs.id, cs.dn, "export", DN_ATTRIBUTES_FAILURE, detail,
                                   informational=True, connector_id=cs.connector_id)
        self.recorder.event(EventId.DN_ATTRIBUTES_FAILURE, f"{cs.dn}: {detail}",
                            {"cs_id": cs.id, "dropped": {a: len(i) for a, i in dropped.items()}})

    def _delta(self, cs: CSObject, grouped: dict[str, list[Contribution]],
               pe: PendingExport | None, dropped: dict[str, list[int]], *,
               in_store: bool = True) -> PendingExport:
        """The export that makes ``cs`` what the rules say. ``in_store``: ``cs`` is the
        hologram as stored, so a deferred list's difference can be computed in the store."""
        is_add = cs.anchor is None
        new = PendingExport(cs.id, cs.connector_id, "add" if is_add else "modify", None, {},
                            "pending", pe.attempts if pe else 0)
        for name, contributions in grouped.items():
            outcome = resolve(contributions)
            if outcome.action == "keep":
                continue
            if name == DN_TARGET:
                self._dn_change(cs, outcome, new, is_add)
                continue
            if isinstance(outcome.value, RefSet | RefDelta) or name in cs.refs or (
                    outcome.action == "remove" and name in self.ref_attrs(cs.connector_id)):
                self._ref_delta(cs, name, outcome, new, dropped, in_store, pe)
            else:
                _value_delta(cs, name, outcome, new, is_add)
        return new

    def _dn_change(self, cs: CSObject, outcome: Outcome, new: PendingExport,
                   is_add: bool) -> None:
        if outcome.action != "set" or not outcome.value:
            return
        dn = str(outcome.value[0])
        if normalize_dn(dn) == normalize_dn(cs.dn) and dn == cs.dn:
            return
        if is_add:
            self.store.cs.set_dn(cs.id, dn)
            cs.dn = dn
        elif normalize_dn(dn) != normalize_dn(cs.dn):
            new.kind = "rename"
            new.new_dn = dn

    def _ref_delta(self, cs: CSObject, name: str, outcome: Outcome, new: PendingExport,
                   dropped: dict[str, list[int]], in_store: bool,
                   pe: PendingExport | None) -> None:
        value = outcome.value if outcome.action == "set" else None
        self._compared.add((cs.id, name))
        if isinstance(value, RefDelta):
            if not in_store:
                raise NeedFullRefs(name)
            if (self.use_journal and cs.id not in self._relinked
                    and name not in self.shared(cs.connector_id)):
                adds, removes = self._journal_delta(cs, name, value, dropped, pe)
            else:
                # The metaverse list is large: the database computes what changes.
                adds, removes, missing = self.store.refdeltas.outbound(
                    value.source_id, value.attribute, cs.id, name, cs.connector_id)
                if missing:
                    dropped[value.attribute] = missing
        else:
            want = set(value.ids) if isinstance(value, RefSet) else set()
            have = cs.refs.get(name, set())
            if isinstance(have, DeferredRefs):
                have = self.store.cs.ref_targets(cs.id, name)
            adds, removes = want - have, have - want
        if adds:
            new.ref_adds[name] = adds
        if removes:
            new.ref_removes[name] = removes

    def _journal_delta(self, cs: CSObject, name: str, value: RefDelta,
                       dropped: dict[str, list[int]], pe: PendingExport | None
                       ) -> tuple[set[int], set[int]]:
        """The pending value changes of a large target list, from the journal: the staged
        export already holds what the list needed when it was last compared; only the
        values the journal names (metaverse values changed, targets relinked, hologram
        values changed) are looked at again."""
        deltas = self.store.journal
        mv_changes = deltas.changed(JournalSpace.METAVERSE, value.source_id, value.attribute)
        cs_changes = deltas.changed(JournalSpace.CONNECTOR_SPACE, cs.id, name)
        adds, removes, looked = deltas.outbound_changed(
            value.source_id, value.attribute, cs.id, name, cs.connector_id, mv_changes,
            cs_changes)
        if pe is not None:
            adds |= pe.ref_adds.get(name, set()) - looked
            removes |= pe.ref_removes.get(name, set()) - looked
        if cs.id in self._erred or deltas.unplaced(value.source_id, value.attribute,
                                                  cs.connector_id, mv_changes):
            # A dropped reference may have appeared or gone: the error lists them all.
            missing = self.store.refdeltas.dropped(value.source_id, value.attribute,
                                                   cs.connector_id)
            if missing:
                dropped[value.attribute] = missing
        return adds, removes

    def _stage(self, cs: CSObject, new: PendingExport, pe: PendingExport | None) -> None:
        if _is_empty(new) and new.kind != "add":
            if pe is not None:
                self._staged.pop(cs.id, None)
                self.store.exports.drop(cs.id)
                record_cancel(self.recorder, cs.id, cs.dn, pe.kind,
                              CancelCause.NOTHING_TO_CHANGE)
            return
        if pe is not None and pe.state == "exported" and _same_export(pe, new):
            return  # already sent, waiting for the import that confirms it
        if pe is not None and _same_export(pe, new) and pe.state == "pending":
            return
        self._staged[cs.id] = new  # written with the batch's others (_flush_staged)
        self.recorder.count(f"export-{new.kind}s-staged")


def _provisioning_rule(scoped: list[CompiledRule]) -> int:
    return (has_provision(scoped) or scoped[0]).id


def _is_empty(pe: PendingExport) -> bool:
    return not (pe.attributes or pe.ref_adds or pe.ref_removes or pe.new_dn)


def _expected_after(cs: CSObject, pe: PendingExport) -> CSObject:
    attributes = dict(cs.attributes)
    for name, vals in pe.attributes.items():
        if vals:
            attributes[name] = vals
        else:
            attributes.pop(name, None)
    refs = {a: set(v) for a, v in cs.refs.items()}
    for name, adds in pe.ref_adds.items():
        refs.setdefault(name, set()).update(adds)
    for name, removes in pe.ref_removes.items():
        refs.setdefault(name, set()).difference_update(removes)
    return CSObject(cs.id, cs.connector_id, cs.anchor or "(exported)", pe.new_dn or cs.dn,
                    cs.object_type, False, attributes, None, cs.mv_id, cs.link_type,
                    cs.link_rule_id, cs.link_direction, refs)


def _merge(sent: PendingExport, delta: PendingExport) -> PendingExport:
    """The export still owed: what was sent (unconfirmed) updated by the new changes."""
    attributes = {**sent.attributes, **delta.attributes}
    adds: dict[str, set[int]] = {}
    removes: dict[str, set[int]] = {}
    for name in set(sent.ref_adds) | set(sent.ref_removes) | set(delta.ref_adds) | set(
            delta.ref_removes):
        d_add, d_rem = delta.ref_adds.get(name, set()), delta.ref_removes.get(name, set())
        a = (sent.ref_adds.get(name, set()) - d_rem) | d_add
        r = (sent.ref_removes.get(name, set()) - d_add) | d_rem
        if a:
            adds[name] = a
        if r:
            removes[name] = r
    new_dn = delta.new_dn or sent.new_dn
    kind = "rename" if new_dn else "modify"
    return PendingExport(sent.cs_id, sent.connector_id, kind, new_dn, attributes, "pending",
                         sent.attempts, adds, removes)


def _value_delta(cs: CSObject, name: str, outcome: Outcome, new: PendingExport,
                 is_add: bool) -> None:
    have = cs.attributes.get(name)
    if outcome.action == "set":
        if is_add or not same_values(have, outcome.value):
            new.attributes[name] = list(outcome.value)
    elif have:
        new.attributes[name] = []


def _same_export(a: PendingExport, b: PendingExport) -> bool:
    return (a.kind == b.kind and a.new_dn == b.new_dn
            and a.attributes.keys() == b.attributes.keys()
            and all(same_values(a.attributes[k], b.attributes[k]) for k in a.attributes)
            and _same_refs(a.ref_adds, b.ref_adds) and _same_refs(a.ref_removes, b.ref_removes))


def _same_refs(a: dict[str, set[int]], b: dict[str, set[int]]) -> bool:
    return {k: v for k, v in a.items() if v} == {k: v for k, v in b.items() if v}


