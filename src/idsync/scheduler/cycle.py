"""A sync cycle: the run profiles of every connector in the reference's order.

Import on-premises connectors, import cloud connectors, synchronize on-premises, synchronize
cloud, export cloud, export on-premises. A delta cycle runs Delta Import and Delta
Synchronization, except where a connector's override (full import / full sync required) asks for
the full profile; an initial cycle runs Full Import and Full Synchronization everywhere. Staging
mode leaves the exports out. The cycle stops between run profiles (its safe points) when asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from idsync.connectors.base import DeltaImporter
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import RunResult, run_profile
from idsync.events import EventId
from idsync.locks import process_command, recover_abandoned_runs
from idsync.model import ConnectorRecord, RunProfile, RunStatus
from idsync.scheduler.lock import CycleLock
from idsync.scheduler.settings import (
    MAX_SYNC_GAP,
    POLICIES,
    CycleStatus,
    is_staging_mode,
    iso,
    load_settings,
    load_state,
    next_cycle_start,
    now,
    parse_iso,
    save_settings,
    save_state,
)
from idsync.store import Store

log = logging.getLogger("idsync.scheduler")

CLOUD_TYPES = frozenset({"cloud"})


@dataclass(frozen=True)
class CycleStep:
    connector: str
    profile: RunProfile


@dataclass
class CycleResult:
    policy: str
    status: CycleStatus
    started_at: str
    ended_at: str = ""
    runs: list[RunResult] = field(default_factory=list)
    skipped: list[CycleStep] = field(default_factory=list)
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "status": self.status, "started_at": self.started_at,
                "ended_at": self.ended_at, "message": self.message,
                "runs": [{"run_id": r.run_id, "connector": r.connector, "profile": r.profile,
                          "status": r.status, "counters": r.counters, "message": r.message,
                          "traffic": r.traffic}
                         for r in self.runs],
                "skipped": [{"connector": s.connector, "profile": s.profile.value}
                            for s in self.skipped]}


def _is_cloud(record: ConnectorRecord) -> bool:
    return record.type in CLOUD_TYPES


def plan_cycle(engine: RunContext, policy: str, *, staging: bool) -> list[CycleStep]:
    """The run profiles of one cycle, in order, chosen from the policy and each connector's
    overrides as they stand now."""
    if policy not in POLICIES:
        raise ValueError(f"unknown cycle policy {policy!r}")
    connectors = engine.connectors()
    on_prem = [c for c in connectors if not _is_cloud(c)]
    cloud = [c for c in connectors if _is_cloud(c)]
    initial = policy == "initial"
    steps: list[CycleStep] = []
    for c in on_prem + cloud:
        delta_possible = (c.watermark is not None
                          and isinstance(engine.instance(c), DeltaImporter))
        full = initial or c.full_import_required or not delta_possible
        steps.append(CycleStep(c.name, RunProfile.FULL_IMPORT if full else
                               RunProfile.DELTA_IMPORT))
    for c in on_prem + cloud:
        full = initial or c.full_sync_required
        steps.append(CycleStep(c.name, RunProfile.FULL_SYNC if full else RunProfile.DELTA_SYNC))
    if not staging:
        steps += [CycleStep(c.name, RunProfile.EXPORT) for c in cloud + on_prem]
    return steps


class CycleRunner:
    """Runs one cycle under the cycle lock and records it (state, events, purge)."""

    def __init__(self, store: Store, workspace: str, *,
                 should_stop: Callable[[], bool] | None = None,
                 on_run: Callable[[RunResult], None] | None = None) -> None:
        self.store = store
        self.workspace = workspace
        self.should_stop = should_stop or (lambda: False)
        self.on_run = on_run

    def run(self, policy: str | None = None, *, reason: str = "on demand") -> CycleResult:
        settings = load_settings(self.store)
        policy = policy or settings.next_cycle_policy
        lock = CycleLock(self.store)
        lock.acquire(policy, reason)
        try:
            return self._run_locked(lock, policy, reason)
        finally:
            lock.release()

    def _run_locked(self, lock: CycleLock, policy: str, reason: str) -> CycleResult:
        staging = is_staging_mode(self.store)
        result = CycleResult(policy, CycleStatus.IN_PROGRESS, iso(now()))
        with self.store.transaction():
            recover_abandoned_runs(self.store)
            state = load_state(self.store)
            last_ok = parse_iso(state.last_successful_cycle_end)
            if last_ok is not None and now() - last_ok > timedelta(seconds=MAX_SYNC_GAP):
                # The reference: a server that has not synchronized for 7 days (staging
                # included) needs a full synchronization.
                self.store.connectors.mark_full_sync_required_all()
            state.last_cycle_start, state.last_cycle_policy = result.started_at, policy
            save_state(self.store, state)
            self.store.events.add(
                int(EventId.CYCLE_STARTED), "information",
                f"{policy} sync cycle started ({reason})"
                + (" in staging mode: no exports" if staging else ""),
                data={"policy": policy, "reason": reason, "staging_mode": staging})
        log.info("cycle started", extra={"policy": policy, "reason": reason,
                                         "staging_mode": staging})
        engine = RunContext(self.store, self.workspace)
        # Each run's lock names the cycle as its holder's command.
        command = f"{policy} sync cycle ({reason}): {process_command()}"
        try:
            steps = plan_cycle(engine, policy, staging=staging)
            for i, step in enumerate(steps):
                if self.should_stop() or lock.stop_requested():
                    result.skipped = steps[i:]
                    result.message = (f"stopped before {step.profile.value} on "
                                      f"{step.connector}; the rest waits for the next cycle")
                    break
                if not lock.held():
                    # Silent past the lease (a paused host): another cycle took over.
                    result.skipped = steps[i:]
                    result.message = ("the cycle lock was taken over by another process; "
                                      "the rest is left to its cycle")
                    break
                lock.update_step({"connector": step.connector, "profile": step.profile.value,
                                  "index": i + 1, "of": len(steps)})
                result.runs.append(self._run_step(engine, step, command))
        except Exception as exc:
            # A cycle that cannot go on (a connector that cannot even be built) still ends
            # with its event and state, then the error goes to the caller.
            result.status, result.message = CycleStatus.FAILED, f"{type(exc).__name__}: {exc}"
            self._finish(result, policy)
            raise
        finally:
            engine.close()
        self._finish(result, policy)
        return result

    def _run_step(self, engine: RunContext, step: CycleStep, command: str) -> RunResult:
        started = time.monotonic()
        # A run another process holds (an `idsync run` by hand) is refused, recorded as
        # no-start-connector-busy, and the cycle goes on; the next cycle picks it up.
        run = run_profile(engine, step.connector, step.profile, command=command)
        log.info("run finished", extra={
            "connector": step.connector, "profile": step.profile.value, "status": run.status,
            "run_id": run.run_id, "seconds": round(time.monotonic() - started, 3),
            "counters": run.counters, "traffic": run.traffic})
        if self.on_run is not None:
            self.on_run(run)
        return run

    def _finish(self, result: CycleResult, policy: str) -> None:
        result.ended_at = iso(now())
        if result.status is CycleStatus.FAILED:
            pass
        elif result.skipped:
            result.status = CycleStatus.STOPPED
        elif any(not r.ok for r in result.runs):
            result.status = CycleStatus.COMPLETED_WITH_STOPPED_RUNS
        elif any(r.status not in (RunStatus.SUCCESS, RunStatus.COMPLETED_WARNINGS)
                 for r in result.runs):
            result.status = CycleStatus.COMPLETED_WITH_ERRORS
        elif any(r.status != RunStatus.SUCCESS for r in result.runs):
            # Informational errors only (dn-attributes-failure): nothing to alert on.
            result.status = CycleStatus.COMPLETED_WITH_WARNINGS
        else:
            result.status = CycleStatus.SUCCESS
        with self.store.transaction():
            settings = load_settings(self.store)
            state = load_state(self.store)
            state.last_cycle_end, state.last_cycle_status = result.ended_at, result.status
            if result.status not in (CycleStatus.STOPPED, CycleStatus.FAILED):
                state.last_successful_cycle_end = result.ended_at
                if policy == "initial" and settings.next_cycle_policy == "initial":
                    # The initial cycle ran through: the next ones are delta cycles.
                    settings.next_cycle_policy = "delta"
                    save_settings(self.store, settings)
            state.next_cycle_start = iso(next_cycle_start(settings, state))
            save_state(self.store, state)
            self.store.events.add(
                int(EventId.CYCLE_FINISHED),
                "information" if result.status in (CycleStatus.SUCCESS,
                                                  CycleStatus.COMPLETED_WITH_WARNINGS)
                else "warning",
                f"{policy} sync cycle ended: {result.status}"
                + (f" ({result.message})" if result.message else ""),
                data={"policy": policy, "status": result.status,
                      "runs": [[r.connector, r.profile, r.status] for r in result.runs]})
            if settings.maintenance_enabled:
                # Maintenance purges the operations log (run history) past its interval.
                purge_run_history(self.store, settings.purge_run_history_interval)
        log.info("cycle ended", extra={"policy": policy, "status": result.status,
                                       "runs": len(result.runs)})


def purge_run_history(store: Store, interval: int, *, force: bool = False) -> int:
    """Delete run history older than the purge interval; runs at most once an hour unless
    forced."""
    state = load_state(store)
    last = parse_iso(state.last_purge)
    moment = now()
    if not force and last is not None and moment - last < timedelta(hours=1):
        return 0
    with store.transaction():
        removed = store.runs.purge(iso(moment - timedelta(seconds=interval)))
        state = load_state(store)
        state.last_purge = iso(moment)
        save_state(store, state)
        if removed:
            store.events.add(int(EventId.RUN_HISTORY_PURGED), "information",
                             f"{removed} run(s) older than {interval // 3600} h purged from "
                             "the run history")
    return removed
