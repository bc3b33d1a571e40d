"""The source of authority in the export run: the pending exports of an object whose authority
is the cloud (``Authority.CLOUD``: an import said ``cloud_managed``, or the directory refused a
write with it) are held, not sent and not failed, until an import says the authority is back
(docs/decisions/source-of-authority.md).

Holding is not an error: no export error, no attempt counted, the run's status unchanged. Each
export run counts the objects it holds (``cloud-managed-held``, linked to the objects); event
6956 (``EventId.CLOUD_MANAGED_SKIPPED``) is written once per object, when holding starts
(``cs_objects.held_since``), so a run every few minutes does not repeat it.
"""

from __future__ import annotations

from idsync.engine.recorder import RunRecorder
from idsync.events import EventId
from idsync.model import ConnectorRecord
from idsync.store import Store

#: The run counter of the objects whose changes an export run held.
HELD_COUNTER = "cloud-managed-held"
#: Objects whose holding starts written per transaction.
_CHUNK = 500


class AuthorityHold:
    def __init__(self, store: Store, record: ConnectorRecord, recorder: RunRecorder) -> None:
        self.store = store
        self.record = record
        self.recorder = recorder

    def start(self) -> None:
        """Before anything is sent: count the objects held (the export pages leave them out,
        idsync.store.authority.not_held) and record the ones whose holding starts now."""
        held = self.store.authority.held(self.record.id)
        starting = [(cs_id, dn) for cs_id, dn, since in held if since is None]
        with self.store.transaction():
            self.recorder.count_objects(HELD_COUNTER, [cs_id for cs_id, _dn, _since in held])
            self.recorder.checkpoint()
        for i in range(0, len(starting), _CHUNK):
            with self.store.transaction():
                part = starting[i:i + _CHUNK]
                self.store.authority.hold([cs_id for cs_id, _dn in part])
                for cs_id, dn in part:
                    self._event(cs_id, dn, "import")

    def refused(self, cs_id: int, dn: str) -> None:
        """Inside the batch's transaction: the directory refused the change because the cloud
        manages the object now (it moved after the last import). The change stays pending."""
        self.store.authority.hold([cs_id])
        self.recorder.count(HELD_COUNTER, cs_id=cs_id)
        self._event(cs_id, dn, "refused")

    def _event(self, cs_id: int, dn: str, cause: str) -> None:
        self.recorder.event(
            EventId.CLOUD_MANAGED_SKIPPED,
            f"exports to {dn} held: its source of authority is the cloud; they are sent when "
            "an import shows the authority back on premises",
            {"cs_id": cs_id, "dn": dn, "cause": cause})
