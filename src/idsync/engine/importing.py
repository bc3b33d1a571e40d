"""Full Import and Delta Import: stage what a connector reads into its connector space.

Each batch the connector yields is staged and committed together with the watermark it carries,
so a crash repeats at most one batch (staging is idempotent: a repeated record finds the object
as it already is and changes nothing). Objects that change get a pending import flag for the
next synchronization; exports waiting for confirmation are confirmed or put back to be sent
again.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from idsync.connectors.base import (
    DeltaImporter,
    FullImporter,
    ImportBatch,
    ImportContext,
    ImportKind,
    ImportRecord,
)
from idsync.dn import normalize_dn
from idsync.engine.core import Engine
from idsync.engine.deletion_limits import limit_breaches, shrink_guard_stop
from idsync.engine.import_guards import ImportGuard
from idsync.engine.joins import index_entries
from idsync.engine.recorder import RunRecorder
from idsync.engine.reference_integrity import ReferenceIntegrity
from idsync.engine.unreadable import UnreadableRecords
from idsync.errors import ConfigurationError
from idsync.model import ConnectorRecord, CSObject, ExportState, PendingImport
from idsync.values import same_values

#: Entries each of an import run's DN caches (Importer._key_of, Importer._dn_ids) may hold
#: before it is emptied and starts again: room for every DN of an L directory (270,000
#: objects), under ~100 MB, whatever the directory's size.
DN_CACHE_LIMIT = 400_000


class Importer:
    def __init__(self, engine: Engine, record: ConnectorRecord, recorder: RunRecorder) -> None:
        self.engine = engine
        self.store = engine.store
        self.record = record
        self.recorder = recorder
        self.connector = engine.instance(record)
        self.ref_attrs = frozenset(self.connector.reference_attributes())
        self.integrity = ReferenceIntegrity(self.store, record.id, self.connector,
                                            self.ref_attrs,
                                            compared=lambda: engine.inbound_lists(record.id)
                                            | engine.outbound_lists(record.id))
        self.join_keys = engine.ruleset().cs_join_attributes(record.id)
        # Reference values are resolved to connector space ids once per run, not once per
        # segment: a user in nine groups was looked up (and its DN normalised) in each of the
        # nine group batches, 1.07 million look-ups for a 110,000-entry full import (6.6 s
        # of its 52). Both maps only ever say what the store would (see _remember).
        self._key_of: dict[str, str] = {}  # reference DN as written -> normalised
        self._dn_ids: dict[str, int] = {}  # normalised DN -> the object the store resolves
        self.guard = ImportGuard(self.store, record, recorder,  # attribute wipes
                                 engine.ruleset().reads_inbound(record.id))

    # --- the two profiles -----------------------------------------------------------------

    def full_import(self, *, accept_deletes: bool = False, accept_changes: bool = False
                    ) -> None:
        if not isinstance(self.connector, FullImporter):
            raise ConfigurationError(f"connector {self.record.name} cannot run a full import")
        context = ImportContext(watermark=None)
        run_id = self.recorder.run_id
        unreadable = UnreadableRecords(self.store, self.record, self.recorder, full=True)
        for batch in read_ahead(self.connector.full_import(context)):
            with self.store.transaction():
                self.stage(batch.records, seen_run=run_id)
                unreadable.stage(batch.unreadable)
                if batch.watermark is not None:
                    self.store.connectors.set_watermark(self.record.id, batch.watermark)
                self.guard.save()
                self.recorder.checkpoint()
        if not unreadable.withholds_deletes:  # else no delete can be inferred
            self.stage_missing_as_deleted(accept_deletes=accept_deletes)
            with self.store.transaction():
                self.store.connectors.set_required(self.record.id, full_import=False)
        unreadable.finish()
        self.guard.settle(accept=accept_changes)

    def delta_import(self, *, accept_changes: bool = False) -> None:
        if not isinstance(self.connector, DeltaImporter):
            raise ConfigurationError(f"connector {self.record.name} cannot run a delta import")
        current = self.store.connectors.by_id(self.record.id)
        context = ImportContext(watermark=current.watermark)
        unreadable = UnreadableRecords(self.store, self.record, self.recorder, full=False)
        for batch in read_ahead(self.connector.delta_import(context)):
            with self.store.transaction():
                self.stage(batch.records)
                unreadable.stage(batch.unreadable)
                if batch.watermark is not None:
                    self.store.connectors.set_watermark(self.record.id, batch.watermark)
                self.guard.save()
                self.recorder.checkpoint()
        unreadable.finish()
        self.guard.settle(accept=accept_changes)

    def stage_missing_as_deleted(self, *, accept_deletes: bool) -> None:
        """Objects a full import did not return are gone. A full import that suddenly returns
        far fewer objects (a wrong filter, a bind as the wrong account) would turn into mass
        deletes: past the deletion threshold nothing is staged and the run stops."""
        missing = self.store.cs.unseen(self.record.id, self.recorder.run_id)
        # A delete not yet sent stays staged: a full import that no longer returns the object
        # (API v1 leaves large groups out) has not deleted it in the directory; the export will.
        unsent = {cs_id for cs_id, pe in self.store.exports.get_many(
            missing, with_refs=False).items() if pe.kind == "delete" and pe.state == "pending"}
        missing = [cs_id for cs_id in missing if cs_id not in unsent]
        breaches = [] if accept_deletes or not missing else limit_breaches(
            self.store, self.record, self.store.guards.types_of(missing))
        if breaches:
            shrink_guard_stop(self.store, self.record, self.recorder, breaches, len(missing))
        for i in range(0, len(missing), 1000):
            with self.store.transaction():
                self.integrity.found_gone(missing[i : i + 1000])
                self.store.cs.mark_deleted(missing[i : i + 1000])
                self.recorder.count("deletes", len(missing[i : i + 1000]))

    # --- staging --------------------------------------------------------------------------

    def stage(self, records: Sequence[ImportRecord], seen_run: int | None = None) -> list[int]:
        """Stage one batch; returns the ids of the objects it touched (``seen_run``: the full
        import run that saw them).

        Set-based: the batch's objects are loaded with one query, changes are worked out in
        Python and written with a fixed number of statements (multi-row inserts, one
        ``executemany`` per kind of write), whatever the batch size. A record naming an object
        an earlier record of the batch already staged (a delta import may carry two changes of
        one entry) starts a new segment, staged after the first one is written, so every
        segment touches each object once and the outcome is the sequential one."""
        touched: dict[int, CSObject] = {}
        keys = [(r.anchor, normalize_dn(r.dn) if r.dn else "") for r in records]
        start = 0
        while start < len(records):
            end = _segment_end(keys, start)
            start = self._stage_segment(records, keys, start, end, seen_run, touched)
        self.guard.changes.count_batch(self.store)  # before the confirmations drop exports
        self._confirm_exports(touched)
        return list(touched)

    def _stage_segment(self, records: Sequence[ImportRecord],
                       keys: list[tuple[str | None, str]], start: int, end: int,
                       seen_run: int | None, touched: dict[int, CSObject]) -> int:
        """Stage ``records[start:end]`` (or a prefix of it); returns where it stopped."""
        cs_repo = self.store.cs
        cid = self.record.id
        anchors = [a for a, _ in keys[start:end] if a]
        by_anchor = cs_repo.by_anchors(cid, anchors) if anchors else {}
        need_dn = [k for a, k in keys[start:end] if k and (not a or a not in by_anchor)]
        by_dn = cs_repo.by_dns_all(cid, need_dn) if need_dn else {}
        existing = [o.id for o in by_anchor.values()]
        existing += [o.id for objs in by_dn.values() for o in objs]
        # An object whose record only adds or removes reference values needs to know only
        # whether those values are there (_load_named_refs), not its whole list: a one-member
        # change of a 98,000-member group read the 98,000 rows.
        whole = self._whole_lists(records, keys, start, end, by_anchor, by_dn)
        refs = (cs_repo.refs_of([i for i in existing if i in whole], self.ref_attrs)
                if existing and self.ref_attrs else {})
        if len(self._key_of) > DN_CACHE_LIMIT:
            self._key_of.clear()
        # The DNs the segment's existing objects are at before it moves any of them.
        held = {normalize_dn(o.dn) for o in by_anchor.values()}
        held.update(by_dn)
        slots: list[_Slot] = []
        used: set[int] = set()
        key_of = self._key_of  # reference DN as written -> normalised, for _resolve
        named: set[str] = set()  # normalised DNs the segment's references name so far
        named_upto = 0
        stop = end
        for i in range(start, end):
            rec = records[i]
            anchor, key = keys[i]
            cs = by_anchor.get(anchor) if anchor else None
            if cs is None:
                cs = _pick_by_dn(by_dn.get(key, ()), anchor)
            if cs is not None and cs.id in used:
                stop = i  # staged once already in this segment: the next segment takes it
                break
            if (cs is not None and rec.dn and rec.kind is not ImportKind.DELETE
                    and cs.dn != rec.dn and normalize_dn(cs.dn) != key):
                # A rename. References the segment made earlier to the DN the object leaves
                # named it then (its new DN resolves to it, as a placeholder it takes over
                # would): those are staged first, in their own segment.
                for slot in slots[named_upto:]:
                    named.update(_keys(slot.ref_ops, key_of))
                named_upto = len(slots)
                if normalize_dn(cs.dn) in named:
                    stop = i
                    break
            slot = self._plan(rec, cs, refs)
            if slot is not None:
                # The object's DN once staged, for references the segment makes to it.
                slot.key = key if rec.dn else normalize_dn(slot.cs.dn)
                slots.append(slot)
                if not slot.new:
                    used.add(slot.cs.id)
        self._write(slots, seen_run, touched, key_of, held)
        self._remember(slots, held, by_dn)
        return stop

    def _remember(self, slots: list[_Slot], held: set[str],
                  by_dn: dict[str, list[CSObject]]) -> None:
        """Keep ``_dn_ids`` what the store would answer after a segment's writes. Any DN the
        segment wrote an object at, or moved or removed one from, is forgotten (the store
        answers for it next time); a new object is remembered at its DN when nothing else
        was there (the only object at a DN is what the store resolves it to). Placeholders
        and the store's answers are remembered by _resolve."""
        cache = self._dn_ids
        for key in held:
            cache.pop(key, None)
        for slot in slots:
            cache.pop(slot.key, None)
        for slot in slots:
            if slot.new and slot.key and not by_dn.get(slot.key):
                cache[slot.key] = slot.cs.id

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

    def _load_named_refs(self, slots: list[_Slot], resolved: dict[str, int]) -> None:
        """For objects whose records only add or remove reference values: which of the values
        they name the object holds (all the replay in _apply_ref_ops needs of the list)."""
        for slot in slots:
            if slot.new or slot.kind != "modify" or not slot.ref_ops or slot.cs.refs:
                continue
            if any(op == "set" for op, _, _ in slot.ref_ops):
                continue
            named = sorted({resolved[dn] for _, _, dns in slot.ref_ops for dn in dns
                            if dn in resolved})
            slot.cs.refs = self.store.cs.held_refs(slot.cs.id, named) if named else {}

    # Each record becomes a _Slot: the object's new state except its references, which are
    # kept as DN operations until the whole segment's DNs are resolved in one query.

    def _plan(self, rec: ImportRecord, cs: CSObject | None,
              refs: dict[int, dict[str, set[int]]]) -> _Slot | None:
        if cs is not None:
            cs.refs = {a: set(t) for a, t in refs.get(cs.id, {}).items()}
        if rec.kind is ImportKind.DELETE:
            if cs is None or cs.placeholder:
                return None
            self.recorder.count("deletes")
            if cs.pending_import == PendingImport.ADD:
                # Never synchronized: nothing downstream knows it.
                return _Slot(cs, kind="delete", remove=True)
            cs.pending_import = PendingImport.DELETE
            return _Slot(cs, kind="delete", dirty=True)
        if rec.kind is ImportKind.FULL:
            return self._plan_full(rec, cs)
        if cs is None or cs.placeholder:
            self.recorder.object_error(
                None, rec.dn, "import", "missing-object",
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

    def _plan_full(self, rec: ImportRecord, cs: CSObject | None) -> _Slot:
        plain, refs = self._split(rec.attributes)
        if cs is None:
            self.recorder.count("adds")
            new = CSObject(0, self.record.id, rec.anchor, rec.dn, rec.object_type, False,
                           plain, PendingImport.ADD, None, None, None, None)
            return _Slot(new, kind="full", new=True,
                         ref_ops=[("set", n, dns) for n, dns in refs.items()])
        slot = _Slot(cs, kind="full", was_placeholder=cs.placeholder)
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
                self.recorder.count("renames")
                slot.renamed = True
                slot.left = cs.dn
            cs.dn = rec.dn
            changed = True
        cs.object_type = rec.object_type or cs.object_type
        if not _same_attributes(cs.attributes, plain):
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

    def _plan_modify(self, rec: ImportRecord, cs: CSObject) -> _Slot:
        slot = _Slot(cs, kind="modify")
        changed = False
        if rec.dn and normalize_dn(rec.dn) != normalize_dn(cs.dn):
            slot.left = cs.dn
            cs.dn = rec.dn
            slot.renamed = True
            self.recorder.count("renames")
            changed = True
        plain, refs = self._split(rec.attributes)
        for name in rec.attributes:
            if name in self.ref_attrs:
                continue
            new = plain.get(name)
            if not _same(cs.attributes.get(name), new):
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
                elif _value_change(cs, name, vals, add=op == "add"):
                    slot.attrs_changed = changed = True
        if rec.object_type and cs.object_type and rec.object_type != cs.object_type:
            cs.pending_import = PendingImport.DELETE_ADD
            cs.object_type = rec.object_type
            changed = True
        slot.changed = changed
        return slot

    def _write(self, slots: list[_Slot], seen_run: int | None,
               touched: dict[int, CSObject], key_of: dict[str, str], held: set[str]
               ) -> None:
        """Write a segment with a fixed number of statements: new objects, reference targets
        (placeholders for the missing), reference rows, placeholders taken over by renamed
        objects, object rows, join index, removals."""
        if not slots:
            return
        cs_repo = self.store.cs
        new = [s for s in slots if s.new]
        for slot, cs_id in zip(new, cs_repo.insert_many([s.cs for s in new], seen_run),
                               strict=True):
            slot.cs.id = cs_id
        resolved = self._resolve(slots, key_of, held)
        # Name references to renamed objects stay with their old DNs, and the renamed objects
        # take over the placeholders at their new DNs, before the records' reference
        # operations apply by name on top (idsync.engine.reference_integrity).
        self.integrity.renamed(slots)
        holders = self._take_over_placeholders(
            [s for s in slots if s.renamed], slots)
        self._load_named_refs(slots, resolved)
        ref_adds: list[tuple[int, str, int]] = []
        ref_removes: list[tuple[int, str, int]] = []
        fresh_adds: list[tuple[int, str, int]] = []  # of objects inserted just now
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
                _apply_ref_ops(cs, slot.ref_ops, resolved, fresh_adds, ref_removes)
                continue
            refs_changed = _apply_ref_ops(cs, slot.ref_ops, resolved, ref_adds, ref_removes)
            if slot.changed or refs_changed:
                if slot.kind == "full":
                    if cs.pending_import is None:
                        cs.pending_import = PendingImport.UPDATE
                    self.recorder.count("adds" if slot.was_placeholder else "updates")
                else:
                    if cs.pending_import in (None, PendingImport.DELETE):
                        cs.pending_import = PendingImport.UPDATE
                    self.recorder.count("updates")
                dirty.append(cs)
                if slot.attrs_changed:
                    attrs_changed.add(cs.id)
            else:
                self.recorder.count("no-change")
                unchanged.append(cs.id)
        cs_repo.change_refs_many(ref_adds, ref_removes, fresh_adds)
        # A delta import's member changes reach the members' memberOf unseen; a full import
        # reads every memberOf whole (and would write every member row twice).
        if seen_run is None:
            self.integrity.linked_back([*ref_adds, *fresh_adds], ref_removes)
        # References to the segment's deleted objects: bound ones dropped, names moved to
        # what the DNs name once every object is at its new DN (written below).
        rebinding = self.integrity.deleted(slots)
        cs_repo.update_many(dirty, seen_run, with_attributes=attrs_changed)
        if seen_run is not None and unchanged:
            cs_repo.touch_seen(unchanged, seen_run)
        if self.join_keys:
            changed = [cs for cs in dirty if cs.pending_import != PendingImport.DELETE]
            indexed = [s.cs for s in new] + changed
            rows = [(a, v, cs.id) for cs in indexed for a, v in index_entries(
                self.join_keys, lambda a, cs=cs: cs.attributes.get(a, ()))]
            cs_repo.replace_join_entries(self.record.id, [cs.id for cs in changed], rows)
        if holders:
            cs_repo.mark_pending_update(holders)
        self.integrity.settle(rebinding)
        # Last, once the segment's references are written: a removed object that is still
        # referenced stays as a placeholder.
        cs_repo.remove_many(self.record.id, [s.cs.id for s in slots if s.remove])
        gone = sorted({s.key for s in slots if s.kind == "delete" and s.key})
        if gone:
            self.integrity.tidy(gone)
            for key in gone:  # the run's DN cache must not name a placeholder tidied away
                self._dn_ids.pop(key, None)

    def _resolve(self, slots: list[_Slot], key_of: dict[str, str], held: set[str]
                 ) -> dict[str, int]:
        """DN (as written in the records) -> CS id of every reference value of the segment:
        the segment's own objects (as staged now, renames included), then one query, then
        placeholders (one multi-row insert) for targets not imported yet."""
        # Set operations over whole value lists (C loops): a batch of groups names hundreds
        # of thousands of DNs, most of them many times.
        named: set[str] = set()
        removed: set[str] = set()
        for slot in slots:
            for op, _, dns in slot.ref_ops:
                (removed if op == "remove" else named).update(dns)
        if not named and not removed:
            return {}
        dns = named | removed
        for dn in dns.difference(key_of):
            key_of[dn] = normalize_dn(dn)
        resolved = {s.key: s.cs.id for s in slots}
        ours = {s.cs.id for s in slots}
        cache = self._dn_ids
        if len(cache) > DN_CACHE_LIMIT:
            cache.clear()
        # What the run remembers holds as of the segment's start. An object of the segment's
        # own is at its new DN (above) and not at the DN it leaves, as the store's answer
        # below excludes: those DNs (held) are asked of the store. Set operations (C loops):
        # a batch of groups names ~85,000 distinct DNs.
        keys = set(map(key_of.__getitem__, dns)).difference(resolved)
        known = keys.difference(held).intersection(cache.keys())
        resolved.update(zip(known, map(cache.__getitem__, known), strict=True))
        rest = list(keys - known)
        if rest:
            for key, found in self.store.cs.ids_at_dns(self.record.id, rest).items():
                # The segment's objects were matched above by their new DN; a row of theirs
                # found here still has a DN they are leaving.
                others = [f for f in found if f[0] not in ours]
                if others:  # an object, then a placeholder, then a staged delete (ranks)
                    resolved[key] = min(others, key=lambda f: (f[1], f[0]))[0]
                    if len(others) == len(found):  # the answer the next segment would get
                        cache[key] = resolved[key]
        if any(k not in resolved for k in rest):
            # Targets not imported yet, in the order (and spelling) the records name them.
            missing: dict[str, str] = {}
            for dn in named:
                key = key_of[dn]
                if key not in resolved:
                    missing[key] = dn
            if missing:
                placed = self.store.cs.insert_placeholders(self.record.id, missing)
                resolved.update(placed)
                cache.update(placed)  # the only object at its DN
        out = dict(zip(dns, map(resolved.get, map(key_of.__getitem__, dns)), strict=True))
        for dn in removed.difference(named):  # a value removed may name nothing held
            if out[dn] is None:
                del out[dn]
        return out

    def _take_over_placeholders(self, renamed: list[_Slot], slots: list[_Slot]) -> set[int]:
        """Objects renamed onto DNs that references already name (placeholders): the
        references move over to them (in the segment's loaded lists too); returns the
        objects holding those references, to be synchronized again."""
        if not renamed:
            return set()
        ours = {s.cs.id for s in slots}
        by_key = {s.key: s.cs.id for s in renamed}
        found = self.store.cs.placeholders_at_dns(self.record.id, list(by_key))
        pairs = [(ph, by_key[key]) for key, phs in found.items() for ph in phs
                 if ph not in ours]
        if not pairs:
            return set()
        holders = self.store.cs.referencing([ph for ph, _ in pairs])
        self.store.cs.merge_placeholders(pairs)
        real = dict(pairs)
        for slot in slots:
            for targets in slot.cs.refs.values():
                moved = real.keys() & targets
                if moved:
                    targets.difference_update(moved)
                    targets.update(real[ph] for ph in moved)
        return holders

    # --- export confirmation -------------------------------------------------------------

    def _confirm_exports(self, staged: dict[int, CSObject]) -> None:
        """An import is the proof of an export: confirmed changes are dropped, changes the
        directory does not show are put back to be sent again. Compared with the objects as
        this batch staged them (no second load)."""
        if not staged:
            return
        pending = self.store.exports.get_many(list(staged), with_refs=False)
        waiting = {i: pe for i, pe in pending.items() if pe.state == "exported"}
        if not waiting:
            return
        # Reference values are compared in the store (one query): an exported member list
        # is not loaded to learn that the import shows it.
        refs_missing = self.store.cs.exported_refs_not_shown(list(waiting))
        confirmed: list[int] = []
        unconfirmed: list[int] = []
        for cs_id, pe in waiting.items():
            if cs_id not in refs_missing and _reflected(pe, staged[cs_id]):
                confirmed.append(cs_id)
            else:
                unconfirmed.append(cs_id)
        self.store.exports.drop_many(confirmed)
        self.store.exports.set_state(unconfirmed, ExportState.PENDING)
        self.recorder.count("exports-confirmed", len(confirmed))
        self.recorder.count("exports-unconfirmed", len(unconfirmed))


@dataclass(slots=True)
class _Slot:
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
    ref_ops: list[tuple[str, str, list[str]]] = field(default_factory=list)


def _segment_end(keys: list[tuple[str | None, str]], start: int) -> int:
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


def _keys(ref_ops: list[tuple[str, str, list[str]]], key_of: dict[str, str]) -> Iterator[str]:
    """The normalised DNs reference operations name (normalising each DN once)."""
    for _, _, dns in ref_ops:
        for dn in dns:
            key = key_of.get(dn)
            if key is None:
                key = key_of[dn] = normalize_dn(dn)
            yield key


def _pick_by_dn(candidates: Iterable[CSObject], anchor: str | None) -> CSObject | None:
    """The object a record without a known anchor stands for, among those at its DN. With an
    anchor: an object without one (an exported add awaiting confirmation, then a
    placeholder); another anchor means another object, renamed away or deleted. Without an
    anchor (a change by DN): the real object before a placeholder."""
    ordered = sorted(candidates, key=lambda c: c.placeholder)
    if anchor:
        return next((c for c in ordered if not c.anchor), None)
    return ordered[0] if ordered else None


def _apply_ref_ops(cs: CSObject, ops: list[tuple[str, str, list[str]]],
                   resolved: dict[str, int], adds: list[tuple[int, str, int]],
                   removes: list[tuple[int, str, int]]) -> bool:
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


def _value_change(cs: CSObject, name: str, vals: Iterable[Any], *, add: bool) -> bool:
    """A value-level change of a non-reference attribute; says whether it changed anything."""
    vals = list(vals)
    if not vals:
        return False
    current_vals = list(cs.attributes.get(name, []))
    keys = {_key(v) for v in current_vals}
    if add:
        new = [v for v in vals if _key(v) not in keys]
        if not new:
            return False
        cs.attributes[name] = current_vals + new
        return True
    drop = {_key(v) for v in vals}
    kept = [v for v in current_vals if _key(v) not in drop]
    if len(kept) == len(current_vals):
        return False
    if kept:
        cs.attributes[name] = kept
    else:
        cs.attributes.pop(name, None)
    return True


def read_ahead(batches: Iterable[ImportBatch], depth: int = 2) -> Iterator[ImportBatch]:
    """The connector's batches, read by a thread up to ``depth`` batches ahead of the one being
    staged: reading waits on the directory (python-ldap, httpx and file reads release the GIL)
    and staging on the database (so does sqlite3 and psycopg), so the two overlap instead of
    adding up. Only this thread advances the connector's iterator; the store stays on the
    caller's thread, and each batch still commits with its own watermark, in order."""
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        it = iter(batches)
        try:
            for batch in it:
                if not put(("batch", batch)):
                    break
        except BaseException as exc:  # handed to the caller, raised there
            put(("error", exc))
            return
        finally:
            close = getattr(it, "close", None)
            if close is not None:  # the connector's own clean-up (paged search, files)
                close()
        put(("done", None))

    reader = threading.Thread(target=produce, name="idsync-import-read", daemon=True)
    reader.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "batch":
                yield item
            elif kind == "error":
                raise item
            else:
                return
    finally:
        # The caller stopped (an error while staging, or the end): let the reader finish the
        # page it is reading and close the connector's iterator before the run goes on.
        stop.set()
        reader.join()


def _key(value: Any) -> Any:
    return (type(value).__name__, value)


def _same(a: list[Any] | None, b: list[Any] | None) -> bool:
    """``same_values``, answered by a list comparison first when the values come in the same
    order with the same types (the usual case: an import returning what it returned before,
    or what was exported), without building two sets per attribute."""
    if a is not None and b is not None and a == b and list(map(type, a)) == list(map(type, b)):
        return True
    return same_values(a, b)


def _same_attributes(a: dict[str, list[Any]], b: dict[str, list[Any]]) -> bool:
    if a.keys() != b.keys():
        return False
    return all(_same(a[k], b[k]) for k in a)


def _reflected(pe: Any, cs: CSObject) -> bool:
    """The object as imported shows the export's attribute changes (references are compared
    in the store)."""
    if pe.kind == "delete":
        return False
    if pe.kind == "rename" and pe.new_dn and normalize_dn(pe.new_dn) != normalize_dn(cs.dn):
        return False
    return all(_same(cs.attributes.get(name), vals) for name, vals in pe.attributes.items())
