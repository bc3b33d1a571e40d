"""The batch writes of a synchronization (one statement for a batch's objects) leave the store
exactly as the one-object writes they replace, on SQLite and on a real PostgreSQL. Above all the
reference change journal: a bulk relink on PostgreSQL writes its entries set-based with the
row trigger off, and must record what the trigger records."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.harness.postgres import schema_url

from idsync.model import CSObject, MVObject
from idsync.store import Store
from idsync.store.metaverse import MV_SPACE


@pytest.fixture(params=[pytest.param("sqlite", marks=pytest.mark.sqlite_only), "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    yield request.param, tmp_path


def _open(backend: tuple[str, Path], name: str, request: pytest.FixtureRequest) -> Store:
    kind, root = backend
    url = request.getfixturevalue("postgres_url") if kind == "postgresql" else None
    if url is not None:
        url = schema_url(url, "t_" + uuid.uuid4().hex[:16])
    store = Store.open(root / name, database=url)
    assert store.dialect == kind
    return store


def _relink_world(store: Store, bulk: bool) -> list[tuple]:
    """A group (linked) holding three users; a metaverse group referencing the users' old
    metaverse objects; then the users are relinked (two to new objects, one unchanged), in
    one bulk call or one call per object. Returns the journal."""
    with store.transaction():
        cid = store.connectors.add("src", "file", {"path": "x.ldif"}).id
        users = [store.cs.insert(cid, anchor=f"u{i}", dn=f"cn=u{i},dc=x", object_type="person")
                 for i in range(3)]
        group = store.cs.insert(cid, anchor="g", dn="cn=g,dc=x", object_type="group")
        store.cs.change_refs(group, "member", users, [])
        mv_group, *old_mvs = store.mv.create_many(["group", "person", "person", "person"])
        new_mvs = store.mv.create_many(["person", "person"])
        store.cs.set_link(group, mv_group, "Provision", 1, "inbound")
        for cs_id, mv_id in zip(users, old_mvs, strict=True):
            store.cs.set_link(cs_id, mv_id, "Provision", 1, "inbound")
        store.mv.change_refs(mv_group, "member", old_mvs, [])
        store.db.execute("DELETE FROM ref_changes")
        rows = [(new_mvs[0], "Join", 2, "inbound", users[0]),
                (new_mvs[1], "Join", 2, "inbound", users[1]),
                (old_mvs[2], "Provision", 1, "inbound", users[2])]  # not a relink
        if bulk:
            store.cs.set_links(rows)
        else:
            for mv_id, link_type, rule_id, direction, cs_id in rows:
                store.cs.set_link(cs_id, mv_id, link_type, rule_id, direction)
    journal = sorted(store.db.query(
        "SELECT space, obj_id, attr, target_id, old_mv FROM ref_changes"))
    links = sorted(store.db.query("SELECT id, mv_id, link_type, link_rule_id, link_direction "
                                  "FROM cs_objects"))
    return [*journal, ("links", *links)]


def test_a_bulk_relink_journals_what_relinking_one_by_one_does(
        backend: tuple[str, Path], request: pytest.FixtureRequest) -> None:
    one, many = _open(backend, "one", request), _open(backend, "many", request)
    try:
        expected = _relink_world(one, bulk=False)
        assert _relink_world(many, bulk=True) == expected
        markers = {(e[1], e[2]) for e in expected if e[0] == 1 and e[3] == 0}
        assert len(markers) == 4  # '*in' and '*out' of the two relinked users, not the third
        assert any(e[0] == 1 and e[4] is not None for e in expected)  # the group's old_mv
        assert any(e[0] == 0 for e in expected)  # the metaverse group's list is journaled
    finally:
        one.close()
        many.close()


def test_reserved_ids_are_new_and_in_order(backend: tuple[str, Path],
                                           request: pytest.FixtureRequest) -> None:
    store = _open(backend, "ids", request)
    try:
        with store.transaction():
            cid = store.connectors.add("dst", "file", {"path": "y.ldif"}).id
            first = store.mv.create("person")
            made = store.mv.create_many(["person", "group", "person"])
            after = store.mv.create("group")
            cs_ids = store.cs.insert_many([
                CSObject(id=0, connector_id=cid, anchor=None, dn=dn, object_type="user",
                         placeholder=False, attributes={}, pending_import=None, mv_id=None,
                         link_type=None, link_rule_id=None, link_direction=None)
                for dn in ("CN=A,DC=y", "cn=a,dc=y")])
        assert made == sorted(made) and first < made[0] and made[-1] < after
        assert [store.mv.get(i).object_type for i in made] == ["person", "group", "person"]
        objs = store.cs.by_ids(cs_ids)
        assert [objs[i].dn for i in cs_ids] == ["CN=A,DC=y", "cn=a,dc=y"]
        assert all(objs[i].anchor is None and objs[i].mv_id is None for i in cs_ids)
    finally:
        store.close()


def test_metaverse_batch_writes_match_single_writes(backend: tuple[str, Path],
                                                    request: pytest.FixtureRequest) -> None:
    store = _open(backend, "mv", request)
    try:
        with store.transaction():
            a, b, c = store.mv.create_many(["person", "person", "group"])
            store.mv.change_refs(c, "member", [a], [])
            store.mv.change_refs_many([(c, "member", b), (c, "owner", a)], [(c, "member", a)])
            store.mv.save_many([MVObject(id=a, object_type="person", attributes={"cn": ["A"]},
                                         lineage={"cn": {"rule": 1}}),
                                MVObject(id=b, object_type="person",
                                         attributes={"cn": ["B"], "n": [2]}, lineage={})])
            store.join_index.replace(MV_SPACE, a, [("~mail", "s:old")])
            store.join_index.replace_many(MV_SPACE, {a: [("~mail", "s:a@x")],
                                                     b: [("~mail", "s:b@x"), ("uid", "s:b")]})
        assert store.mv.refs_of([c])[c] == {"member": {b}, "owner": {a}}
        assert store.mv.get(a).attributes == {"cn": ["A"]}
        assert store.mv.get(a).lineage == {"cn": {"rule": 1}}
        assert store.mv.get(b).attributes == {"cn": ["B"], "n": [2]}
        assert store.join_index.lookup(MV_SPACE, "~mail", "s:old") == set()
        assert store.join_index.lookup_many(MV_SPACE, "~mail", ["s:a@x", "s:b@x", "s:z"]) == {
            "s:a@x": {a}, "s:b@x": {b}, "s:z": set()}
    finally:
        store.close()
