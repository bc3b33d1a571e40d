"""Planning an import segment: each record becomes a ``Slot``, the object's new state except its
references, which stay DN operations until the whole segment's DNs are resolved in one query
(idsync.engine.dn_resolution).

A segment is a run of records in which no object repeats (a delta import may carry two changes
of one entry): the objects it names are loaded with one query each by anchor and DN, planned
in Python, then written together (idsync.engine.import_writing).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from idsync.connectors.base import ImportKind, ImportRecord
from idsync.dn import normalize_dn
from idsync.engine.hologram_values import same, same_attributes, value_change
from idsync.engine.import_guards import ImportGuard
from idsync.engine.recorder import RunRecorder
from idsync.error_codes import ErrorCode
from idsync.model import ConnectorRecord, CSObject, PendingImport
from idsync.store import Store

#: (set | add | remove, attribute, DNs as written)
RefOp = tuple[str, str, list[str]]


@dataclass(slots=True)
class Slot:
    """One object of a segment as a record stages it."""

    cs: CSObject
    kind: str  # full | modify | delete
    new: bool = False
    was_placeholder: bool = False
    #: Something other than references changed (references are known once resolved).
    changed: bool = False
    #: A delete to write (pending_import 'delete').
    dirty: bool = False
    #: A never-synchronized object deleted: removed from the connector space.
    remove: bool = False
    renamed: bool = False
    #: A renamed object's DN before the rename (as written).
    left: str = ""
    #: The hologram's non-reference attributes changed (the JSON document is rewritten).
    attrs_changed: bool = False
    #: The normalised DN the object has once staged.
    key: str = ""
    #: (set | add | remove, attribute, DNs), in the record's order.
    ref_ops: list[RefOp] = field(default_factory=list)
    #: The record's ``cloud_managed`` (None: the connector does not say).
    cloud_managed: bool | None = None


@dataclass(slots=True)
class Segment:
    """A planned segment: its slots, where it stopped, the DNs its existing objects were at
    before it moved any (``held``) and the objects found at the records' DNs."""

    slots: list[Slot]
    stop: int
    held: set[str]
    by_dn: dict[str, list[CSObject]]


class SegmentPlanner:
    def __init__(self, store: Store, record: ConnectorRecord, recorder: RunRecorder,
                 guard: ImportGuard, ref_attrs: frozenset[str]) -> None:
        self.store = store
        self.record = record
        self.recorder = recorder
        self.guard = guard
        self.ref_attrs = ref_attrs

    def plan(self, records: Sequence[ImportRecord], keys: list[tuple[str | None, str]],
             start: int, end: int, key_of: dict[str, str]) -> Segment:
        """Plan ``records[start:end]`` (or a prefix of it); ``key_of`` is the run's map of
        reference DNs as written to their normalised form."""
        cid = self.record.id
        anchors = [a for a, _ in keys[start:end] if a]
        by_anchor = self.store.cs_objects.by_anchors(cid, anchors) if anchors else {}
        need_dn = [k for a, k in keys[start:end] if k and (not a or a not in by_anchor)]
        by_dn = self.store.cs_objects.by_dns_all(cid, need_dn) if need_dn else {}
        existing = [o.id for o in by_anchor.values()]
        existing += [o.id for objs in by_dn.values() for o in objs]
        # An object whose record only adds or removes reference values needs to know only
        # whether those values are there (SegmentWriter.load_named_refs), not its whole list:
        # a one-member change of a 98,000-member group read the 98,000 rows.
        whole = self._whole_lists(records, keys, start, end, by_anchor, by_dn)
        refs = (self.store.cs_refs.refs_of([i for i in existing if i in whole], self.ref_attrs)
                if existing and self.ref_attrs else {})
        # The DNs the segment's existing objects are at before it moves any of them.
        held = {normalize_dn(o.dn) for o in by_anchor.values()}
        held.update(by_dn)
        slots: list[Slot] = []
        used: set[int] = set()
        named: set[str] = set()  # normalised DNs the segment's references name so far
        named_upto = 0
        stop = end
        for i in range(start, end):
            rec = records[i]
            anchor, key = keys[i]
            cs = by_anchor.get(anchor) if anchor else None
            if cs is None:
                cs = pick_by_dn(by_dn.get(key, ()), anchor)
            if cs is not None and cs.id in used:
                stop = i  # staged once already in this segment: the next segment takes it
                break
            if (cs is not None and rec.dn and rec.kind is not ImportKind.DELETE
                    and cs.dn != rec.dn and normalize_dn(cs.dn) != key):
                # A rename. References the segment made earlier to the DN the object leaves
                # named it then (its new DN resolves to it, as a placeholder it takes over
                # would): those are staged first, in their own segment.
                for earlier in slots[named_upto:]:
                    named.update(named_keys(earlier.ref_ops, key_of))
                named_upto = len(slots)
                if normalize_dn(cs.dn) in named:
                    stop = i
                    break
            slot = self._plan(rec, cs, refs)
            if slot is not None:
                # The object's DN once staged, for references the segment makes to it.
                slot.key = key if rec.dn else normalize_dn(slot.cs.dn)
                slot.cloud_managed = rec.cloud_managed
                slots.append(slot)
                if not slot.new:
                    used.add(slot.cs.id)
        return Segment(slots, stop, held, by_dn)

    def _whole_lists(self, records: Sequence[ImportRecord],
                     keys: list[tuple[str | None, str]], start: int, end: int,
                     by_anchor: dict[str, CSObject], by_dn: dict[str, list[CSObject]]
                     ) -> set[int]:
        """Existing objects of a segment whose records need their whole reference lists: a
        full record (whole-state semantics) or one replacing a reference attribute."""
        out: set[int] = set()
        for i in range(start, end):
            rec = records[i]
            if rec.kind is ImportKind.DELETE:
                continue
            if rec.kind is ImportKind.FULL or any(n in self.ref_attrs for n in rec.attributes):
                anchor, key = keys[i]
                found = by_anchor.get(anchor) if anchor else None
                objs = [found] if found is not None else by_dn.get(key, [])
                out.update(o.id for o in objs)
        return out

    def _plan(self, rec: ImportRecord, cs: CSObject | None,
              refs: dict[int, dict[str, set[int]]]) -> Slot | None:
        if cs is not None:
            cs.refs = {a: set(t) for a, t in refs.get(cs.id, {}).items()}
        if rec.kind is ImportKind.DELETE:
            if cs is None or cs.placeholder:
                return None
            self.recorder.count("deletes", cs_id=cs.id)
            if cs.pending_import == PendingImport.ADD:
                # Never synchronized: nothing downstream knows it.
                return Slot(cs, kind="delete", remove=True)
            cs.pending_import = PendingImport.DELETE
            return Slot(cs, kind="delete", dirty=True)
        if rec.kind is ImportKind.FULL:
            return self._plan_full(rec, cs)
        if cs is None or cs.placeholder:
            self.recorder.object_error(
                None, rec.dn, "import", ErrorCode.MISSING_OBJECT,
                f"a change arrived for {rec.dn} (anchor {rec.anchor}), which the connector "
                "space does not hold; run a full import", keep_on_object=False)
            return None
        return self._plan_modify(rec, cs)

    def _split(self, attributes: dict[str, list[Any]]) -> tuple[dict[str, list[Any]],
                                                               dict[str, list[str]]]:
        ref_attrs = self.ref_attrs
        # The record's value lists are the hologram's from here on (never changed in place).
        plain = {n: vs for n, vs in attributes.items() if vs and n not in ref_attrs}
        if len(plain) == len(attributes):
            return plain, {}
        refs = {n: list(map(str, vs)) for n, vs in attributes.items() if n in ref_attrs}
        return plain, refs

    def _plan_full(self, rec: ImportRecord, cs: CSObject | None) -> Slot:
        plain, refs = self._split(rec.attributes)
        if cs is None:
            self.recorder.count("adds")
            new = CSObject(id=0, connector_id=self.record.id, anchor=rec.anchor, dn=rec.dn,
                           object_type=rec.object_type, placeholder=False, attributes=plain,
                           pending_import=PendingImport.ADD, mv_id=None, link_type=None,
                           link_rule_id=None, link_direction=None)
            return Slot(new, kind="full", new=True,
                        ref_ops=[("set", n, dns) for n, dns in refs.items()])
        slot = Slot(cs, kind="full", was_placeholder=cs.placeholder)
        changed = False
        if cs.placeholder:
            cs.placeholder = False
            cs.pending_import = PendingImport.ADD
            changed = True
        elif cs.object_type and rec.object_type and cs.object_type != rec.object_type:
            cs.pending_import = PendingImport.DELETE_ADD
            changed = True
        if rec.anchor and cs.anchor != rec.anchor:
            cs.anchor = rec.anchor
            changed = True
        if cs.dn != rec.dn:
            if normalize_dn(cs.dn) != normalize_dn(rec.dn):
                self.recorder.count("renames", cs_id=cs.id)
                slot.renamed = True
                slot.left = cs.dn
            cs.dn = rec.dn
            changed = True
        cs.object_type = rec.object_type or cs.object_type
        if not same_attributes(cs.attributes, plain):
            self.guard.changes.observe_all(cs.id, cs.object_type, cs.dn, cs.attributes, plain)
            cs.attributes = plain
            slot.attrs_changed = changed = True
        # Whole-state semantics: a reference attribute the record leaves out is emptied.
        slot.ref_ops = [("set", n, refs.get(n, [])) for n in sorted(set(cs.refs) | set(refs))]
        if cs.pending_import == PendingImport.DELETE:
            cs.pending_import = PendingImport.UPDATE
            changed = True
        slot.changed = changed
        return slot

    def _plan_modify(self, rec: ImportRecord, cs: CSObject) -> Slot:
        slot = Slot(cs, kind="modify")
        changed = False
        if rec.dn and normalize_dn(rec.dn) != normalize_dn(cs.dn):
            slot.left = cs.dn
            cs.dn = rec.dn
            slot.renamed = True
            self.recorder.count("renames", cs_id=cs.id)
            changed = True
        plain, refs = self._split(rec.attributes)
        for name in rec.attributes:
            if name in self.ref_attrs:
                continue
            new = plain.get(name)
            if not same(cs.attributes.get(name), new):
                self.guard.changes.observe(cs.id, cs.object_type, cs.dn, name,
                                           cs.attributes.get(name), new)
                if new:
                    cs.attributes[name] = new
                else:
                    cs.attributes.pop(name, None)
                slot.attrs_changed = changed = True
        # Reference operations keep the record's order: replaced values, then adds, removes.
        slot.ref_ops = [("set", n, dns) for n, dns in refs.items()]
        for op, changes in (("add", rec.value_adds), ("remove", rec.value_removes)):
            for name, vals in changes.items():
                if name in self.ref_attrs:
                    slot.ref_ops.append((op, name, [str(v) for v in vals]))
                elif value_change(cs, name, vals, add=op == "add"):
                    slot.attrs_changed = changed = True
        if rec.object_type and cs.object_type and rec.object_type != cs.object_type:
            cs.pending_import = PendingImport.DELETE_ADD
            cs.object_type = rec.object_type
            changed = True
        slot.changed = changed
        return slot


def segment_end(keys: list[tuple[str | None, str]], start: int) -> int:
    """The end of the run of records from ``start`` in which no anchor and no DN repeats."""
    anchors: set[str] = set()
    dns: set[str] = set()
    for i in range(start, len(keys)):
        anchor, dn = keys[i]
        if (anchor and anchor in anchors) or (dn and dn in dns):
            return i
        if anchor:
            anchors.add(anchor)
        if dn:
            dns.add(dn)
    return len(keys)


def named_keys(ref_ops: list[RefOp], key_of: dict[str, str]) -> Iterator[str]:
    """The normalised DNs reference operations name (normalising each DN once)."""
    for _, _, dns in ref_ops:
        for dn in dns:
            key = key_of.get(dn)
            if key is None:
                key = key_of[dn] = normalize_dn(dn)
            yield key


def pick_by_dn(candidates: Iterable[CSObject], anchor: str | None) -> CSObject | None:
    """The object a record without a known anchor stands for, among those at its DN. With an
    anchor: an object without one (an exported add awaiting confirmation, then a
    placeholder); another anchor means another object, renamed away or deleted. Without an
    anchor (a change by DN): the real object before a placeholder."""
    ordered = sorted(candidates, key=lambda c: c.placeholder)
    if anchor:
        return next((c for c in ordered if not c.anchor), None)
    return ordered[0] if ordered else None
