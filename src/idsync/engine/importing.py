"""Full Import and Delta Import: stage what a connector reads into its connector space.

Each batch the connector yields is staged and committed together with the watermark it carries,
so a crash repeats at most one batch (staging is idempotent: a repeated record finds the object
as it already is and changes nothing). Objects that change get a pending import flag for the
next synchronization; exports waiting for confirmation are confirmed or put back to be sent
again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from idsync.connectors.base import (
    DeltaImporter,
    FullImporter,
    ImportContext,
    ImportKind,
    ImportRecord,
)
from idsync.dn import normalize_dn
from idsync.engine.core import Engine
from idsync.engine.joins import index_entries
from idsync.engine.run import RunRecorder
from idsync.errors import ConfigurationError, DeletionThresholdExceeded
from idsync.events import EventId
from idsync.model import ConnectorRecord, CSObject, PendingImport
from idsync.values import same_values


class Importer:
    def __init__(self, engine: Engine, record: ConnectorRecord, recorder: RunRecorder) -> None:
        self.engine = engine
        self.store = engine.store
        self.record = record
        self.recorder = recorder
        self.connector = engine.instance(record)
        self.ref_attrs = frozenset(self.connector.reference_attributes())
        self.join_keys = engine.ruleset().cs_join_attributes(record.id)
        self._new_placeholders: dict[str, int] = {}

    # --- the two profiles -----------------------------------------------------------------

    def full_import(self, *, accept_deletes: bool = False) -> None:
        if not isinstance(self.connector, FullImporter):
            raise ConfigurationError(f"connector {self.record.name} cannot run a full import")
        context = ImportContext(watermark=None)
        run_id = self.recorder.run_id
        for batch in self.connector.full_import(context):
            with self.store.transaction():
                ids = self.stage(batch.records)
                self.store.cs.set_seen(ids, run_id)
                if batch.watermark is not None:
                    self.store.connectors.set_watermark(self.record.id, batch.watermark)
                self.recorder.checkpoint()
        self.stage_missing_as_deleted(accept_deletes=accept_deletes)
        with self.store.transaction():
            self.store.connectors.set_required(self.record.id, full_import=False)

    def delta_import(self) -> None:
        if not isinstance(self.connector, DeltaImporter):
            raise ConfigurationError(f"connector {self.record.name} cannot run a delta import")
        current = self.store.connectors.by_id(self.record.id)
        context = ImportContext(watermark=current.watermark)
        for batch in self.connector.delta_import(context):
            with self.store.transaction():
                self.stage(batch.records)
                if batch.watermark is not None:
                    self.store.connectors.set_watermark(self.record.id, batch.watermark)
                self.recorder.checkpoint()

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
        threshold = deletion_threshold(self.store)
        if (missing and threshold["enabled"] and len(missing) >= threshold["count"]
                and not accept_deletes):
            with self.store.transaction():
                self.recorder.event(
                    EventId.IMPORT_DELETION_SAFETY,
                    f"full import of {self.record.name} did not return {len(missing)} objects "
                    f"that the connector space holds (threshold {threshold['count']}); "
                    "no deletes were staged",
                    {"missing": len(missing), "threshold": threshold["count"]})
            raise DeletionThresholdExceeded(
                f"the full import did not return {len(missing)} objects the connector space "
                f"holds, at or above the deletion threshold of {threshold['count']}. Nothing "
                "was staged as deleted. Check the connector's filter, scope and credentials; "
                "if the deletes are intended, run again with --accept-deletes.")
        for i in range(0, len(missing), 1000):
            with self.store.transaction():
                self.store.cs.mark_deleted(missing[i : i + 1000])
                self.recorder.count("deletes", len(missing[i : i + 1000]))

    # --- staging --------------------------------------------------------------------------

    def stage(self, records: Sequence[ImportRecord]) -> list[int]:
        """Stage one batch; returns the ids of the objects it touched."""
        cs_repo = self.store.cs
        cid = self.record.id
        anchors = [r.anchor for r in records if r.anchor]
        by_anchor = cs_repo.by_anchors(cid, anchors) if anchors else {}
        need_dn = [normalize_dn(r.dn) for r in records
                   if not r.anchor or r.anchor not in by_anchor]
        by_dn = cs_repo.by_dns(cid, need_dn) if need_dn else {}
        existing_ids = [o.id for o in by_anchor.values()] + [o.id for o in by_dn.values()]
        refs = cs_repo.refs_of(existing_ids, self.ref_attrs) if existing_ids else {}
        touched: list[int] = []
        # Placeholders made while staging this batch (a manager listed before the manager's
        # own entry): the entry, when it comes, takes the placeholder over.
        self._new_placeholders: dict[str, int] = {}
        for rec in records:
            cs = by_anchor.get(rec.anchor) if rec.anchor else None
            if cs is None:
                key = normalize_dn(rec.dn)
                cs = by_dn.get(key)
                if cs is None and key in self._new_placeholders:
                    cs = cs_repo.get(self._new_placeholders.pop(key))
                if cs is not None and cs.anchor and rec.anchor and cs.anchor != rec.anchor:
                    # Another object held this DN: it was renamed or deleted; it sorts itself
                    # out when its own record (or the full import's end) arrives.
                    cs = None
            if cs is not None:
                cs.refs = refs.get(cs.id, {})
            cs_id = self._stage_one(rec, cs)
            if cs_id is not None:
                touched.append(cs_id)
        self._confirm_exports(touched)
        return touched

    def _stage_one(self, rec: ImportRecord, cs: CSObject | None) -> int | None:
        if rec.kind is ImportKind.DELETE:
            if cs is None or cs.placeholder:
                return None
            if cs.pending_import == PendingImport.ADD:
                # Never synchronized: nothing downstream knows it.
                self.store.cs.remove(cs.id)
            else:
                cs.pending_import = PendingImport.DELETE
                self.store.cs.save(cs)
            self.recorder.count("deletes")
            return None
        if rec.kind is ImportKind.FULL:
            return self._stage_full(rec, cs)
        if cs is None or cs.placeholder:
            self.recorder.object_error(
                None, rec.dn, "import", "missing-object",
                f"a change arrived for {rec.dn} (anchor {rec.anchor}), which the connector "
                "space does not hold; run a full import", keep_on_object=False)
            return None
        return self._stage_modify(rec, cs)

    def _take_over_placeholder(self, cs: CSObject, new_dn: str) -> None:
        """An object renamed onto a DN that references already name (a placeholder): the
        references move over to it, and the objects holding them are synchronized again."""
        self._new_placeholders.pop(normalize_dn(new_dn), None)
        placeholder = self.store.cs.placeholder_at(self.record.id, new_dn)
        if placeholder is None or placeholder == cs.id:
            return
        holders = self.store.cs.referencing([placeholder])
        self.store.cs.merge_placeholder(placeholder, cs.id)
        self.store.cs.mark_pending_update(holders)

    def _split(self, attributes: dict[str, list[Any]]) -> tuple[dict[str, list[Any]],
                                                               dict[str, list[str]]]:
        plain: dict[str, list[Any]] = {}
        refs: dict[str, list[str]] = {}
        for name, vals in attributes.items():
            if name in self.ref_attrs:
                refs[name] = [str(v) for v in vals]
            elif vals:
                plain[name] = list(vals)
        return plain, refs

    def _stage_full(self, rec: ImportRecord, cs: CSObject | None) -> int:
        plain, refs = self._split(rec.attributes)
        cs_repo = self.store.cs
        if cs is None:
            cs_id = cs_repo.insert(self.record.id, anchor=rec.anchor, dn=rec.dn,
                                   object_type=rec.object_type, attributes=plain,
                                   pending_import=PendingImport.ADD)
            self.recorder.count("adds")
            self._replace_refs(cs_id, {}, refs)
            self._index(cs_id, plain)
            return cs_id
        was_placeholder = cs.placeholder
        changed = False
        if was_placeholder:
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
                self._take_over_placeholder(cs, rec.dn)
            cs.dn = rec.dn
            # The new DN is stored before references resolve, so one naming the object itself
            # (a self-manager) finds it rather than a placeholder.
            self.store.cs.set_dn(cs.id, rec.dn)
            changed = True
        cs.object_type = rec.object_type or cs.object_type
        if not _same_attributes(cs.attributes, plain):
            cs.attributes = plain
            changed = True
        if self._replace_refs(cs.id, cs.refs, refs):
            changed = True
        if cs.pending_import == PendingImport.DELETE:
            cs.pending_import = PendingImport.UPDATE
            changed = True
        if changed:
            if cs.pending_import is None:
                cs.pending_import = PendingImport.UPDATE
            cs_repo.save(cs)
            self._index(cs.id, cs.attributes)
            self.recorder.count("adds" if was_placeholder else "updates")
        else:
            self.recorder.count("no-change")
        return cs.id

    def _stage_modify(self, rec: ImportRecord, cs: CSObject) -> int:
        changed = False
        if rec.dn and normalize_dn(rec.dn) != normalize_dn(cs.dn):
            self._take_over_placeholder(cs, rec.dn)
            cs.dn = rec.dn
            self.store.cs.set_dn(cs.id, rec.dn)
            self.recorder.count("renames")
            changed = True
        plain, refs = self._split(rec.attributes)
        for name in rec.attributes:
            if name in self.ref_attrs:
                continue
            new = plain.get(name)
            if not same_values(cs.attributes.get(name), new):
                if new:
                    cs.attributes[name] = new
                else:
                    cs.attributes.pop(name, None)
                changed = True
        for name, vals in refs.items():
            if self._replace_refs(cs.id, {name: cs.refs.get(name, set())}, {name: vals},
                                  only=(name,)):
                changed = True
        for name, vals in rec.value_adds.items():
            changed |= self._value_change(cs, name, vals, add=True)
        for name, vals in rec.value_removes.items():
            changed |= self._value_change(cs, name, vals, add=False)
        if rec.object_type and cs.object_type and rec.object_type != cs.object_type:
            cs.pending_import = PendingImport.DELETE_ADD
            cs.object_type = rec.object_type
            changed = True
        if changed:
            if cs.pending_import in (None, PendingImport.DELETE):
                cs.pending_import = PendingImport.UPDATE
            self.store.cs.save(cs)
            self._index(cs.id, cs.attributes)
            self.recorder.count("updates")
        else:
            self.recorder.count("no-change")
        return cs.id

    def _value_change(self, cs: CSObject, name: str, vals: Iterable[Any], *, add: bool) -> bool:
        vals = list(vals)
        if not vals:
            return False
        if name in self.ref_attrs:
            targets = self.store.cs.resolve_dns(self.record.id, (str(v) for v in vals),
                                                self._new_placeholders)
            ids = set(targets.values())
            current = cs.refs.get(name, set())
            delta = ids - current if add else ids & current
            if not delta:
                return False
            if add:
                self.store.cs.change_refs(cs.id, name, delta, ())
                current |= delta
            else:
                self.store.cs.change_refs(cs.id, name, (), delta)
                current -= delta
            cs.refs[name] = current
            return True
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

    def _replace_refs(self, cs_id: int, current: dict[str, set[int]],
                      wanted: dict[str, list[str]], only: Iterable[str] | None = None) -> bool:
        """Make the object's reference values exactly ``wanted`` (whole-state semantics)."""
        names = set(only) if only is not None else set(current) | set(wanted)
        all_dns = [dn for n in names for dn in wanted.get(n, ())]
        resolved = (self.store.cs.resolve_dns(self.record.id, all_dns, self._new_placeholders)
                    if all_dns else {})
        changed = False
        for name in names:
            want = {resolved[normalize_dn(dn)] for dn in wanted.get(name, ())}
            have = current.get(name, set())
            adds, removes = want - have, have - want
            if adds or removes:
                self.store.cs.change_refs(cs_id, name, adds, removes)
                changed = True
        return changed

    def _index(self, cs_id: int, attributes: dict[str, list[Any]]) -> None:
        if self.join_keys:
            self.store.join_index.replace(
                self.record.id, cs_id,
                index_entries(self.join_keys, lambda a: attributes.get(a, ())))

    # --- export confirmation -------------------------------------------------------------

    def _confirm_exports(self, cs_ids: Sequence[int]) -> None:
        """An import is the proof of an export: confirmed changes are dropped, changes the
        directory does not show are put back to be sent again."""
        if not cs_ids:
            return
        pending = self.store.exports.get_many(cs_ids)
        waiting = {i: pe for i, pe in pending.items() if pe.state == "exported"}
        if not waiting:
            return
        objs = self.store.cs.by_ids(list(waiting))
        refs = self.store.cs.refs_of(list(waiting))
        for cs_id, pe in waiting.items():
            cs = objs.get(cs_id)
            if cs is None:
                continue
            if _reflected(pe, cs, refs.get(cs_id, {})):
                self.store.exports.drop(cs_id)
                self.recorder.count("exports-confirmed")
            else:
                self.store.exports.set_state([cs_id], "pending")
                self.recorder.count("exports-unconfirmed")


def _key(value: Any) -> Any:
    return (type(value).__name__, value)


def _same_attributes(a: dict[str, list[Any]], b: dict[str, list[Any]]) -> bool:
    if a.keys() != b.keys():
        return False
    return all(same_values(a[k], b[k]) for k in a)


def _reflected(pe: Any, cs: CSObject, refs: dict[str, set[int]]) -> bool:
    if pe.kind == "delete":
        return False
    if pe.kind == "rename" and pe.new_dn and normalize_dn(pe.new_dn) != normalize_dn(cs.dn):
        return False
    for name, vals in pe.attributes.items():
        if not same_values(cs.attributes.get(name), vals):
            return False
    for name, adds in pe.ref_adds.items():
        if not adds <= refs.get(name, set()):
            return False
    return not any(removes & refs.get(name, set()) for name, removes in pe.ref_removes.items())


def deletion_threshold(store: Any) -> dict[str, Any]:
    value = store.settings.get("export_deletion_threshold")
    return value or {"enabled": True, "count": 500}
