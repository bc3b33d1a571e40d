"""One run of a run profile: its history record, counters, per-object errors and events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from idsync.errors import IdsyncError
from idsync.events import EventId, level_of
from idsync.locks import recover_abandoned_runs
from idsync.model import ConnectorRecord, RunProfile, RunStatus
from idsync.store import Store

#: More per-object errors than this in one run stop it (the reference: 5,000).
ERROR_LIMIT = 5000


class ErrorLimitReached(IdsyncError):
    """Too many per-object errors: the run stops as ``stopped-error-limit``."""


class RunRecorder:
    def __init__(self, store: Store, connector: ConnectorRecord, profile: RunProfile,
                 *, error_limit: int = ERROR_LIMIT,
                 on_progress: Callable[[dict[str, int]], None] | None = None) -> None:
        self.store = store
        self.on_progress = on_progress
        self.connector = connector
        self.profile = profile
        self.error_limit = error_limit
        self.counters: Counter[str] = Counter()
        #: (counter, cs_id, mv_id) of the objects counted since the last checkpoint: written
        #: with the batch that counted them, so a count links to its objects (run_objects)
        self._objects: list[tuple[str, int | None, int | None]] = []
        #: objects done and the total where the run knows it up front (the live progress)
        self.done = 0
        self.total: int | None = None
        self.errors = 0
        self.warnings = 0
        #: A line for the run's message when it completes (what the operator must know).
        self.note: str | None = None
        #: What the run sent and received (idsync.engine.traffic), set before finish().
        self.traffic: dict[str, int] = {}
        with store.transaction():
            recover_abandoned_runs(store)
            self.run_id = store.runs.start(connector.id, profile.value)
            self.event(EventId.RUN_STARTED,
                       f"{profile.value} started on connector {connector.name}")

    def count(self, key: str, n: int = 1, *, cs_id: int | None = None,
              mv_id: int | None = None) -> None:
        """Count ``n`` under ``key``; an object named by ``cs_id``/``mv_id`` (n = 1) is kept
        as one of the objects the count is made of."""
        if n:
            self.counters[key] += n
            if cs_id is not None or mv_id is not None:
                self._objects.append((key, cs_id, mv_id))

    def count_objects(self, key: str, cs_ids: Sequence[int]) -> None:
        """Count each connector space object of ``cs_ids`` under ``key``."""
        if cs_ids:
            self.counters[key] += len(cs_ids)
            self._objects.extend((key, i, None) for i in cs_ids)

    def trace(self, key: str, cs_ids: Sequence[int]) -> None:
        """Keep ``cs_ids`` as objects of ``key``, counted already (an import counts an add
        before the object has its id)."""
        self._objects.extend((key, i, None) for i in cs_ids)

    def set_total(self, total: int) -> None:
        """How many objects the run will do, known up front: shown from now on, not only
        from the first committed batch."""
        self.total = total
        with self.store.transaction():
            self.store.runs.save_counters(self.run_id, dict(self.counters), done=self.done,
                                          total=total)

    def advance(self, n: int) -> None:
        """``n`` more objects done (read, visited or sent): the progress a cycle shows."""
        self.done += n

    def event(self, event_id: EventId, message: str, data: dict[str, Any] | None = None) -> None:
        self.store.events.add(int(event_id), level_of(event_id), message,
                              connector_id=self.connector.id, run_id=self.run_id, data=data)

    def object_error(self, cs_id: int | None, dn: str | None, stage: str, code: str,
                     detail: str, *, keep_on_object: bool = True,
                     informational: bool = False, connector_id: int | None = None) -> None:
        """Record a per-object failure in the run history and on the object; the run goes on
        until the error limit."""
        self.store.runs.add_error(self.run_id, cs_id, dn, stage, code, detail)
        if keep_on_object and cs_id is not None:
            # An outbound rule's error belongs to the object in the target connector space,
            # whichever connector's synchronization computed it.
            self.store.errors.record(cs_id, connector_id or self.connector.id, stage, code,
                                     detail, self.run_id)
        if informational:
            self.warnings += 1
            self.count(f"{stage}-informational")
            return
        self.errors += 1
        self.count(f"{stage}-errors")
        if self.errors > self.error_limit:
            raise ErrorLimitReached(
                f"more than {self.error_limit} object errors in one run; fix the cause and run "
                "again")

    def status(self, stage: str) -> RunStatus:
        if self.errors:
            return {"import": RunStatus.COMPLETED_IMPORT_ERRORS,
                    "sync": RunStatus.COMPLETED_SYNC_ERRORS,
                    "export": RunStatus.COMPLETED_EXPORT_ERRORS}[stage]
        if self.warnings:
            return RunStatus.COMPLETED_WARNINGS
        return RunStatus.SUCCESS

    def finish(self, status: RunStatus, message: str | None = None) -> None:
        counters = dict(self.counters)
        with self.store.transaction():
            self._write_objects()
            self.store.runs.finish(self.run_id, status.value, counters, message, self.traffic)
            event = EventId.RUN_FINISHED if not status.value.startswith("stopped") \
                else EventId.RUN_FAILED
            text = f"{self.profile.value} on connector {self.connector.name}: {status.value}"
            if message:
                text += f" ({message})"
            self.event(event, text, {"counters": counters, "traffic": self.traffic})

    def checkpoint(self) -> None:
        """Keep the run's counters in the history as it goes, inside the batch transaction."""
        self._write_objects()
        self.store.runs.save_counters(self.run_id, dict(self.counters), done=self.done,
                                      total=self.total)
        if self.on_progress is not None:
            self.on_progress(dict(self.counters))

    def _write_objects(self) -> None:
        if self._objects:
            self.store.runs.add_objects(self.run_id, self._objects)
            self._objects = []
