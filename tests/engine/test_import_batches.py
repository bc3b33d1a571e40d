"""Set-based staging of import batches (engine/importing.py): one batch mixing adds, updates,
deletes, renames, repeated objects and placeholders ends in the connector space that staging
the same records one by one gives, and in the rows the reference model asks for."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from tests.harness.workspace import SOURCE_BASE, Workspace, ldif, make_workspace

from idsync.connectors.base import ImportBatch, ImportKind, ImportRecord
from idsync.dn import normalize_dn
from idsync.engine.importing import Importer
from idsync.engine.read_ahead import read_ahead
from idsync.engine.recorder import RunRecorder
from idsync.errors import ConnectivityError
from idsync.model import RunProfile


def udn(uid: str) -> str:
    return f"uid={uid},ou=Users,{SOURCE_BASE}"


def gdn(cn: str) -> str:
    return f"cn={cn},ou=Groups,{SOURCE_BASE}"


def full(anchor: str, dn: str, kind: str = "user", **attrs: list[Any]) -> ImportRecord:
    object_type = "inetOrgPerson" if kind == "user" else "groupOfNames"
    return ImportRecord(ImportKind.FULL, anchor, dn, object_type, dict(attrs))


def modify(anchor: str | None, dn: str, *, attributes: dict[str, list[Any]] | None = None,
           adds: dict[str, list[Any]] | None = None,
           removes: dict[str, list[Any]] | None = None) -> ImportRecord:
    return ImportRecord(ImportKind.MODIFY, anchor, dn, None, attributes or {}, adds or {},
                        removes or {})


def delete(anchor: str, dn: str) -> ImportRecord:
    return ImportRecord(ImportKind.DELETE, anchor, dn)


class Stager:
    """Stages hand-made batches into the ``source`` connector space of a workspace."""

    def __init__(self, ws: Workspace, profile: RunProfile = RunProfile.DELTA_IMPORT) -> None:
        self.ws = ws
        self.store = ws.store
        self.record = self.store.connectors.get("source")
        self.engine = ws.engine()
        self.recorder = RunRecorder(self.store, self.record, profile)
        self.importer = Importer(self.engine, self.record, self.recorder)

    def stage(self, records: list[ImportRecord]) -> list[int]:
        with self.store.transaction():
            return self.importer.stage(records)

    def close(self) -> None:
        self.engine.close()

    def cs_at(self, dn: str) -> Any:
        found = self.store.cs.search(self.record.id, dn=dn, placeholders=True)
        assert len(found) <= 1, found
        return found[0] if found else None

    def snapshot(self) -> dict[str, Any]:
        """The connector space by DN (ids differ between workspaces): objects and refs."""
        db = self.store.db
        objects = {}
        dn_of = {}
        for cs in self.store.cs.search(self.record.id, placeholders=True):
            key = normalize_dn(cs.dn)
            dn_of[cs.id] = key
            objects[key] = (cs.anchor, cs.object_type, cs.placeholder, cs.pending_import,
                            {k: sorted(map(str, v)) for k, v in cs.attributes.items()})
        refs = sorted((dn_of[h], attr, dn_of[t]) for h, attr, t in db.query(
            "SELECT cs_id, attr, target_id FROM cs_refs"))
        # A placeholder nothing references is left over from an order of events (an object
        # deleted while referenced, then the reference dropped): staged record by record it
        # remains, staged as a batch the reference is dropped first and the object goes.
        targets = {t for _, _, t in refs}
        objects = {k: v for k, v in objects.items() if not v[2] or k in targets}
        return {"objects": objects, "refs": refs}


def empty_workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path, ldif(), builtin=False)


def test_one_batch_mixing_every_kind_of_change(tmp_path: Path) -> None:
    ws = empty_workspace(tmp_path)
    s = Stager(ws)
    s.stage([
        # a names a manager and the group names a member that are not imported yet
        full("A", udn("a"), uid=["a"], manager=[udn("y")]),
        full("B", udn("b"), uid=["b"], title=["old"]),
        full("C", udn("c"), uid=["c"]),
        full("D", udn("d"), uid=["d"]),
        full("E", udn("e"), uid=["e"]),
        full("G", gdn("g"), kind="group", cn=["g"],
             member=[udn("a"), udn("b"), udn("x")]),
    ])
    ids = {u: s.cs_at(udn(u)).id for u in "abcde"}
    g = s.cs_at(gdn("g")).id
    x_placeholder, y_placeholder = s.cs_at(udn("x")), s.cs_at(udn("y"))
    assert x_placeholder.placeholder and y_placeholder.placeholder
    # everything but d has been synchronized
    with ws.store.transaction():
        ws.store.cs.clear_pending_import([ids[u] for u in "abce"] + [g])

    s.recorder.counters.clear()
    s.stage([
        full("X", udn("x"), uid=["x"]),                         # a placeholder becomes real
        modify("B", udn("b"), attributes={"title": ["new"]}),   # an update
        modify("C", udn("y")),                                  # a rename onto a placeholder
        delete("D", udn("d")),                                  # never synchronized: removed
        delete("E", udn("e")),                                  # synchronized: staged delete
        # a member added before its entry arrives in the same batch, and one removed
        modify("G", gdn("g"), adds={"member": [udn("z")]}, removes={"member": [udn("b")]}),
        full("Z", udn("z"), uid=["z"], manager=[udn("c")]),     # c under its old DN: missing
        modify("B", udn("b"), adds={"mail": ["b@contoso.com"]}),  # b again in the same batch
    ])
    cs_x, cs_c, cs_z, cs_b = (s.cs_at(udn(u)) for u in "xyzb")
    # the placeholder's row became the object, so the group's reference needed no rewrite
    assert cs_x.id == x_placeholder.id and not cs_x.placeholder
    assert cs_x.anchor == "X" and cs_x.pending_import == "add"
    # c was renamed onto y's placeholder: the placeholder is gone, a's manager is c now
    assert cs_c.id == ids["c"] and cs_c.anchor == "C" and cs_c.pending_import == "update"
    assert ws.store.cs.get(y_placeholder.id) is None
    assert ws.store.cs.refs_of([ids["a"]])[ids["a"]]["manager"] == {ids["c"]}
    assert ws.store.cs.get(ids["a"]).pending_import == "update"  # a holder: synchronized again
    # d was never synchronized and nothing names it: gone; e waits for the sync as a delete
    assert ws.store.cs.get(ids["d"]) is None
    assert ws.store.cs.get(ids["e"]).pending_import == "delete"
    # both changes of b, one after the other
    assert cs_b.attributes["title"] == ["new"] and cs_b.attributes["mail"] == ["b@contoso.com"]
    assert cs_b.pending_import == "update"
    # the group's members: z resolved to the entry of the same batch, b removed
    assert ws.store.cs.refs_of([g])[g]["member"] == {ids["a"], cs_x.id, cs_z.id}
    assert ws.store.cs.get(g).pending_import == "update"
    assert cs_z.pending_import == "add"
    # z's manager named c's old DN, which nothing holds any more: a placeholder
    manager = ws.store.cs.refs_of([cs_z.id])[cs_z.id]["manager"]
    (placeholder,) = manager
    assert ws.store.cs.get(placeholder).placeholder
    assert ws.store.cs.get(placeholder).dn == udn("c")
    assert dict(s.recorder.counters) == {"adds": 2, "updates": 4, "renames": 1, "deletes": 2}
    s.close()
    ws.store.close()


def test_full_import_batch_sees_every_object_and_keeps_forward_references(
        tmp_path: Path) -> None:
    ws = empty_workspace(tmp_path)
    s = Stager(ws, RunProfile.FULL_IMPORT)
    records = [full(f"U{i}", udn(f"u{i}"), uid=[f"u{i}"], manager=[udn(f"u{i + 1}")])
               for i in range(5)]
    records.append(full("U5", udn("u5"), uid=["u5"]))
    with ws.store.transaction():
        touched = s.importer.stage(records, seen_run=s.recorder.run_id)
    assert len(touched) == 6
    # forward references within the batch resolve to the entries: no placeholder was made
    assert not ws.store.cs.search(s.record.id, placeholders=True)[0].placeholder
    assert ws.store.db.scalar("SELECT count(*) FROM cs_objects WHERE placeholder = 1") == 0
    assert ws.store.db.scalar("SELECT count(*) FROM cs_objects WHERE seen_run = ?",
                              (s.recorder.run_id,)) == 6
    assert ws.store.db.scalar("SELECT count(*) FROM cs_refs") == 5
    # the same records again change nothing and are still seen
    s.recorder.counters.clear()
    with ws.store.transaction():
        s.importer.stage(records, seen_run=s.recorder.run_id + 1000)
    assert dict(s.recorder.counters) == {"no-change": 6}
    assert ws.store.db.scalar("SELECT count(*) FROM cs_objects WHERE seen_run = ?",
                              (s.recorder.run_id + 1000,)) == 6
    s.close()
    ws.store.close()


def random_batches(seed: int) -> list[list[ImportRecord]]:
    """Batches of full and change records over a small set of users and groups, with
    forward references, renames, deletes, re-adds and repeated objects."""
    rnd = random.Random(seed)
    users = [f"u{i}" for i in range(12)]
    groups = [f"g{i}" for i in range(3)]
    name = {u: u for u in users}  # current uid of each user (renames change it)
    alive: set[str] = set()
    batches = []
    for _ in range(4):
        batch = []
        for _ in range(25):
            roll = rnd.random()
            u = rnd.choice(users)
            if roll < 0.35 or u not in alive:
                if u not in alive or rnd.random() < 0.5:
                    attrs: dict[str, list[Any]] = {"uid": [name[u]],
                                                   "title": [rnd.choice("xyz")]}
                    if rnd.random() < 0.6:
                        attrs["manager"] = [udn(name[rnd.choice(users)])]
                    batch.append(full(u, udn(name[u]), **attrs))
                    alive.add(u)
                else:
                    g = rnd.choice(groups)
                    members = [udn(name[m]) for m in rnd.sample(users, rnd.randint(0, 5))]
                    batch.append(full(g, gdn(g), kind="group", cn=[g], member=members))
            elif roll < 0.55:
                batch.append(modify(u, udn(name[u]), attributes={"title": [rnd.choice("pq")]},
                                    adds={"description": [f"d{rnd.randint(0, 2)}"]}))
            elif roll < 0.7:
                new = f"{u}r{rnd.randint(0, 99)}"
                batch.append(modify(u, udn(new)))
                name[u] = new
            elif roll < 0.85:
                g = rnd.choice(groups)
                member = udn(name[rnd.choice(users)])
                change = {"member": [member]}
                batch.append(modify(g, gdn(g), adds=change) if rnd.random() < 0.6
                             else modify(g, gdn(g), removes=change))
            else:
                batch.append(delete(u, udn(name[u])))
                alive.discard(u)
        batches.append(batch)
    return batches


def test_batches_stage_as_their_records_one_by_one(tmp_path: Path) -> None:
    for seed in range(8):
        batches = random_batches(seed)
        together = empty_workspace(tmp_path / f"together{seed}")
        one_by_one = empty_workspace(tmp_path / f"one{seed}")
        a, b = Stager(together), Stager(one_by_one)
        for batch in batches:
            # group changes before the group exists are per-object errors on both sides
            a.stage(batch)
            for record in batch:
                b.stage([record])
        assert a.snapshot() == b.snapshot(), f"seed {seed}"
        assert a.recorder.counters == b.recorder.counters, f"seed {seed}"
        for s in (a, b):
            s.close()
            s.ws.store.close()


def test_read_ahead_keeps_order_raises_the_connectors_error_and_closes_it() -> None:
    closed: list[str] = []

    def batches(fail_at: int | None) -> Any:
        try:
            for i in range(6):
                if i == fail_at:
                    raise ConnectivityError("the directory went away")
                yield ImportBatch([], watermark={"page": i})
        finally:
            closed.append("closed")

    assert [b.watermark for b in read_ahead(batches(None))] == [{"page": i} for i in range(6)]
    # an error while reading reaches the caller after the batches read before it
    seen = []
    with pytest.raises(ConnectivityError, match="went away"):
        for b in read_ahead(batches(3)):
            seen.append(b.watermark["page"])
    assert seen == [0, 1, 2]
    # the caller stopping early (an error while staging) stops the reader and closes the
    # connector's iterator before going on
    gen = read_ahead(batches(None), depth=1)
    assert next(gen).watermark == {"page": 0}
    gen.close()
    assert closed == ["closed"] * 3
