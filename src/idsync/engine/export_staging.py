"""Export staging: the pending export that makes a connector space object what its outbound
rules say, computed as the difference from its hologram, and staged for the batch.

Attributes differ value by value (``same_values``); references differ as sets of target ids,
so a 250,000-member group's export names only the members added and removed. A large
metaverse list is compared in the store, restricted to what the reference-change journal names
when it can (``engine.reference_journal``). An export sent and not confirmed yet is compared
with what the directory will hold once it applies it (``expected_after``), and the export
still owed is that one updated (``merge_sent``).
"""

from __future__ import annotations

from idsync.dn import normalize_dn
from idsync.engine.flow import (
    Action,
    Contribution,
    DeferredRefs,
    NeedFullRefs,
    RefDelta,
    RefSet,
    Resolution,
    resolve,
)
from idsync.engine.reconciliation import CancelCause, record_cancel
from idsync.engine.reference_journal import OutboundChanges
from idsync.engine.sync_context import SyncContext
from idsync.model import CSObject, ExportKind, ExportState, PendingExport
from idsync.rules.model import DN_TARGET
from idsync.values import same_values


class ExportStaging:
    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.recorder = ctx.recorder

    def delta(self, cs: CSObject, grouped: dict[str, list[Contribution]],
               pe: PendingExport | None, dropped: dict[str, list[int]], *,
               in_store: bool = True) -> PendingExport:
        """The export that makes ``cs`` what the rules say. ``in_store``: ``cs`` is the
        hologram as stored, so a deferred list's difference can be computed in the store."""
        is_add = cs.anchor is None
        new = PendingExport(cs_id=cs.id, connector_id=cs.connector_id,
                            kind=ExportKind.ADD if is_add else ExportKind.MODIFY, new_dn=None,
                            attributes={}, state=ExportState.PENDING,
                            attempts=pe.attempts if pe else 0)
        for name, contributions in grouped.items():
            outcome = resolve(contributions)
            if outcome.action is Action.KEEP:
                continue
            if name == DN_TARGET:
                self._dn_change(cs, outcome, new, is_add)
                continue
            if isinstance(outcome.value, RefSet | RefDelta) or name in cs.refs or (
                    outcome.action is Action.REMOVE
                    and name in self.ctx.ref_attrs(cs.connector_id)):
                self._ref_delta(cs, name, outcome, new, dropped, in_store, pe)
            else:
                _value_delta(cs, name, outcome, new, is_add)
        return new

    def _dn_change(self, cs: CSObject, outcome: Resolution, new: PendingExport,
                   is_add: bool) -> None:
        if outcome.action is not Action.SET or not outcome.value:
            return
        dn = str(outcome.value[0])
        if normalize_dn(dn) == normalize_dn(cs.dn) and dn == cs.dn:
            return
        if is_add:
            self.store.cs.set_dn(cs.id, dn)
            cs.dn = dn
        elif normalize_dn(dn) != normalize_dn(cs.dn):
            new.kind = ExportKind.RENAME
            new.new_dn = dn

    def _ref_delta(self, cs: CSObject, name: str, outcome: Resolution, new: PendingExport,
                   dropped: dict[str, list[int]], in_store: bool,
                   pe: PendingExport | None) -> None:
        value = outcome.value if outcome.action is Action.SET else None
        self.ctx.compared.add((cs.id, name))
        if isinstance(value, RefDelta):
            if not in_store:
                raise NeedFullRefs(name)
            changes = self.ctx.journal.outbound_changes(cs, name, value, self.ctx.relinked)
            if changes is not None:
                adds, removes = self._journal_delta(cs, value, changes, dropped, pe, name)
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

    def _journal_delta(self, cs: CSObject, value: RefDelta, changes: OutboundChanges,
                       dropped: dict[str, list[int]], pe: PendingExport | None, name: str
                       ) -> tuple[set[int], set[int]]:
        """The pending value changes of a large target list, from the journal: the staged
        export already holds what the list needed when it was last compared; only the
        values the journal names (metaverse values changed, targets relinked, hologram
        values changed) are looked at again."""
        adds, removes, looked = changes.adds, changes.removes, changes.looked
        if pe is not None:
            adds |= pe.ref_adds.get(name, set()) - looked
            removes |= pe.ref_removes.get(name, set()) - looked
        if cs.id in self.ctx.erred or self.ctx.journal.unplaced(value, cs.connector_id,
                                                                changes):
            # A dropped reference may have appeared or gone: the error lists them all.
            missing = self.store.refdeltas.dropped(value.source_id, value.attribute,
                                                   cs.connector_id)
            if missing:
                dropped[value.attribute] = missing
        return adds, removes

    def stage(self, cs: CSObject, new: PendingExport, pe: PendingExport | None) -> None:
        if is_empty(new) and new.kind != ExportKind.ADD:
            if pe is not None:
                self.ctx.staged.pop(cs.id, None)
                self.store.exports.drop(cs.id)
                record_cancel(self.recorder, cs.id, cs.dn, pe.kind,
                              CancelCause.NOTHING_TO_CHANGE)
            return
        if pe is not None and pe.state == ExportState.EXPORTED and _same_export(pe, new):
            return  # already sent, waiting for the import that confirms it
        if pe is not None and _same_export(pe, new) and pe.state == ExportState.PENDING:
            return
        self.ctx.staged[cs.id] = new  # written with the batch's others (flush_staged)
        self.recorder.count(f"export-{new.kind}s-staged", cs_id=cs.id)


def is_empty(pe: PendingExport) -> bool:
    return not (pe.attributes or pe.ref_adds or pe.ref_removes or pe.new_dn)


def expected_after(cs: CSObject, pe: PendingExport) -> CSObject:
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
    return CSObject(id=cs.id, connector_id=cs.connector_id, anchor=cs.anchor or "(exported)",
                    dn=pe.new_dn or cs.dn, object_type=cs.object_type, placeholder=False,
                    attributes=attributes, pending_import=None, mv_id=cs.mv_id,
                    link_type=cs.link_type, link_rule_id=cs.link_rule_id,
                    link_direction=cs.link_direction, refs=refs)


def merge_sent(sent: PendingExport, delta: PendingExport) -> PendingExport:
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
    kind = ExportKind.RENAME if new_dn else ExportKind.MODIFY
    return PendingExport(cs_id=sent.cs_id, connector_id=sent.connector_id, kind=kind,
                         new_dn=new_dn, attributes=attributes, state=ExportState.PENDING,
                         attempts=sent.attempts, ref_adds=adds, ref_removes=removes)


def _value_delta(cs: CSObject, name: str, outcome: Resolution, new: PendingExport,
                 is_add: bool) -> None:
    have = cs.attributes.get(name)
    if outcome.action is Action.SET:
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


