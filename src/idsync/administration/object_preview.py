"""Preview one object, then commit it (provision on demand): ``idsync object preview`` and the
web UI's /preview.

Preview reads the object fresh from its directory and runs its whole path through the real
engine passes (idsync.administration.object_path) inside ``BaseDatabase.discarded``, as the
configuration preview does (idsync.administration.simulation): every write, run records
included, is rolled back, and the trace is what the passes did. Nothing is exported and no
directory is written.

Commit runs the same path for real, under the sync cycle lock and each connector's run lock,
as recorded runs: a Delta Import of the one object, a Delta Synchronization of it, then an
Export on each connector where it staged changes, sending only those pending exports (other
pending exports stay pending). The export's guards apply (deletion limits, member removal
limits); in staging mode nothing is exported and the trace says so.
See docs/decisions/object-preview.md.
"""

from __future__ import annotations

from collections.abc import Callable

from idsync.administration.audit import AuditAction, record_change
from idsync.administration.object_path import ObjectPath
from idsync.administration.object_trace import ObjectTrace, RunLine, StepKind
from idsync.administration.simulation import refuse_during_runs
from idsync.engine.core import RunContext
from idsync.engine.exporting import ExportStage
from idsync.engine.import_guards import check_before_sync
from idsync.engine.recorder import RunRecorder
from idsync.engine.run_profiles import RunResult, run_profile
from idsync.errors import ConfigurationError
from idsync.locks import process_command
from idsync.model import ExportState, RunProfile
from idsync.scheduler.lock import CycleLock, CycleRunning
from idsync.scheduler.settings import is_staging_mode
from idsync.store import Store

#: The cycle lock's policy while a commit holds it (what `cycle status` shows).
COMMIT_POLICY = "provision-on-demand"


def _path(engine: RunContext, connector: str, dn: str) -> ObjectPath:
    if not dn.strip():
        raise ConfigurationError("give the object's DN (--dn)")
    record = engine.connector(connector)  # an unknown name: a one-line ConfigurationError
    return ObjectPath(engine, record, dn.strip())


def preview_object(store: Store, workspace: str, connector: str, dn: str) -> ObjectTrace:
    """The trace of one object's whole path, nothing kept."""
    refuse_during_runs(store)
    engine = RunContext(store, workspace)
    try:
        path = _path(engine, connector, dn)
        path.read()
        with store.db.discarded():
            path.import_one(RunRecorder(store, path.record, RunProfile.DELTA_IMPORT))
            path.synchronize(RunRecorder(store, path.record, RunProfile.DELTA_SYNC))
        path.trace.notes.append("preview: nothing was changed")
        return path.trace
    finally:
        engine.close()


def commit_object(store: Store, workspace: str, connector: str, dn: str) -> ObjectTrace:
    """Import, synchronize and export this one object, as recorded runs."""
    lock = CycleLock(store)
    try:
        lock.acquire(COMMIT_POLICY, dn)
    except CycleRunning as running:
        raise ConfigurationError(str(running)) from None
    engine = RunContext(store, workspace)
    try:
        trace = _commit(store, engine, connector, dn)
    finally:
        engine.close()
        lock.release()
    with store.transaction():
        record_change(store, AuditAction.OBJECT_COMMIT, f"{trace.connector}: {trace.dn}",
                      None, {"runs": [f"{r.connector} {r.profile} #{r.run_id}: {r.status}"
                                      for r in trace.runs], "notes": trace.notes})
    return trace


def _commit(store: Store, engine: RunContext, connector: str, dn: str) -> ObjectTrace:
    path = _path(engine, connector, dn)
    trace = path.trace
    trace.committed = True
    command = f"object preview --commit {dn}: {process_command()}"
    path.read()

    def synchronize(recorder: RunRecorder) -> None:
        # As any synchronization: refused while the attribute change limit holds the
        # connector's imports (idsync.engine.import_guards).
        check_before_sync(store, path.record, recorder, accept=False)
        path.synchronize(recorder)

    for profile, work in ((RunProfile.DELTA_IMPORT, path.import_one),
                          (RunProfile.DELTA_SYNC, synchronize)):
        if not _run(engine, trace, path.record.name, profile, work, command):
            return trace
    if not path.exports:
        trace.notes.append("nothing to export")
        return trace
    if is_staging_mode(store):
        # A staging server imports and synchronizes but never exports (idsync.scheduler).
        trace.notes.append("staging mode is on: the object's exports are staged, not "
                           "exported; review them with `idsync export preview CONNECTOR`")
        return trace
    sent: list[int] = []
    for connector_id, ids in sorted(path.exports.items()):
        target = store.connectors.by_id(connector_id)
        only = frozenset(ids)

        def export(recorder: RunRecorder, target_id: int = connector_id,
                   only: frozenset[int] = only) -> None:
            ExportStage(engine, store.connectors.by_id(target_id), recorder, only=only).run()

        _run(engine, trace, target.name, RunProfile.EXPORT, export, command)
        sent += sorted(ids)
    _exported_steps(store, trace, sent)
    return trace


def _run(engine: RunContext, trace: ObjectTrace, connector: str, profile: RunProfile,
         work: Callable[[RunRecorder], None], command: str) -> bool:
    result: RunResult = run_profile(engine, connector, profile, work=work, command=command)
    trace.runs.append(RunLine(result.run_id, result.connector, result.profile, result.status,
                              result.message))
    if not result.ok:
        trace.notes.append(f"{profile.value} on {connector} ended {result.status}"
                           + (f": {result.message}" if result.message else ""))
    return result.ok


def _exported_steps(store: Store, trace: ObjectTrace, ids: list[int]) -> None:
    pending = store.exports.get_many(ids, with_refs=False)
    objects = store.cs.by_ids(ids)
    erred = store.errors.holders(ids)
    for cs_id in ids:
        cs = objects.get(cs_id)
        name = store.connectors.by_id(cs.connector_id).name if cs else "?"
        pe = pending.get(cs_id)
        if pe is None or pe.state == ExportState.EXPORTED:
            outcome = "exported"
        else:
            outcome = f"still {pe.state.value}"
        if cs_id in erred:
            outcome += " (holds an export error: see the run's errors)"
        trace.add(StepKind.EXPORTED, f"{cs.dn if cs else cs_id}: {outcome}", connector=name)
