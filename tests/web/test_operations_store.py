"""The Operations tab's logic without a browser: the ranked, filtered, keyset-paged run
history (SQL in the store, on both stores), the objects behind a run's counters, a run's
progress arithmetic, and the service requests' refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.harness.workspace import Workspace

from idsync.administration.audit import Via, acting_as
from idsync.administration.cycle_control import start_cycle, start_run, stop_cycle
from idsync.errors import ConfigurationError
from idsync.model import RunProfile
from idsync.scheduler.lock import CycleLock, CycleRunning, owner_record
from idsync.scheduler.service import REQUEST_KEY, RUN_REQUEST_KEY, take_run_request
from idsync.store.runs import RunFilter, RunOutcome, RunRecord, outcome_of
from idsync.web.pages.progress import duration, progress_of
from idsync.web.pages.runs import error_stage

STATUSES = ["success", "completed-export-errors", "stopped-connectivity", "completed-warnings",
            "success", "stopped-error-limit", "completed-sync-errors", "no-start-connector-busy"]


def _history(ws: Workspace) -> list[int]:
    store = ws.store
    source = store.connectors.get("source").id
    target = store.connectors.get("target").id
    ids = []
    for i, status in enumerate(STATUSES):
        with store.transaction():
            run_id = store.runs.start(source if i % 2 == 0 else target, "Export")
            store.runs.finish(run_id, status, {}, None)
        ids.append(run_id)
    return ids


def test_the_history_is_ranked_stopped_errors_warnings_success_newest_first(small_workspace):
    ids = _history(small_workspace)
    runs = small_workspace.store.runs.page(RunFilter(), limit=50)
    assert [r.status for r in runs] == [
        "no-start-connector-busy", "stopped-error-limit", "stopped-connectivity",
        "completed-sync-errors", "completed-export-errors", "completed-warnings",
        "success", "success"]
    assert [r.id for r in runs][-2:] == [ids[4], ids[0]]  # newest first within a rank
    assert [outcome_of(r.status) for r in runs] == sorted(outcome_of(r.status) for r in runs)


def test_keyset_pages_walk_the_ranked_history_without_gaps(small_workspace):
    _history(small_workspace)
    store = small_workspace.store
    whole = [r.id for r in store.runs.page(RunFilter(), limit=50)]
    walked: list[int] = []
    after = None
    while page := store.runs.page(RunFilter(), after=after, limit=3):
        walked += [r.id for r in page]
        after = (int(page[-1].outcome), page[-1].id)
    assert walked == whole


def test_filters_by_connector_outcome_status_and_time(small_workspace):
    _history(small_workspace)
    store = small_workspace.store
    source = store.connectors.get("source").id
    assert {r.connector for r in store.runs.page(RunFilter(connector_id=source))} == {"source"}
    stopped = store.runs.page(RunFilter(outcome=RunOutcome.STOPPED))
    assert {r.status for r in stopped} == {"stopped-connectivity", "stopped-error-limit",
                                           "no-start-connector-busy"}
    assert [r.status for r in store.runs.page(RunFilter(status="completed-warnings"))] == [
        "completed-warnings"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="minutes")
    assert store.runs.page(RunFilter(since=future)) == []
    assert len(store.runs.page(RunFilter(until=future))) == len(STATUSES)


def test_counters_trace_to_their_objects(small_workspace):
    ws = small_workspace
    runs = ws.initial_cycle()
    store = ws.store
    full_import = next(r for r in runs if r.connector == "source"
                       and r.profile == "Full Import")
    objects = store.runs.objects_page(full_import.run_id, "adds", limit=50)
    assert len(objects) == full_import.counters["adds"] == 3
    assert {o.dn.split(",")[0] for o in objects if o.dn} == {"uid=ann", "uid=bob", "cn=staff"}
    sync = next(r for r in runs if r.connector == "source"
                and r.profile == "Full Synchronization")
    assert store.runs.traced(sync.run_id, sync.counters) == set(sync.counters)
    updates = store.runs.objects_page(sync.run_id, "mv-updates")
    assert updates and all(o.mv_id is not None and o.cs_id is None for o in updates)
    first = store.runs.objects_page(sync.run_id, "projections", limit=2)
    rest = store.runs.objects_page(sync.run_id, "projections", after=first[-1].id)
    assert len(first) + len(rest) == sync.counters["projections"]
    record = store.runs.get(sync.run_id)
    assert record is not None and record.progress_done == record.progress_total == 6


def test_errors_page_with_first_seen_and_retries(small_workspace):
    store = small_workspace.store
    target = store.connectors.get("target")
    with store.transaction():
        run_id = store.runs.start(target.id, "Export")
        for i in range(5):
            store.runs.add_error(run_id, None, f"cn=x{i}", "export", "no-result", f"d{i}")
        store.runs.finish(run_id, "completed-export-errors", {"export-errors": 5}, None)
    first = store.runs.errors_page(run_id, limit=2)
    assert [e.dn for e in first] == ["cn=x0", "cn=x1"]
    assert [e.dn for e in store.runs.errors_page(run_id, after=first[-1].id)] == [
        "cn=x2", "cn=x3", "cn=x4"]
    assert [e.dn for e in store.runs.iter_errors(run_id, chunk=2)] == [
        f"cn=x{i}" for i in range(5)]
    assert store.runs.errors_page(run_id, stage="import") == []


def _record(done: int | None, total: int | None, seconds: float,
            counters: dict | None = None) -> tuple[RunRecord, datetime]:
    start = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    run = RunRecord(1, "source", "Full Synchronization", "in-progress",
                    start.isoformat(timespec="milliseconds"), None, counters or {}, None,
                    progress_done=done, progress_total=total)
    return run, start + timedelta(seconds=seconds)


def test_progress_rate_and_time_left():
    p = progress_of(*_record(300, 1200, 10))
    assert (p.done, p.total, p.rate, p.eta_seconds, p.percent) == (300, 1200, 30.0, 30.0, 25)
    imported = progress_of(*_record(500, None, 5))  # an import: no total known
    assert imported.rate == 100.0 and imported.eta_seconds is None and imported.percent is None
    assert progress_of(*_record(0, 10, 0.5)).rate is None  # nothing to measure yet
    assert progress_of(*_record(12, 10, 4)).percent == 100  # a refused add sent twice
    assert progress_of(*_record(None, None, 4, {"adds": 8})).done == 8  # before 0013
    assert duration(3725) == "1 h 02 min" and duration(65) == "1 min 05 s"
    assert duration(9.6) == "10 s"


def test_error_counters_link_to_their_stage():
    assert error_stage("sync-errors") == "sync"
    assert error_stage("export-informational") == "export"
    assert error_stage("export-adds-staged") is None


def _as_service(ws: Workspace) -> None:
    """This test process registered as the workspace's running service."""
    with ws.store.transaction():
        ws.store.settings.set("service", owner_record())


def test_requests_are_refused_clearly_and_audited_when_made(small_workspace):
    ws = small_workspace
    store = ws.store
    with pytest.raises(ConfigurationError, match="idsync serve is not running"):
        start_cycle(store, "delta")
    _as_service(ws)
    with pytest.raises(ConfigurationError, match="unknown cycle policy"):
        start_cycle(store, "sideways")
    with pytest.raises(ConfigurationError, match="no sync cycle is running"):
        stop_cycle(store)
    with acting_as("ann", Via.UI):
        start_cycle(store, "delta")
    assert store.settings.get(REQUEST_KEY)["policy"] == "delta"
    with pytest.raises(CycleRunning, match="already requested"):
        start_cycle(store, "initial")
    with pytest.raises(CycleRunning, match="cycle is running or about to start"):
        start_run(store, "source", "Full Import")
    with store.transaction():
        store.settings.set(REQUEST_KEY, None)
    with pytest.raises(ConfigurationError, match="unknown run profile"):
        start_run(store, "source", "Half Import")
    with pytest.raises(ConfigurationError, match="no connector named"):
        start_run(store, "nowhere", "Full Import")
    with acting_as("ann", Via.UI):
        assert start_run(store, "source", "fi") is RunProfile.FULL_IMPORT
    with pytest.raises(ConfigurationError, match="already requested"):
        start_run(store, "target", "Export")
    assert take_run_request(store)["connector"] == "source"
    assert store.settings.get(RUN_REQUEST_KEY) is None
    lock = CycleLock(store)
    lock.acquire("delta", "test")
    try:
        with acting_as("ann", Via.UI):
            stop_cycle(store)
        with pytest.raises(CycleRunning, match="already running"):
            start_cycle(store, "delta")
    finally:
        lock.release()
    entries = [e for e in store.audit.list(limit=20) if e.admin == "ann"]
    assert [(e.admin, e.action) for e in entries] == [
        ("ann", "cycle.stop"), ("ann", "run.start"), ("ann", "cycle.start")]
