"""Export: send pending exports to the connected directory.

Adds go first, then modifies, renames and deletes, so a reference can name an object added
earlier in the same run (its anchor is stored as soon as the directory returns it). Before
them, the deletes and renames that free a DN a pending add wants (a person deleted or renamed
away, a different person created at her DN, in one cycle): the directory has one object per
DN, so the old one must go before the new one comes. A directory may hold other values unique
(the cloud: userPrincipalName, proxyAddresses, which it soft-matches on): an add it refuses
while the run still has deletes to send is sent again once they are sent, and only a second
refusal is an error. Each batch's
results are committed as they come back: a crash re-sends at most the batch in flight, which the
next import confirms or corrects. A bad object fails alone, as an export error with a code kept on
the object until it clears.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from idsync.connectors.base import (
    ExportChange,
    Exporter,
    ExportRef,
    ExportResult,
    MemberDeltaExporter,
)
from idsync.engine.authority import AuthorityHold
from idsync.engine.core import BATCH_SIZE, RunContext
from idsync.engine.deletion_limits import check_export
from idsync.engine.member_removals import forget_allowances, hold_member_removals
from idsync.engine.recorder import RunRecorder
from idsync.error_codes import ErrorCode, is_informational, is_retryable
from idsync.errors import ConfigurationError
from idsync.events import EventId
from idsync.model import ConnectorRecord, CSObject, ExportKind, ExportState, PendingExport
from idsync.store import Store

#: Adds without references first (users), then adds that reference them (groups), so a new
#: group's new members already exist in the directory; then modifies, renames, deletes.
EXPORT_PHASES: list[tuple[ExportKind, bool | None]] = [
    (ExportKind.ADD, False), (ExportKind.ADD, True), (ExportKind.MODIFY, None),
    (ExportKind.RENAME, None), (ExportKind.DELETE, None)]


class ExportStage:
    def __init__(self, engine: RunContext, record: ConnectorRecord,
                 recorder: RunRecorder, *, only: frozenset[int] | None = None) -> None:
        self.engine = engine
        #: the pending exports this run may send (one object's, provisioned on demand); None:
        #: every pending export of the connector
        self.only = only
        self.store = engine.store
        self.record = record
        self.recorder = recorder
        connector = engine.instance(record)
        if not isinstance(connector, Exporter):
            raise ConfigurationError(f"connector {record.name} cannot export")
        self.connector: Exporter = connector
        self.value_deltas = (isinstance(connector, MemberDeltaExporter)
                             and connector.supports_value_deltas())
        # A connector may ask for larger export calls (ExportBatchSize in base.py).
        self.batch_size = int(getattr(self.connector, "export_batch_size", BATCH_SIZE))
        #: adds refused while deletes were still to be sent: sent again after the deletes
        self._waiting: dict[int, None] = {}
        self._deletes_due = False
        #: objects the cloud manages: their changes are held, not sent (engine.authority)
        self.hold = AuthorityHold(self.store, record, recorder)

    def run(self) -> None:
        check_export(self.engine, self.record, self.recorder)  # the deletion limits
        self.hold.start()
        self._deletes_due = bool(self.store.exports.count(
            self.record.id, kind=ExportKind.DELETE, state=ExportState.PENDING))
        # Progress: the pending exports to send (a refused add tried again counts twice).
        self.recorder.set_total(self.store.exports.count(self.record.id,
                                                         state=ExportState.PENDING))
        self._in_pages(self.store.exports.freeing)  # a reused DN: the old object goes first
        self._add_in_rounds()
        for kind, with_refs in EXPORT_PHASES:
            self._in_pages(self._phase(kind, with_refs))
        # The deletes are sent: an add refused meanwhile (a value the deleted object held)
        # is tried again, and a refusal now is its error.
        self._deletes_due = False
        waiting, self._waiting = list(self._waiting), {}
        for i in range(0, len(waiting), self.batch_size):
            self._export_batch(waiting[i:i + self.batch_size])
        forget_allowances(self.store, self.record)  # one-shot: for this run only

    def _phase(self, kind: ExportKind, with_refs: bool | None
               ) -> Callable[[int, int, int], list[int]]:
        """The pages of one phase's pending exports (``EXPORT_PHASES``)."""
        def page(connector_id: int, after: int, limit: int) -> list[int]:
            return self.store.exports.page(connector_id, kind, after, limit, with_refs=with_refs)
        return page

    def _in_pages(self, page: Callable[[int, int, int], list[int]]) -> None:
        """Send what ``page(connector, after, limit)`` lists, a batch at a time (a sent
        export leaves the pending state, so it is not listed again)."""
        after = 0
        while ids := page(self.record.id, after, self.batch_size):
            self._export_batch(ids)
            after = ids[-1]

    def _add_in_rounds(self) -> None:
        """Adds go in rounds: each round sends the objects whose references all name objects
        that already exist (users before the groups and reports that name them, managers before
        their reports). What is left after the last round that made progress (a reference
        cycle, or an add the directory refused) goes in the phases below, and any reference
        the directory cannot resolve yet is sent again by the next cycle."""
        attempted: set[int] = set()
        while True:
            sent = 0
            after = 0
            while True:
                page = self.store.exports.ready_adds(self.record.id, after, self.batch_size)
                if not page:
                    break
                after = page[-1]
                # An add the directory refused stays pending: it is tried once per run.
                ids = [i for i in page if i not in attempted]
                if ids:
                    attempted.update(ids)
                    self._export_batch(ids)
                    sent += len(ids)
            if not sent:
                return

    def _export_batch(self, ids: Sequence[int]) -> None:
        if self.only is not None:
            ids = [i for i in ids if i in self.only]
            if not ids:
                return
        pending = self.store.exports.get_many(ids)
        objs = self.store.cs.by_ids(ids)
        held = hold_member_removals(self.store, self.record, self.recorder, pending, objs)
        # The names of every object the batch's reference changes name: one look-up.
        targets = sorted({t for pe in pending.values() for bucket in (pe.ref_adds, pe.ref_removes)
                          for ts in bucket.values() for t in ts})
        names = self.store.cs.dns_and_anchors(targets) if targets else {}
        changes = []
        for cs_id in ids:
            pe, cs = pending.get(cs_id), objs.get(cs_id)
            if pe is None or cs is None or cs_id in held or cs_id in self._waiting:
                continue
            changes.append(self._change(pe, cs, names))
        if not changes:
            return
        results = {r.cs_id: r for r in self.connector.export(changes)}
        with self.store.transaction():
            writes = _ResultWrites(self.store.errors.holders([c.cs_id for c in changes]))
            for change in changes:
                result = results.get(change.cs_id) or ExportResult(
                    change.cs_id, ok=False, error_code=ErrorCode.NO_RESULT,
                    error_detail="the connector returned no result for this change")
                self._apply_result(change, result, pending[change.cs_id], writes)
            writes.flush(self.store)
            self.recorder.advance(len(changes))
            self.recorder.checkpoint()

    def _change(self, pe: PendingExport, cs: CSObject,
                known: dict[int, tuple[str, str | None]]) -> ExportChange:
        """The change to send; ``known`` holds the DN and anchor of the objects the batch's
        reference changes name."""
        kind = pe.kind
        targets: set[int] = set()
        full_lists: dict[str, set[int]] = {}
        if not self.value_deltas and kind is not ExportKind.DELETE:
            # A connector without value-level deltas gets the whole list of every reference
            # attribute that changes.
            names = set(pe.ref_adds) | set(pe.ref_removes)
            have = self.store.cs.refs_of([cs.id], names).get(cs.id, {}) if names else {}
            for name in names:
                full = (set(have.get(name, set())) | pe.ref_adds.get(name, set())) - \
                    pe.ref_removes.get(name, set())
                full_lists[name] = full
                targets |= full
        missing = sorted(t for t in targets if t not in known)
        refs = {**known, **self.store.cs.dns_and_anchors(missing)} if missing else known

        def ref(t: int) -> ExportRef:
            dn, anchor = refs.get(t, ("", None))
            return ExportRef(dn, anchor)

        attributes: dict[str, list[Any]] = {k: list(v) for k, v in pe.attributes.items()}
        value_adds: dict[str, list[Any]] = {}
        value_removes: dict[str, list[Any]] = {}
        if self.value_deltas or kind is ExportKind.ADD:
            for name, ts in pe.ref_adds.items():
                target = attributes if kind is ExportKind.ADD else value_adds
                target[name] = [ref(t) for t in sorted(ts)]
            if kind is not ExportKind.ADD:
                for name, ts in pe.ref_removes.items():
                    value_removes[name] = [ref(t) for t in sorted(ts)]
        else:
            for name, full in full_lists.items():
                attributes[name] = [ref(t) for t in sorted(full)]
        return ExportChange(cs_id=cs.id, kind=kind, dn=cs.dn, object_type=cs.object_type or "",
                            anchor=cs.anchor, new_dn=pe.new_dn, attributes=attributes,
                            value_adds=value_adds, value_removes=value_removes)

    def _apply_result(self, change: ExportChange, result: ExportResult,
                      pe: PendingExport, writes: _ResultWrites) -> None:
        if result.cloud_managed and change.kind is not ExportKind.ADD:
            # Nothing applied: held, not failed (engine.authority). An add matched onto a
            # cloud-managed object is an error: no import would ever release it.
            self.hold.refused(change.cs_id, change.dn)
            return
        anchor = result.anchor if change.kind is ExportKind.ADD else None
        created = anchor is not None
        if anchor is not None:
            # Keep the new object's anchor even when the add only partly succeeded (a member
            # the directory could not resolve): the retry must not create it a second time.
            writes.anchors.append((anchor, change.cs_id))
        if result.ok or created:
            # Sent: the next import confirms it, or shows what is still missing (the partial
            # part), which the next synchronization stages again.
            writes.exported.append(change.cs_id)
            if result.dn:
                writes.dns.append((result.dn, change.cs_id))
            if change.cs_id in writes.erred:
                self.store.errors.clear(change.cs_id, "export",
                                        keep=(ErrorCode.DN_ATTRIBUTES_FAILURE,))
            self.recorder.count({"add": "adds", "modify": "updates", "rename": "renames",
                                 "delete": "deletes"}[change.kind.value],
                                cs_id=change.cs_id)
            if result.error_code:
                # A warning on a success (a quarantined duplicate value) or the failed part
                # of a partial add: recorded on the object, the run goes on.
                # A created object's failed part is informational when its code is
                # (dn-attributes-failure: members the directory did not have yet, which the
                # next cycle sends).
                self.recorder.object_error(
                    change.cs_id, change.dn, "export", result.error_code,
                    result.error_detail or result.error_code,
                    informational=result.ok or is_informational(result.error_code))
            return
        if change.kind is ExportKind.ADD and self._deletes_due:
            self._waiting[change.cs_id] = None  # no error yet: after the deletes (run)
            return
        self.store.exports.failed(change.cs_id)
        code = result.error_code or ErrorCode.EXPORT_FAILED
        detail = result.error_detail or "the directory refused the change"
        # The connector's verdict on this result first (the cloud's says whether every one of
        # its errors is transient); else the registry's on the code.
        if result.retryable if result.retryable is not None else is_retryable(code):
            detail += " (transient: retried in the next export)"
        self.recorder.object_error(change.cs_id, change.dn, "export", code, detail)
        self.recorder.event(EventId.OBJECT_ERROR, f"export of {change.dn} failed: {code}",
                            {"cs_id": change.cs_id, "code": code, "detail": detail})


@dataclass
class _ResultWrites:
    """What a batch's results write to the connector space, written together at the batch's
    end (a statement per object was a round trip per object on PostgreSQL)."""

    #: objects of the batch holding errors: the only ones whose errors a success clears
    erred: set[int]
    anchors: list[tuple[str, int]] = field(default_factory=list)
    exported: list[int] = field(default_factory=list)
    dns: list[tuple[str, int]] = field(default_factory=list)

    def flush(self, store: Store) -> None:
        store.cs.set_anchors(self.anchors)
        store.cs.set_dns(self.dns)
        if self.exported:
            store.exports.set_state(self.exported, ExportState.EXPORTED)
