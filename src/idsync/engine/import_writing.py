"""Writing a planned import segment with a fixed number of statements, whatever its size:
new objects, reference targets (placeholders for the missing), reference rows, placeholders
taken over by renamed objects, object rows, join index, removals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any

from idsync.engine.dn_resolution import DNResolver
from idsync.engine.import_plan import RefOp, Slot
from idsync.engine.joins import index_entries
from idsync.engine.placeholder_takeover import take_over_placeholders
from idsync.engine.recorder import RunRecorder
from idsync.engine.reference_integrity import ReferenceIntegrity
from idsync.model import CSObject, PendingImport
from idsync.store import Store

#: (cs id, attribute, target cs id): one reference row.
RefRow = tuple[int, str, int]


class SegmentWriter:
    def __init__(self, store: Store, connector_id: int, recorder: RunRecorder,
                 integrity: ReferenceIntegrity, join_keys: set[tuple[str, bool]],
                 resolver: DNResolver) -> None:
        self.store = store
        self.connector_id = connector_id
        self.recorder = recorder
        self.integrity = integrity
        self.join_keys = join_keys
        self.resolver = resolver

    def write(self, slots: list[Slot], seen_run: int | None, touched: dict[int, CSObject],
              held: set[str]) -> None:
        """Write a segment (``seen_run``: the full import run that saw its objects;
        ``touched`` collects the objects staged, as staged)."""
        if not slots:
            return
        store = self.store
        new = [s for s in slots if s.new]
        for slot, cs_id in zip(new, store.cs_objects.insert_many([s.cs for s in new], seen_run),
                               strict=True):
            slot.cs.id = cs_id
        self.recorder.trace("adds", [s.cs.id for s in new])  # counted when planned
        resolved = self.resolver.resolve(slots, held)
        # Name references to renamed objects stay with their old DNs, and the renamed objects
        # take over the placeholders at their new DNs, before the records' reference
        # operations apply by name on top (idsync.engine.reference_integrity).
        self.integrity.renamed(slots)
        holders = take_over_placeholders(
            store, self.connector_id, [s for s in slots if s.renamed], slots)
        self.load_named_refs(slots, resolved)
        ref_adds: list[RefRow] = []
        ref_removes: list[RefRow] = []
        fresh_adds: list[RefRow] = []  # of objects inserted just now
        dirty: list[CSObject] = []
        attrs_changed: set[int] = set()
        unchanged: list[int] = []
        for slot in slots:
            cs = slot.cs
            if slot.kind == "delete":
                if slot.dirty:
                    dirty.append(cs)
                    if cs.id in touched:  # staged by an earlier segment: its state now
                        touched[cs.id] = cs
                continue
            touched[cs.id] = cs
            if slot.new:
                apply_ref_ops(cs, slot.ref_ops, resolved, fresh_adds, ref_removes)
                continue
            refs_changed = apply_ref_ops(cs, slot.ref_ops, resolved, ref_adds, ref_removes)
            if slot.changed or refs_changed:
                if slot.kind == "full":
                    if cs.pending_import is None:
                        cs.pending_import = PendingImport.UPDATE
                    self.recorder.count("adds" if slot.was_placeholder else "updates",
                                        cs_id=cs.id)
                else:
                    if cs.pending_import in (None, PendingImport.DELETE):
                        cs.pending_import = PendingImport.UPDATE
                    self.recorder.count("updates", cs_id=cs.id)
                dirty.append(cs)
                if slot.attrs_changed:
                    attrs_changed.add(cs.id)
            else:
                self.recorder.count("no-change")
                unchanged.append(cs.id)
        store.cs_refs.change_refs_many(ref_adds, ref_removes, fresh_adds)
        # A delta import's member changes reach the members' memberOf unseen; a full import
        # reads every memberOf whole (and would write every member row twice).
        if seen_run is None:
            self.integrity.linked_back([*ref_adds, *fresh_adds], ref_removes)
        # References to the segment's deleted objects: bound ones dropped, names moved to
        # what the DNs name once every object is at its new DN (written below).
        rebinding = self.integrity.deleted(slots)
        store.staging.update_many(dirty, seen_run, with_attributes=attrs_changed)
        if seen_run is not None and unchanged:
            store.staging.touch_seen(unchanged, seen_run)
        if self.join_keys:
            changed = [cs for cs in dirty if cs.pending_import != PendingImport.DELETE]
            indexed = [s.cs for s in new] + changed
            rows = [(a, v, cs.id) for cs in indexed
                    for a, v in index_entries(self.join_keys, _values_of(cs))]
            store.staging.replace_join_entries(self.connector_id, [cs.id for cs in changed],
                                               rows)
        if holders:
            store.cs_objects.mark_pending_update(holders)
        # The source of authority, as the directory says it (None leaves it as it is).
        kept = [s for s in slots if s.kind != "delete" and s.cloud_managed is not None]
        store.authority.set_many([s.cs.id for s in kept if s.cloud_managed],
                                 [s.cs.id for s in kept if not s.cloud_managed])
        self.integrity.settle(rebinding)
        # Last, once the segment's references are written: a removed object that is still
        # referenced stays as a placeholder.
        store.placeholders.remove_many(self.connector_id, [s.cs.id for s in slots if s.remove])
        gone = sorted({s.key for s in slots if s.kind == "delete" and s.key})
        if gone:
            self.integrity.tidy(gone)
            # the run's DN cache must not name a placeholder tidied away
            self.resolver.forget(gone)

    def load_named_refs(self, slots: list[Slot], resolved: dict[str, int]) -> None:
        """For objects whose records only add or remove reference values: which of the values
        they name the object holds (all the replay in apply_ref_ops needs of the list)."""
        for slot in slots:
            if slot.new or slot.kind != "modify" or not slot.ref_ops or slot.cs.refs:
                continue
            if any(op == "set" for op, _, _ in slot.ref_ops):
                continue
            named = sorted({resolved[dn] for _, _, dns in slot.ref_ops for dn in dns
                            if dn in resolved})
            slot.cs.refs = self.store.cs_refs.held_refs(slot.cs.id, named) if named else {}


def _values_of(cs: CSObject) -> Callable[[str], Sequence[Any]]:
    """One object's values by attribute, for the join index."""
    return lambda a: cs.attributes.get(a, ())


def apply_ref_ops(cs: CSObject, ops: list[RefOp], resolved: dict[str, int],
                  adds: list[RefRow], removes: list[RefRow]) -> bool:
    """Replay a record's reference operations on the object's stored references; append the
    rows that change and say whether any did."""
    if not ops:
        return False
    have = cs.refs
    current: dict[str, set[int]] = {}
    for op, name, dns in ops:
        if op == "remove":  # a value not resolved names nothing the object holds
            ids = {resolved[dn] for dn in dns if dn in resolved}
        else:  # every DN was resolved (a placeholder at worst)
            ids = set(map(resolved.__getitem__, dns))
        if op == "set":
            current[name] = ids
            continue
        target = current.setdefault(name, set(have.get(name, ())))
        if op == "add":
            target |= ids
        else:
            target -= ids
    changed = False
    for name, want in current.items():
        old = have.get(name, set())
        if want == old:
            continue
        changed = True
        adds.extend(zip(repeat(cs.id), repeat(name), want - old))
        removes.extend(zip(repeat(cs.id), repeat(name), old - want))
        have[name] = want
    return changed
