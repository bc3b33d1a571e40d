"""One run per connector: the run lock ``run_profile`` takes, whoever starts the run (``idsync
run``, a sync cycle of ``idsync serve`` or ``idsync cycle start``, the web UI).

Two runs of one connector at once corrupt its connector space: two Full Imports each mark what
the other one saw as missing and stage it as deleted. The lock is taken in the transaction that
records the run, so a run in the history always has its lock (and ``recover_abandoned_runs``
can tell a live run of another host from a dead one). A second run is refused at once: it is
recorded as a run with status ``no-start-connector-busy`` and event 1010, naming the holder.
"""

from __future__ import annotations

from collections.abc import Callable

from idsync.engine.recorder import RunRecorder
from idsync.events import EventId, level_of
from idsync.locks import Lock, LockHeld, Takeover, describe_holder, run_lock_name
from idsync.model import ConnectorRecord, RunProfile, RunStatus
from idsync.store import Store
from idsync.store.locks import LockRow


class ConnectorBusy(LockHeld):
    """Another run holds the connector."""


def busy_message(connector: str, held: LockHeld) -> str:
    return (f"connector {connector} is busy: {describe_holder(held.holder)}; this run was not "
            "started: wait for that one to finish (`idsync runs locks` shows who holds what)")


def start_run(store: Store, record: ConnectorRecord, profile: RunProfile, *, command: str,
              on_progress: Callable[[dict[str, int]], None] | None = None
              ) -> tuple[Lock, RunRecorder]:
    """Take the connector's run lock and record the run in one transaction; raise
    ``ConnectorBusy`` when another live run holds it."""

    def recovered(takeover: Takeover) -> None:
        store.events.add(int(EventId.RUN_LOCK_RECOVERED), level_of(EventId.RUN_LOCK_RECOVERED),
                         f"took over the run lock of connector {record.name} from "
                         f"{takeover.text()}", connector_id=record.id,
                         data={"holder": _holder_data(takeover.previous),
                               "why": takeover.why.value})

    try:
        with store.transaction():
            lock = Lock.acquire(store, run_lock_name(record.id), command=command,
                                connector_id=record.id, profile=profile.value,
                                on_takeover=recovered)
            recorder = RunRecorder(store, record, profile, on_progress=on_progress)
            lock.update(run_id=recorder.run_id)
    except LockHeld as held:
        raise ConnectorBusy(held.holder) from None
    return lock, recorder


def record_refusal(store: Store, record: ConnectorRecord, profile: RunProfile,
                   busy: ConnectorBusy) -> tuple[int, str]:
    """The refused attempt, in the run history and the event log; returns (run id, message)."""
    message = busy_message(record.name, busy)
    with store.transaction():
        run_id = store.runs.refused(record.id, profile.value,
                                    RunStatus.NO_START_CONNECTOR_BUSY.value, message)
        store.events.add(int(EventId.RUN_REFUSED), level_of(EventId.RUN_REFUSED), message,
                         connector_id=record.id, run_id=run_id,
                         data={"holder": _holder_data(busy.holder)})
    return run_id, message


def _holder_data(row: LockRow) -> dict[str, object]:
    return {"command": row.command, "profile": row.profile, "run_id": row.run_id,
            "host": row.host, "pid": row.pid, "since": row.since}
