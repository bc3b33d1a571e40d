"""The import run's DN caches (DNResolver.key_of, DNResolver.dn_ids) only ever answer what the
store would: an importer kept over many batches, with renames, deletes, re-adds and
placeholders taken over between them, stages what a fresh importer per batch (nothing
remembered) stages."""

from __future__ import annotations

from pathlib import Path

from test_import_batches import (
    Stager,
    delete,
    empty_workspace,
    full,
    gdn,
    modify,
    random_batches,
    udn,
)

from idsync.engine.importing import Importer


def test_a_run_long_importer_stages_what_a_fresh_one_per_batch_does(tmp_path: Path) -> None:
    for seed in range(8, 24):
        batches = random_batches(seed)
        kept, fresh = (Stager(empty_workspace(tmp_path / f"{side}{seed}"))
                       for side in ("kept", "fresh"))
        for batch in batches:
            kept.stage(batch)
            # Nothing carried over from the batches before: every DN asked of the store.
            fresh.importer = Importer(fresh.engine, fresh.record, fresh.recorder)
            fresh.stage(batch)
        assert kept.snapshot() == fresh.snapshot(), f"seed {seed}"
        assert kept.recorder.counters == fresh.recorder.counters, f"seed {seed}"
        for s in (kept, fresh):
            s.close()
            s.ws.store.close()


def test_a_dn_an_object_left_or_was_removed_from_is_asked_of_the_store_again(
        tmp_path: Path) -> None:
    s = Stager(empty_workspace(tmp_path))
    s.stage([full("A", udn("a"), uid=["a"]), full("B", udn("b"), uid=["b"]),
             full("G", gdn("g"), kind="group", cn=["g"], member=[udn("a"), udn("b")])])
    a, b = s.cs_at(udn("a")).id, s.cs_at(udn("b")).id
    # a moves away (its old DN was resolved, so remembered); b, never synchronized, goes
    s.stage([modify("A", udn("a2"))])
    s.stage([delete("B", udn("b"))])
    s.stage([full("H", gdn("h"), kind="group", cn=["h"], member=[udn("a"), udn("b")])])
    h = s.cs_at(gdn("h")).id
    members = s.store.cs.refs_of([h])[h]["member"]
    # a's old DN names nothing now: a placeholder, not a; b's DN too (g's value naming it
    # moved to a placeholder there when b's delete was staged: the file connector's
    # references are names, idsync.engine.reference_integrity)
    assert a not in members and b not in members
    old_a, old_b = s.cs_at(udn("a")), s.cs_at(udn("b"))
    assert old_a.placeholder and old_a.id in members
    assert old_b.placeholder and old_b.id in members
    s.close()
    s.ws.store.close()
