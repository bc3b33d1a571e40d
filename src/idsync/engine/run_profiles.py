"""Run profiles: Full Import, Delta Import, Full Synchronization, Delta Synchronization, Export.

Each run gets a history record, its counters and errors, and ends with a status that says what
happened; only failures that make the whole run meaningless stop it (connectivity, the deletion
threshold, the error limit, a bad configuration).
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from idsync.engine.core import STATISTICS_AFTER, RunContext
from idsync.engine.exporting import ExportStage
from idsync.engine.import_guards import AttributeChangesHeld, check_before_sync
from idsync.engine.importing import Importer
from idsync.engine.recorder import ErrorLimitReached, RunRecorder
from idsync.engine.run_lock import ConnectorBusy, record_refusal, start_run
from idsync.engine.synchronization import synchronize
from idsync.engine.traffic import RunTraffic
from idsync.errors import ConfigurationError, ConnectivityError, DeletionThresholdExceeded
from idsync.events import EventId
from idsync.failures import describe as describe_failure
from idsync.locks import Lock, LockLost, process_command
from idsync.model import ConnectorRecord, RunProfile, RunStatus

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    run_id: int
    connector: str
    profile: str
    status: str
    counters: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    #: requests, bytes_sent, bytes_received (idsync.engine.traffic).
    traffic: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.status.startswith(("stopped", "no-start"))


STAGE_OF = {
    RunProfile.FULL_IMPORT: "import",
    RunProfile.DELTA_IMPORT: "import",
    RunProfile.FULL_SYNC: "sync",
    RunProfile.DELTA_SYNC: "sync",
    RunProfile.EXPORT: "export",
}


def run_profile(engine: RunContext, connector_name: str, profile: RunProfile, *,
                accept_deletes: bool = False, accept_changes: bool = False,
                on_progress: Callable[[dict[str, int]], None] | None = None,
                command: str | None = None,
                work: Callable[[RunRecorder], None] | None = None) -> RunResult:
    """Run one run profile under the connector's run lock (``command`` names the holder:
    by default this process's command line). A connector another run holds is not run: the
    result is ``no-start-connector-busy``, naming the holder. ``work``: what the run does
    instead of the whole profile (one object's path, idsync.administration.object_preview),
    recorded, locked and guarded like the profile itself."""
    record = engine.connector(connector_name)
    try:
        lock, recorder = start_run(engine.store, record, profile,
                                   command=command or process_command(),
                                   on_progress=on_progress)
    except ConnectorBusy as busy:
        run_id, text = record_refusal(engine.store, record, profile, busy)
        return RunResult(run_id, record.name, profile.value,
                         RunStatus.NO_START_CONNECTOR_BUSY.value, {}, text)
    with lock.held_for():
        traffic = RunTraffic(engine, record, profile)
        status, message = _run_recorded(engine, record, profile, recorder, lock,
                                        accept_deletes=accept_deletes,
                                        accept_changes=accept_changes, work=work)
        recorder.traffic = traffic.finish()
        try:
            recorder.finish(status, message)
        except LockLost as exc:  # taken over after the last batch: the work is committed
            lock.unguard()
            status, message = RunStatus.STOPPED_LOCK_LOST, str(exc)
            recorder.finish(status, message)
    return RunResult(recorder.run_id, record.name, profile.value, status.value,
                     dict(recorder.counters), message, recorder.traffic)


def _run_recorded(engine: RunContext, record: ConnectorRecord, profile: RunProfile,
                  recorder: RunRecorder, lock: Lock, *, accept_deletes: bool,
                  accept_changes: bool = False,
                  work: Callable[[RunRecorder], None] | None = None
                  ) -> tuple[RunStatus, str | None]:
    status: RunStatus
    message: str | None = None
    try:
        with _bulk_garbage_collection():
            if work is None:
                _run(engine, record, profile, recorder, accept_deletes=accept_deletes,
                     accept_changes=accept_changes)
            else:
                work(recorder)
        if sum(recorder.counters.values()) >= STATISTICS_AFTER:
            engine.store.db.refresh_statistics()
        status = recorder.status(STAGE_OF[profile])
        message = recorder.note
    except LockLost as exc:
        # Another process took the lock over: this run's last batch was rolled back; record
        # the end without the guard (the row is no longer ours).
        lock.unguard()
        status, message = RunStatus.STOPPED_LOCK_LOST, str(exc)
        with engine.store.transaction():
            recorder.event(EventId.RUN_LOCK_LOST, f"{record.name}: {exc}")
    except ConnectivityError as exc:
        status, message = RunStatus.STOPPED_CONNECTIVITY, str(exc)
        with engine.store.transaction():
            recorder.event(EventId.CONNECTIVITY_FAILURE,
                           f"{record.name}: cannot reach the directory: {exc}")
    except DeletionThresholdExceeded as exc:
        status, message = RunStatus.STOPPED_DELETION_THRESHOLD, str(exc)
    except AttributeChangesHeld as exc:
        status, message = RunStatus.STOPPED_ATTRIBUTE_CHANGE_LIMIT, str(exc)
    except ErrorLimitReached as exc:
        status, message = RunStatus.STOPPED_ERROR_LIMIT, str(exc)
        with engine.store.transaction():
            recorder.event(EventId.ERROR_LIMIT_REACHED, f"{record.name}: {exc}")
    except StagingMode as exc:
        status, message = RunStatus.STOPPED_STAGING_MODE, str(exc)
    except ConfigurationError as exc:
        status, message = RunStatus.STOPPED_CONFIGURATION, str(exc)
    except Exception as exc:
        # Whatever else went wrong, the run ends stopped with its cause in the history and the
        # run-failed event, not "in-progress" until the next start (the traceback: --debug).
        log.debug("run %s failed", recorder.run_id, exc_info=True)
        status, message = RunStatus.STOPPED_SERVER, describe_failure(exc)[0]
    return status, message


@contextlib.contextmanager
def _bulk_garbage_collection() -> Iterator[None]:
    """A run allocates millions of short-lived objects with no reference cycles; the
    collector's default thresholds spend about a third of an import scanning them."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(old[0], 50_000), old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def _run(engine: RunContext, record: ConnectorRecord, profile: RunProfile, recorder: RunRecorder, *,
         accept_deletes: bool, accept_changes: bool = False) -> None:
    if profile is RunProfile.FULL_IMPORT:
        Importer(engine, record, recorder).full_import(accept_deletes=accept_deletes,
                                                       accept_changes=accept_changes)
    elif profile is RunProfile.DELTA_IMPORT:
        Importer(engine, record, recorder).delta_import(accept_changes=accept_changes)
    elif profile in (RunProfile.FULL_SYNC, RunProfile.DELTA_SYNC):
        check_before_sync(engine.store, record, recorder, accept=accept_changes)
        synchronize(engine, record, recorder, full=profile is RunProfile.FULL_SYNC)
    else:
        if engine.store.settings.get("staging_mode", False):
            # A staging server imports and synchronizes but never exports (idsync.scheduler).
            raise StagingMode("staging mode is on: nothing is exported; review the pending "
                              f"exports with `idsync export preview {record.name}`")
        ExportStage(engine, record, recorder).run()


class StagingMode(ConfigurationError):
    """Export refused on a staging server: the run ends ``stopped-staging-mode``."""
