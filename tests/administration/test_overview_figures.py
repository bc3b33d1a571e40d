"""The overview's figures from the store (administration/overview.py over
store/run_statistics.py, store/space_statistics.py and ObjectErrorRepository.top_codes), on
whichever store the run uses: the last runs of each series and no more, the window that bounds
the query, counts by state and by export kind, error codes most frequent first."""

from __future__ import annotations

from idsync.administration.overview import overview
from idsync.error_codes import Stage
from idsync.model import ExportKind


def test_recent_runs_keep_the_last_of_each_series_within_the_window(small_workspace):
    ws = small_workspace
    ws.initial_cycle()
    ws.delta_cycle()
    store = ws.store
    every = store.runs.list(limit=0)
    recent = store.run_stats.recent(per_series=1)
    series = {(r.connector, r.profile) for r in every}
    assert len(recent) == len(series)
    newest = {}
    for r in every:  # newest first
        newest.setdefault((r.connector, r.profile), r.id)
    assert {(p.connector, p.profile): p.id for p in recent} == newest
    # the window: only the last two runs by id are looked at
    last_two = store.run_stats.recent(per_series=5, window=2)
    assert sorted(p.id for p in last_two) == sorted(r.id for r in every[:2])
    assert store.run_stats.recent(since="2999-01-01") == []
    figures = overview(store, runs_per_series=50)
    source = next(c for c in figures.runs if c.connector == "source")
    assert [f.run_id for f in source.by_profile["Full Import"]] == sorted(
        r.id for r in every if (r.connector, r.profile) == ("source", "Full Import"))


def test_counts_by_state_kind_and_error_code(small_workspace):
    ws = small_workspace
    ws.initial_cycle()
    store = ws.store
    target = store.connectors.get("target")
    ids = store.cs_search.ids_page(target.id, 0, 3)
    with store.transaction():
        for cs_id in ids:
            store.errors.record(cs_id, target.id, Stage.EXPORT, "no-such-object", "x", None)
        store.errors.record(ids[0], target.id, Stage.EXPORT, "constraint-violation", "x", None)
        store.errors.record(ids[0], target.id, Stage.SYNC, "sync-rule-expression-failed", "x",
                            None)
    spaces = {s.connector: s for s in store.space_stats.by_connector()}
    assert spaces["target"].objects == 3 and spaces["source"].objects == 3
    assert spaces["target"].in_error == 3  # objects, not errors
    assert spaces["target"].exports_by_kind == dict.fromkeys(ExportKind, 0)
    assert spaces["source"].pending_import == 0 and spaces["source"].placeholders == 0
    codes = store.errors.top_codes(Stage.EXPORT.value)
    assert [(c.connector, c.code, c.objects) for c in codes] == [
        ("target", "no-such-object", 3), ("target", "constraint-violation", 1)]
    assert len(store.errors.top_codes(Stage.EXPORT.value, limit=1)) == 1
