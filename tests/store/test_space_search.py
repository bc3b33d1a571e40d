"""The connector space and metaverse searches the web UI pages through: each clause, keyset
paging that neither repeats nor skips, and reference values read one page at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from idsync.error_codes import Stage
from idsync.model import CSObject, ExportKind, ExportState, PendingExport
from idsync.store import Store, database
from idsync.store.connector_space.search import CSQuery, Placeholders
from idsync.store.metaverse import AttributeClause, ClauseOperator

BASE = "dc=contoso,dc=com"


def _obj(connector_id: int, dn: str, anchor: str | None, object_type: str | None = "person",
         placeholder: bool = False) -> CSObject:
    return CSObject(id=0, connector_id=connector_id, anchor=anchor, dn=dn,
                    object_type=object_type, placeholder=placeholder, attributes={"cn": ["x"]},
                    pending_import=None, mv_id=None, link_type=None, link_rule_id=None,
                    link_direction=None)


@pytest.fixture
def store(tmp_path: Path):
    s = Store.open(tmp_path / "ws")
    yield s
    s.close()


def _all_pages(store: Store, connector_id: int, query: CSQuery, limit: int = 7) -> list[int]:
    seen: list[int] = []
    after = None
    while True:
        page = store.cs.search_page(connector_id, query, after=after, limit=limit)
        seen += [o.id for o in page]
        if len(page) < limit:
            return seen
        after = page[-1].id


def test_connector_space_search_clauses_and_paging(store: Store) -> None:
    with store.transaction():
        cid = store.connectors.add("source", "file", {"path": "x.ldif"}).id
        other = store.connectors.add("other", "file", {"path": "y.ldif"}).id
        users = store.cs.insert_many(
            [_obj(cid, f"uid=u{i:03},ou=Users,{BASE}", f"a{i}") for i in range(40)])
        sales = store.cs.insert_many(
            [_obj(cid, f"uid=s{i},ou=Sales,ou=Users,{BASE}", f"s{i}") for i in range(5)])
        # a sibling OU whose name ends like "Users": not in the Users subtree
        store.cs.insert_many([_obj(cid, f"uid=u001,ou=PowerUsers,{BASE}", "p1")])
        store.cs.insert_many([_obj(other, f"uid=u001,ou=Users,{BASE}", "o1")])
        group = store.cs.insert_many([_obj(cid, f"cn=staff,ou=Groups,{BASE}", "g",
                                           "group")])[0]
        holder = store.cs.insert_many([_obj(cid, f"uid=ghost,ou=Users,{BASE}", None, None,
                                            placeholder=True)])[0]
        store.cs.change_refs(group, "member", users, [])
        store.exports.stage(PendingExport(
            cs_id=group, connector_id=cid, kind=ExportKind.MODIFY, new_dn=None,
            attributes={"description": ["new"]}, state=ExportState.PENDING, attempts=0,
            ref_adds={"member": set(users[:3])}, ref_removes={"member": {users[5]}}))
        store.errors.record(users[7], cid, Stage.EXPORT, "constraint-violation", "bad", None)
        store.errors.record(users[8], cid, Stage.SYNC, "flow-error", "bad", None)
        store.cs.set_dn(sales[0], f"uid=moved,ou=Other,{BASE}")

    everything_under_users = _all_pages(store, cid, CSQuery(subtree=f"OU=Users,{BASE}"))
    assert sorted(everything_under_users) == sorted(users + sales[1:])
    assert len(set(everything_under_users)) == len(everything_under_users)
    assert sorted(_all_pages(store, cid, CSQuery(subtree=f"ou=sales,ou=users,{BASE}"))) == \
        sales[1:]
    assert sorted(_all_pages(store, cid, CSQuery(subtree=f"ou=users,{BASE}",
                                                 placeholders=Placeholders.INCLUDE))) == \
        sorted(users + sales[1:] + [holder])
    assert _all_pages(store, cid, CSQuery(placeholders=Placeholders.ONLY)) == [holder]
    # a subtree's base is in its subtree (the renamed object moved out of Sales)
    assert _all_pages(store, cid, CSQuery(subtree=f"uid=moved,ou=Other,{BASE}")) == [sales[0]]

    by_rdn = _all_pages(store, cid, CSQuery(rdn="UID=u001"))
    assert len(by_rdn) == 2 and users[1] in by_rdn  # ou=Users and ou=PowerUsers, not u0010
    assert _all_pages(store, cid, CSQuery(rdn="uid=u001", subtree=f"ou=users,{BASE}")) == \
        [users[1]]
    assert _all_pages(store, cid, CSQuery(dn=f"uid=u002, ou=users,{BASE}")) == [users[2]]
    assert _all_pages(store, cid, CSQuery(anchor="a3")) == [users[3]]
    assert _all_pages(store, cid, CSQuery(object_type="group")) == [group]
    assert _all_pages(store, cid, CSQuery(pending_export=True)) == [group]
    assert _all_pages(store, cid, CSQuery(export_errors=True)) == [users[7]]
    assert _all_pages(store, cid, CSQuery(pending_import=True)) == []
    assert len(_all_pages(store, cid, CSQuery())) == 40 + 5 + 1 + 1

    # reference values and a pending export's member changes, one page at a time
    assert store.cs.ref_counts(group) == {"member": 40}
    first = store.cs.ref_page(group, "member", 0, 25)
    second = store.cs.ref_page(group, "member", first[-1][0], 25)
    assert [t for t, _ in first + second] == sorted(users)
    assert first[0][1] == f"uid=u000,ou=Users,{BASE}"
    assert [t for t, _ in store.cs.export_ref_page(group, "member", "add")] == users[:3]
    assert [t for t, _ in store.cs.export_ref_page(group, "member", "remove")] == [users[5]]
    assert [e.code for e in store.cs.errors_of(users[7])] == ["constraint-violation"]


def test_metaverse_search_with_clauses_and_paging(store: Store) -> None:
    with store.transaction():
        ids = []
        for i in range(30):
            mv_id = store.mv.create("person")
            mv = store.mv.get(mv_id)
            assert mv is not None
            mv.attributes = {"displayName": [f"Ann {i}" if i % 2 else f"Bob {i}"],
                             "department": ["Sales" if i % 3 == 0 else "IT"],
                             "employeeNumber": [i]}
            store.mv.save(mv)
            ids.append(mv_id)
        group = store.mv.create("group")
        store.mv.change_refs(group, "member", ids, [])

    def pages(**kwargs) -> list[int]:
        out, after = [], 0
        while True:
            page = store.mv.search_page(limit=4, after=after, **kwargs)
            out += [m.id for m in page.objects]
            if page.next_after is None:
                return out
            after = page.next_after

    two = [AttributeClause("displayname", ClauseOperator.STARTS_WITH, "ann"),
           AttributeClause("department", ClauseOperator.EQUALS, "Sales")]
    assert pages(clauses=two) == [ids[i] for i in range(30) if i % 2 and i % 3 == 0]
    assert pages(clauses=[AttributeClause("employeeNumber", ClauseOperator.EQUALS, "7")]) == \
        [ids[7]]
    assert pages(object_type="group") == [group]
    assert pages(object_type="person",
                 clauses=[AttributeClause("mail", ClauseOperator.PRESENT)]) == []
    assert len(pages(object_type="person")) == 30
    assert store.mv.ref_counts(group) == {"member": 30}
    assert store.mv.ref_page(group, "member", ids[9], 5) == ids[10:15]


def test_migration_0015_fills_the_reversed_dn_of_existing_objects(tmp_path: Path,
                                                                   monkeypatch) -> None:
    shipped = database.migrations()
    before = [m for m in shipped if m[0] < 15]
    monkeypatch.setattr(database, "migrations", lambda: before)
    old = Store.open(tmp_path / "ws")
    with old.transaction():
        cid = old.connectors.add("source", "file", {"path": "x.ldif"}).id
        # as the build before 0015 wrote them: no dn_rev column yet
        old.db.execute(
            "INSERT INTO cs_objects (connector_id, anchor, dn, dn_norm, object_type, "
            "created_at) VALUES (?, 'a', 'uid=Ann,ou=Users,dc=x', 'uid=ann,ou=users,dc=x', "
            "'person', '2026-01-01')", (cid,))
    old.close()
    monkeypatch.setattr(database, "migrations", lambda: shipped)
    store = Store.open(tmp_path / "ws")
    try:
        found = store.cs_search.search_page(cid, CSQuery(subtree="ou=users,dc=x"))
        assert [o.dn for o in found] == ["uid=Ann,ou=Users,dc=x"]
    finally:
        store.close()
