"""Full Import and Delta Import: stage what a connector reads into its connector space.

Each batch the connector yields is staged and committed together with the watermark it carries,
so a crash repeats at most one batch (staging is idempotent: a repeated record finds the object
as it already is and changes nothing). Objects that change get a pending import flag for the
next synchronization; exports waiting for confirmation are confirmed or put back to be sent
again.

A batch is staged segment by segment: planned (idsync.engine.import_plan), its reference DNs
resolved (idsync.engine.dn_resolution), written (idsync.engine.import_writing), then its
exports confirmed (idsync.engine.export_confirmation).
"""

from __future__ import annotations

from collections.abc import Sequence

from idsync.connectors.base import DeltaImporter, FullImporter, ImportContext, ImportRecord
from idsync.dn import normalize_dn
from idsync.engine.core import RunContext
from idsync.engine.deletion_limits import limit_breaches, shrink_guard_stop
from idsync.engine.dn_resolution import DNResolver
from idsync.engine.export_confirmation import confirm_exports
from idsync.engine.import_guards import ImportGuard
from idsync.engine.import_plan import SegmentPlanner, segment_end
from idsync.engine.import_writing import SegmentWriter
from idsync.engine.read_ahead import read_ahead
from idsync.engine.recorder import RunRecorder
from idsync.engine.reference_integrity import ReferenceIntegrity
from idsync.engine.unreadable import UnreadableRecords
from idsync.errors import ConfigurationError
from idsync.model import ConnectorRecord, CSObject, ExportKind, ExportState


class Importer:
    def __init__(self, engine: RunContext, record: ConnectorRecord,
                 recorder: RunRecorder) -> None:
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
        self.guard = ImportGuard(self.store, record, recorder,  # attribute wipes
                                 engine.ruleset().reads_inbound(record.id))
        # One resolver for the run: its DN caches outlive the segments and batches.
        self.resolver = DNResolver(self.store, record.id)
        self.planner = SegmentPlanner(self.store, record, recorder, self.guard, self.ref_attrs)
        self.writer = SegmentWriter(self.store, record.id, recorder, self.integrity,
                                    engine.ruleset().cs_join_attributes(record.id),
                                    self.resolver)

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
                self.recorder.advance(len(batch.records))
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
                self.recorder.advance(len(batch.records))
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
        missing = self.store.cs_objects.unseen(self.record.id, self.recorder.run_id)
        # A delete not yet sent stays staged: a full import that no longer returns the object
        # (API v1 leaves large groups out) has not deleted it in the directory; the export will.
        unsent = {cs_id for cs_id, pe in self.store.exports.get_many(
            missing, with_refs=False).items()
            if pe.kind == ExportKind.DELETE and pe.state == ExportState.PENDING}
        missing = [cs_id for cs_id in missing if cs_id not in unsent]
        breaches = [] if accept_deletes or not missing else limit_breaches(
            self.store, self.record, self.store.guards.types_of(missing))
        if breaches:
            shrink_guard_stop(self.store, self.record, self.recorder, breaches, len(missing))
        for i in range(0, len(missing), 1000):
            with self.store.transaction():
                self.integrity.found_gone(missing[i : i + 1000])
                self.store.cs_objects.mark_deleted(missing[i : i + 1000])
                self.recorder.count_objects("deletes", missing[i : i + 1000])

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
            end = segment_end(keys, start)
            self.resolver.trim_names()
            segment = self.planner.plan(records, keys, start, end, self.resolver.key_of)
            self.writer.write(segment.slots, seen_run, touched, segment.held)
            self.resolver.remember(segment.slots, segment.held, segment.by_dn)
            start = segment.stop
        self.guard.changes.count_batch(self.store)  # before the confirmations drop exports
        confirm_exports(self.store, self.recorder, touched)
        return list(touched)
