"""The source of authority in the store (migration 0016): imports write it, the export pages
leave cloud-managed objects out, holding starts once; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from idsync.model import Authority, CSObject, ExportKind, ExportState, PendingExport
from idsync.store import Store, database


def _obj(connector_id: int, anchor: str) -> CSObject:
    return CSObject(id=0, connector_id=connector_id, anchor=anchor, dn=f"CN={anchor}",
                    object_type="user", placeholder=False, attributes={},
                    pending_import=None, mv_id=None, link_type=None, link_rule_id=None,
                    link_direction=None)


def _modify(connector_id: int, cs_id: int) -> PendingExport:
    return PendingExport(cs_id=cs_id, connector_id=connector_id, kind=ExportKind.MODIFY,
                         new_dn=None, attributes={"displayName": ["x"]},
                         state=ExportState.PENDING, attempts=0)


@pytest.fixture
def store(tmp_path: Path):
    s = Store.open(tmp_path / "ws")
    yield s
    s.close()


def test_export_pages_hold_cloud_managed_objects(store: Store) -> None:
    with store.transaction():
        cid = store.connectors.add("cloud", "file", {"path": "x.ldif"}).id
        ids = store.cs.insert_many([_obj(cid, f"a{i}") for i in range(4)])
        store.exports.stage_many([_modify(cid, i) for i in ids])
    assert store.authority.of(ids) == dict.fromkeys(ids, Authority.SYNC)
    with store.transaction():
        store.authority.set_many(ids[:2], [])
    assert store.exports.page(cid, ExportKind.MODIFY, 0, 10) == ids[2:]
    assert [(i, since) for i, _dn, since in store.authority.held(cid)] == [
        (ids[0], None), (ids[1], None)]
    with store.transaction():
        store.authority.hold(ids[:1])
        # An import saying "cloud" again keeps the time holding started.
        store.authority.set_many(ids[:2], [])
    held = {i: since for i, _dn, since in store.authority.held(cid)}
    assert held[ids[0]] is not None and held[ids[1]] is None
    # The authority returns: sent again, and a later hold starts afresh.
    with store.transaction():
        store.authority.set_many([], ids)
    assert store.exports.page(cid, ExportKind.MODIFY, 0, 10) == ids
    assert store.authority.held(cid) == []
    with store.transaction():
        store.authority.set_many(ids[:1], [])
    assert [since for _i, _dn, since in store.authority.held(cid)] == [None]
    # Sent exports are not held: only what waits to be sent.
    with store.transaction():
        store.exports.set_state(ids[:1], ExportState.EXPORTED)
    assert store.authority.held(cid) == []


def test_migration_0016_makes_existing_objects_sync_managed(tmp_path: Path,
                                                             monkeypatch) -> None:
    shipped = database.migrations()
    monkeypatch.setattr(database, "migrations", lambda: [m for m in shipped if m[0] < 16])
    old = Store.open(tmp_path / "ws")
    with old.transaction():
        cid = old.connectors.add("cloud", "file", {"path": "x.ldif"}).id
        [cs_id] = old.cs.insert_many([_obj(cid, "a")])
    old.close()
    monkeypatch.setattr(database, "migrations", lambda: shipped)
    store = Store.open(tmp_path / "ws")
    try:
        assert store.authority.of([cs_id]) == {cs_id: Authority.SYNC}
    finally:
        store.close()
