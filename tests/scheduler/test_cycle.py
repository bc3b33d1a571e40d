"""Sync cycles in process on the file connector: order, policies, overrides, staging mode,
stop, the lock, run history purge and cycle events."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.harness.workspace import Workspace, user_entry

from idsync.engine.core import RunContext
from idsync.engine.run_profiles import run_profile
from idsync.events import EventId
from idsync.locks import CYCLE_LOCK
from idsync.model import RunProfile
from idsync.scheduler.cycle import CycleRunner, plan_cycle, purge_run_history
from idsync.scheduler.lock import CycleLock, CycleRunning, request_stop
from idsync.scheduler.settings import load_settings, load_state, save_state, set_staging_mode
from idsync.store.database import utcnow


def steps(result) -> list[tuple[str, str]]:
    return [(r.connector, r.profile) for r in result.runs]


def cycle(ws: Workspace, policy: str | None = None, **kwargs):
    return CycleRunner(ws.store, str(ws.path), **kwargs).run(policy)


def test_plan_orders_on_prem_then_cloud_and_exports_cloud_first(small_workspace: Workspace):
    ws = small_workspace
    # A cloud connector is only planned here, never contacted.
    ws.store.connectors.add("aad", "cloud", {"url": "http://127.0.0.1:9", "tenant_id": "t"},
                            {"token": "x"})
    engine = RunContext(ws.store, str(ws.path))
    try:
        plan = [(s.connector, s.profile.value)
                for s in plan_cycle(engine, "initial", staging=False)]
        staged = plan_cycle(engine, "initial", staging=True)
    finally:
        engine.close()
    assert plan == [
        ("source", "Full Import"), ("target", "Full Import"), ("aad", "Full Import"),
        ("source", "Full Synchronization"), ("target", "Full Synchronization"),
        ("aad", "Full Synchronization"),
        ("aad", "Export"), ("source", "Export"), ("target", "Export")]
    assert all(s.profile is not RunProfile.EXPORT for s in staged)


def test_initial_then_delta_cycle_and_overrides_honoured_then_cleared(
        small_workspace: Workspace):
    ws = small_workspace
    first = cycle(ws)
    assert first.policy == "initial" and first.status == "success", first.to_dict()
    assert ("target", "Export") in steps(first)
    assert load_settings(ws.store).next_cycle_policy == "delta"
    assert len(ws.target_entries()) == 3 + 3  # skeleton + ann, bob, staff

    second = cycle(ws)
    assert second.policy == "delta"
    assert ("source", "Delta Import") in steps(second)
    assert ("source", "Delta Synchronization") in steps(second)

    # The administrator forces a full import and a full sync on source only.
    source = ws.store.connectors.get("source")
    ws.store.connectors.set_required(source.id, full_import=True, full_sync=True)
    third = cycle(ws)
    assert ("source", "Full Import") in steps(third)
    assert ("source", "Full Synchronization") in steps(third)
    assert ("target", "Delta Synchronization") in steps(third)
    after = ws.store.connectors.get("source")
    assert not after.full_import_required and not after.full_sync_required
    fourth = cycle(ws)
    assert ("source", "Delta Import") in steps(fourth)


def test_suppressed_full_sync_is_not_run(small_workspace: Workspace):
    ws = small_workspace
    cycle(ws)
    # A rule change marks full sync required; the administrator suppresses it.
    target = ws.store.connectors.get("target")
    ws.store.connectors.set_required(target.id, full_sync=True)
    ws.store.connectors.set_required(target.id, full_sync=False)
    result = cycle(ws)
    assert ("target", "Delta Synchronization") in steps(result)


def test_staging_mode_imports_and_syncs_but_never_exports(small_workspace: Workspace):
    ws = small_workspace
    set_staging_mode(ws.store, True)
    before = ws.target_file.read_bytes()
    result = cycle(ws)
    assert result.status == "success"
    assert all(r.profile != "Export" for r in result.runs)
    assert ws.pending_exports() == 3
    # An Export run by hand is refused too.
    engine = RunContext(ws.store, str(ws.path))
    try:
        run = run_profile(engine, "target", RunProfile.EXPORT)
    finally:
        engine.close()
    assert run.status == "stopped-staging-mode"
    assert ws.target_file.read_bytes() == before
    set_staging_mode(ws.store, False)
    assert ("target", "Export") in steps(cycle(ws))
    assert len(ws.target_entries()) == 6


def test_stop_moves_the_rest_of_the_cycle_to_the_next_one(small_workspace: Workspace):
    ws = small_workspace

    def stop_after_first(_run) -> None:
        assert request_stop(ws.store) is not None

    stopped = cycle(ws, on_run=stop_after_first)
    assert stopped.status == "stopped"
    assert len(stopped.runs) == 1 and stopped.skipped
    # Not finished: the next cycle is still an initial one, and it completes the work.
    assert load_settings(ws.store).next_cycle_policy == "initial"
    assert CycleLock(ws.store).holder() is None
    done = cycle(ws)
    assert done.status == "success" and done.policy == "initial"
    assert len(ws.target_entries()) == 6
    assert request_stop(ws.store) is None  # harmless when idle


def test_one_cycle_at_a_time(small_workspace: Workspace):
    ws = small_workspace
    lock = CycleLock(ws.store)
    lock.acquire("delta", "test")  # held by this (live) process
    with pytest.raises(CycleRunning, match="already running"):
        cycle(ws)
    lock.release()
    assert cycle(ws).status == "success"


def test_a_dead_owners_lock_is_recovered(small_workspace: Workspace):
    ws = small_workspace
    # A real process takes the lock and dies without releasing it.
    code = ("import os, sys; from idsync.store import Store; "
            "from idsync.scheduler.lock import CycleLock; "
            "CycleLock(Store.open(sys.argv[1])).acquire('delta', 'crash test'); os._exit(9)")
    proc = subprocess.run([sys.executable, "-c", code, str(ws.path)], timeout=60)
    assert proc.returncode == 9
    stale = ws.store.locks.get(CYCLE_LOCK)
    assert stale and stale.pid != os.getpid()
    assert CycleLock(ws.store).holder() is None
    assert cycle(ws).status == "success"
    recovered = ws.store.events.list(event_id=int(EventId.CYCLE_LOCK_RECOVERED))
    assert len(recovered) == 1


def test_cycle_events_and_state(small_workspace: Workspace):
    ws = small_workspace
    result = cycle(ws)
    started = ws.store.events.list(event_id=int(EventId.CYCLE_STARTED))
    ended = ws.store.events.list(event_id=int(EventId.CYCLE_FINISHED))
    assert len(started) == 1 and len(ended) == 1
    assert ended[0].data["status"] == "success"
    state = load_state(ws.store)
    assert state.last_cycle_start == result.started_at
    assert state.last_cycle_status == "success"
    assert state.next_cycle_start > state.last_cycle_start


def test_run_history_purge(small_workspace: Workspace, tmp_path: Path):
    ws = small_workspace
    cycle(ws)
    runs = ws.store.runs.list(limit=0)
    old = runs[-1].id
    with ws.store.transaction():
        ws.store.db.execute("UPDATE runs SET started_at = '2020-01-01T00:00:00.000+00:00' "
                            "WHERE id = ?", (old,))
    assert purge_run_history(ws.store, 7 * 86400, force=True) == 1
    assert ws.store.runs.get(old) is None
    assert len(ws.store.runs.list(limit=0)) == len(runs) - 1
    assert ws.store.events.list(event_id=int(EventId.RUN_HISTORY_PURGED))
    assert utcnow() > load_state(ws.store).last_purge[:10]


def test_delta_cycle_carries_a_change(small_workspace: Workspace):
    ws = small_workspace
    cycle(ws)
    ws.change_source("dn: uid=ann,ou=Users,dc=contoso,dc=com\nchangetype: modify\n"
                     "replace: mail\nmail: ann.new@contoso.com\n-\n")
    ws.change_source("dn: uid=carl,ou=Users,dc=contoso,dc=com\nchangetype: add\n"
                     + "\n".join(user_entry("carl").splitlines()[1:]) + "\n")
    result = cycle(ws)
    assert result.status == "success", result.to_dict()
    entries = ws.target_entries()
    assert entries["uid=ann,ou=people,dc=fabrikam,dc=com"]["mail"] == ["ann.new@contoso.com"]
    assert "uid=carl,ou=people,dc=fabrikam,dc=com" in entries


def test_a_cycle_that_cannot_start_its_runs_still_ends_with_its_event(
        small_workspace: Workspace):
    ws = small_workspace
    # Settings the file connector refuses: the cycle fails while planning.
    with ws.store.transaction():
        ws.store.db.execute("UPDATE connectors SET settings = '{}', watermark = '{}' "
                            "WHERE name = 'target'")
    with pytest.raises(Exception, match="path"):
        cycle(ws)
    ended = ws.store.events.list(event_id=int(EventId.CYCLE_FINISHED))
    assert ended and ended[0].data["status"] == "failed"
    assert load_state(ws.store).last_cycle_status == "failed"
    assert CycleLock(ws.store).holder() is None


def test_seven_days_without_a_cycle_require_a_full_sync(small_workspace: Workspace):
    ws = small_workspace
    cycle(ws)
    assert ("source", "Delta Synchronization") in steps(cycle(ws))
    with ws.store.transaction():
        state = load_state(ws.store)
        state.last_successful_cycle_end = "2020-01-01T00:00:00.000+00:00"
        save_state(ws.store, state)
    late = cycle(ws)
    assert late.policy == "delta"
    assert ("source", "Full Synchronization") in steps(late)
    assert ("target", "Full Synchronization") in steps(late)
    assert ("source", "Delta Synchronization") in steps(cycle(ws))
