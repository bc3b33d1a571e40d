"""Provisioning, the first outbound pass: metaverse -> connector space objects.

For each connector with outbound rules, each in-scope metaverse object of a batch is joined to
a connector space object or provisioned as a new one; one out of scope is deprovisioned. A
staged delete whose cause is gone is taken back (``engine.reconciliation``). Every object is
provisioned before any reference is translated (``engine.outbound_flow``), so a new group's
new members are already in the target connector space when its member list is computed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from idsync.dn import normalize_dn
from idsync.engine.flow import Action, Contribution, resolve
from idsync.engine.joins import find_match
from idsync.engine.reconciliation import LinkRow, Reconciler, deprovision_out_of_scope
from idsync.engine.ruleset import CompiledRule, has_provision
from idsync.engine.sync_context import SyncContext
from idsync.error_codes import ErrorCode
from idsync.expressions import ExpressionError
from idsync.model import (
    CSObject,
    Direction,
    ExportKind,
    ExportState,
    LinkType,
    MVObject,
    PendingExport,
)
from idsync.rules.model import DN_TARGET


@dataclasses.dataclass(slots=True)
class _Placing:
    """A metaverse object to provision into a connector at ``dn`` (``Provisioning._place``)."""

    mv: MVObject
    cid: int
    rule: CompiledRule
    dn: str


class Provisioning:
    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.rs = ctx.rs
        self.recorder = ctx.recorder
        #: every connector, with its enabled outbound rules by metaverse type: a connector
        #: whose outbound rules are all disabled still deprovisions what they provisioned
        #: (disabling the last rule must stage what disabling each one does)
        self._targets: list[tuple[int, dict[str, list[CompiledRule]]]] = [
            *self.rs.outbound.items(),
            *((c.id, {}) for c in ctx.engine.connectors() if c.id not in self.rs.outbound)]
        #: links made by the batch under way, written at its end, and the connector space
        #: objects they claim
        self._links_due: list[LinkRow] = []
        self._claimed: set[int] = set()
        #: staged deletes whose cause is gone: linked back, cancelled (engine.reconciliation)
        self.reconciler = Reconciler(ctx.engine, ctx.recorder)

    def provision_batch(self, ids: Sequence[int]) -> None:
        self._provision_batch(ids)
        self.ctx.flush_staged()
        self.ctx.mark_referrers_dirty()

    def _provision_batch(self, ids: Sequence[int]) -> None:
        mvs = self.store.mv.by_ids(ids)
        links = self.ctx.links_of(list(mvs))
        self._prefetch_joins(mvs.values(), links)
        self.reconciler.prefetch(list(mvs), links)
        placing: list[_Placing] = []
        for mv_id in ids:
            mv = mvs.get(mv_id)
            if mv is None:
                continue
            for cid, per_type in self._targets:
                rules = per_type.get(mv.object_type, [])
                scoped = self.ctx.outbound_scoped(rules, mv) if rules else []
                linked = links.get((mv.id, cid))
                if linked is not None:
                    if not scoped and linked.link_direction != Direction.INBOUND:
                        deprovision_out_of_scope(self.ctx.engine, self.recorder, mv, linked,
                                                 links)
                    elif scoped and self.reconciler.restores(linked, mv.id):
                        self._link(linked.id, mv, LinkType.PROVISION,
                                   provisioning_rule(scoped))
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
            rule_id = provisioning_rule(scoped)
        self._link(former[0], mv, LinkType.PROVISION, rule_id)
        return True

    def _prefetch_joins(self, mvs: Iterable[MVObject],
                        links: dict[tuple[int, int], CSObject]) -> None:
        """The join index values the batch's outbound join rules will look up, one query per
        attribute (provisioning writes nothing to a connector space's join index)."""
        self.ctx.joins.forget()
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
                self.ctx.joins.prefetch(
                    cid, rules[rule_id].rule.join, inbound=False,
                    values_of=[_values_of(mv) for mv in group])

    def _provision(self, mv: MVObject, cid: int, scoped: list[CompiledRule],
                   placing: list[_Placing]) -> None:
        join_rules = [r for r in scoped if r.rule.join]
        for rule in join_rules:
            target = self._outbound_join(mv, cid, rule)
            if target is not None:
                # Joined, not provisioned (as the reverse join on the DN in _place): the
                # object was there before idsync, so deprovisioning disconnects it and a
                # rollback to API v1 lists it as joined.
                self._link(target.id, mv, LinkType.JOIN, rule.id)
                self.recorder.count("joins")
                return
        provision = has_provision(scoped)
        if provision is None:
            return
        dn = self._desired_dn(mv, cid, scoped)
        if dn is None:
            self.recorder.object_error(
                None, None, "sync", ErrorCode.PROVISIONING_NO_DN,
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
                self._link(found.id, p.mv, LinkType.JOIN, p.rule.id)
                self.recorder.count("joins")
            elif found is not None:
                found.placeholder = False
                found.object_type = p.rule.rule.cs_object_type
                self.store.cs.save(found)
                self._provisioned(found.id, p)
            else:
                new.append(p)
        ids = self.store.cs.insert_many(
            [CSObject(id=0, connector_id=p.cid, anchor=None, dn=p.dn,
                      object_type=p.rule.rule.cs_object_type, placeholder=False, attributes={},
                      pending_import=None, mv_id=None, link_type=None, link_rule_id=None,
                      link_direction=None) for p in new])
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
        self._link(cs_id, p.mv, LinkType.PROVISION, p.rule.id)
        self.ctx.staged[cs_id] = PendingExport(
            cs_id=cs_id, connector_id=p.cid, kind=ExportKind.ADD, new_dn=None, attributes={},
            state=ExportState.PENDING, attempts=0)
        self.recorder.count("provisioned", cs_id=cs_id)

    def _link(self, cs_id: int, mv: MVObject, link_type: LinkType, rule_id: int) -> None:
        # Written with the batch's other links (_flush_links); a later join in the batch
        # must not claim the object again.
        self._links_due.append((mv.id, link_type, rule_id, Direction.OUTBOUND,
                                cs_id))
        self._claimed.add(cs_id)
        # Objects that reference this one can now name it in this connector: queued once
        # for the whole batch.
        self.ctx.linked_mv.append(mv.id)

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

        found = find_match(self.ctx.joins, cid, rule.rule.join, inbound=False,
                           values_of=lambda a: list(mv.attributes.get(a) or ()),
                           acceptable=acceptable)
        return self.store.cs.get(found) if found is not None else None

    def _desired_dn(self, mv: MVObject, cid: int, scoped: list[CompiledRule]) -> str | None:
        view = self.ctx.outbound_view(mv, cid, {}, None)
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
        if outcome.action is not Action.SET or not outcome.value:
            return None
        return str(outcome.value[0])


def provisioning_rule(scoped: list[CompiledRule]) -> int:
    return (has_provision(scoped) or scoped[0]).id


def _values_of(mv: MVObject) -> Callable[[str], list[Any]]:
    """What an outbound join compares of ``mv``: its values of one attribute."""
    return lambda name: list(mv.attributes.get(name) or ())
