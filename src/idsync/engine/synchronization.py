"""Full and Delta Synchronization of one connector: the four passes in committed batches.

Inbound, join and projection then attribute flow over the connector's objects (all of them, or
those with a pending import); outbound, provisioning then attribute flow over the metaverse
objects waiting in ``mv_dirty``. The passes share one ``SyncContext``; a full synchronization is
the reference-change journal's checkpoint (``engine.reference_journal``).
"""

from __future__ import annotations

from idsync.engine.core import BATCH_SIZE, STATISTICS_AFTER, RunContext
from idsync.engine.discards import restage_discarded
from idsync.engine.inbound_flow import InboundFlow
from idsync.engine.join_projection import JoinProjection
from idsync.engine.outbound_flow import OutboundFlow
from idsync.engine.provisioning import Provisioning
from idsync.engine.reconciliation import sweep
from idsync.engine.recorder import RunRecorder
from idsync.engine.reference_journal import ReferenceJournal, journal_checkpoint, journal_valid
from idsync.engine.sync_context import SyncContext
from idsync.model import ConnectorRecord


def synchronize(engine: RunContext, record: ConnectorRecord, recorder: RunRecorder, *,
                full: bool) -> None:
    store = engine.store
    # A full synchronization compares every list whole; a delta one compares only the values
    # the reference change journal names, once every connector had a full one under these
    # rules.
    journal = ReferenceJournal(engine, usable=not full and journal_valid(engine))
    ctx = SyncContext(engine, recorder, journal)
    flow = InboundFlow(ctx)
    connect = JoinProjection(ctx, reflow=flow.flow_mv_ids)
    changed = 0
    # Progress: both passes visit the same objects (the outbound pass after them is not
    # counted: how many metaverse objects it visits is known only as it goes).
    recorder.set_total(2 * store.cs.count(record.id, pending_only=not full))
    for work in (connect.connect_batch, flow.flow_batch):
        after = 0
        while True:
            ids = store.cs.ids_page(record.id, after, BATCH_SIZE, pending_only=not full)
            if not ids:
                break
            with store.transaction():
                work(ids)
                recorder.advance(len(ids))
                recorder.checkpoint()
            after = ids[-1]
        if sum(recorder.counters.values()) - changed >= STATISTICS_AFTER:
            # The next pass reads the links (flow) and the metaverse lists (outbound) this
            # one just wrote: plans made from the statistics before them can walk whole lists.
            store.db.refresh_statistics()
            changed = sum(recorder.counters.values())
    if full:
        # Unlinked objects' pending exports too: none stays that these rules would not stage.
        sweep(engine, recorder, record.id)
    _outbound(ctx, Provisioning(ctx), OutboundFlow(ctx))
    if full:
        with store.transaction():
            store.connectors.set_required(record.id, full_sync=False)
            journal_checkpoint(engine, record.id)
        restage_discarded(store, recorder)


def _outbound(ctx: SyncContext, provisioning: Provisioning, flow: OutboundFlow) -> None:
    """Drain ``mv_dirty``: every waiting object is provisioned (phase 0) before any flows
    (phase 1), so a new group's new members are in the target connector space first."""
    store, recorder = ctx.store, ctx.recorder
    for phase, work in ((0, provisioning.provision_batch), (1, flow.flow_batch)):
        if phase == 1 and recorder.counters["provisioned"] >= STATISTICS_AFTER:
            # The flows look the new objects up by their links (see refresh_statistics).
            store.db.refresh_statistics()
        while True:
            ids = store.mv.dirty_page(phase, 0, BATCH_SIZE)
            if not ids:
                break
            with store.transaction():
                work(ids)
                if phase == 0:
                    store.mv.set_dirty_phase(ids, 1)
                else:
                    store.mv.clear_dirty(ids)
                recorder.checkpoint()
