"""Records a connector could not read: import errors, and never a delete because of them.

A full import infers deletes from absence: an object it did not return is gone. A record that
could not be read was not returned either, so without this it would turn a malformed entry
into a deleted object (and on to deleted accounts downstream). Here:

* every unreadable record is an import error in the run (code and ``FILE, line N: reason``),
  kept on the object it names when the connector space holds one, until a full import reads
  the record again;
* in a full import, the objects an unreadable record names (by anchor or DN) count as seen:
  they keep their connector space state;
* when a record names no object the connector space holds and its anchor is unknown (no DN
  could be read, or the object may be an existing one renamed), nothing tells which object
  it stands for: that full import infers no deletes at all, says so (event 119, the run's
  message) and leaves a full import required, so the deletes are inferred by the first full
  import that reads every record;
* in a delta import the change is not applied; the watermark moves past it (the rest of the
  changelog is imported) and a full import is required, which reads the object's current state.
"""

from __future__ import annotations

from collections.abc import Sequence

from idsync.connectors.base import UnreadableRecord
from idsync.dn import normalize_dn
from idsync.engine.recorder import RunRecorder
from idsync.events import EventId
from idsync.model import ConnectorRecord
from idsync.store import Store

STAGE = "import"


class UnreadableRecords:
    """One import run's unreadable records."""

    def __init__(self, store: Store, record: ConnectorRecord, recorder: RunRecorder, *,
                 full: bool) -> None:
        self.store = store
        self.record = record
        self.recorder = recorder
        self.full = full
        self.count = 0
        #: A record whose object could not be told: no delete may be inferred.
        self.unknown = 0
        self._cleared = False

    @property
    def withholds_deletes(self) -> bool:
        return self.unknown > 0

    def stage(self, items: Sequence[UnreadableRecord]) -> None:
        """Record a batch's unreadable records (inside the batch's transaction)."""
        if self.full and not self._cleared:
            # Import errors a previous full import left on objects: this one reads every
            # record again and puts back those still unreadable.
            self._cleared = True
            self.store.errors.clear_connector(self.record.id, STAGE)
        for item in items:
            self.count += 1
            held = self._held(item)
            if self.full:
                if held:
                    self.store.staging.touch_seen(held, self.recorder.run_id)
                elif item.anchor is None:
                    self.unknown += 1
            self.recorder.object_error(held[0] if held else None, item.dn, STAGE, item.code,
                                       item.detail)
        if items:
            self.recorder.count("unreadable-records", len(items))
            if not self.full:
                self.store.connectors.set_required(self.record.id, full_import=True)

    def _held(self, item: UnreadableRecord) -> list[int]:
        """The connector space objects (not placeholders) the record stands for."""
        cs = self.store.cs
        found: dict[int, None] = {}
        if item.anchor:
            obj = cs.by_anchors(self.record.id, [item.anchor]).get(item.anchor)
            if obj is not None and not obj.placeholder:
                found[obj.id] = None
        if item.dn is not None:
            key = normalize_dn(item.dn)
            for obj in cs.by_dns_all(self.record.id, [key]).get(key, []):
                if not obj.placeholder:
                    found[obj.id] = None
        return list(found)

    def finish(self) -> None:
        """After the last batch: the event and the run's message."""
        if not self.count:
            return
        name = self.record.name
        if self.withholds_deletes:
            note = (f"{self.count} record(s) could not be read, {self.unknown} of them naming "
                    "no object idsync can tell: no deletes were inferred from this full "
                    "import (objects missing from the source stay as they are until a full "
                    f"import reads every record); see idsync runs show {self.recorder.run_id}")
        elif self.full:
            note = (f"{self.count} record(s) could not be read; the objects they name keep "
                    f"their state; see idsync runs show {self.recorder.run_id}")
        else:
            note = (f"{self.count} change record(s) could not be read and were not applied; "
                    "a full import is required and will read the objects' current state; "
                    f"see idsync runs show {self.recorder.run_id}")
        with self.store.transaction():
            if self.withholds_deletes:
                self.store.connectors.set_required(self.record.id, full_import=True)
            self.recorder.event(EventId.IMPORT_RECORDS_UNREADABLE, f"{name}: {note}",
                                {"unreadable": self.count, "unknown": self.unknown,
                                 "deletes_withheld": self.withholds_deletes})
        self.recorder.note = note
