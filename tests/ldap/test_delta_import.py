"""Delta import on a real slapd: syncrepl (cookie) and accesslog (value-level), plus the
modifyTimestamp fallback. Each test makes its own small directory and changes it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from tests.ldap.helpers import connector, delta, full, person, records

from idsync.connectors.base import ImportKind, ImportRecord
from idsync.connectors.ldap import WatermarkExpired
from idsync.lab.slapd import SlapdServer

pytestmark = pytest.mark.slapd


@dataclass
class Tree:
    server: SlapdServer
    people: str
    groups: str

    def dn(self, uid: str) -> str:
        return f"uid={uid},{self.people}"


def make_tree(server: SlapdServer) -> Tree:
    tree = Tree(server, f"ou=People,{server.base_dn}", f"ou=Groups,{server.base_dn}")
    server.add(f"ou=Moved,{server.base_dn}", {"objectClass": "organizationalUnit", "ou": "Moved"})
    for uid in ("ann", "bob", "cid", "dan", "eve"):
        server.add(tree.dn(uid), person(uid))
    server.add(f"cn=staff,{tree.groups}", {"objectClass": "groupOfNames", "cn": "staff",
                                           "member": [tree.dn("ann"), tree.dn("bob")]})
    return tree


def change_everything(tree: Tree) -> dict[str, str]:
    """Add, modify, member add/remove, rename, move, delete; returns the anchors by uid."""
    s = tree.server
    anchors = {a["uid"][0].decode(): a["entryUUID"][0].decode() for _, a in
               s.search(s.base_dn, "(objectClass=inetOrgPerson)", attrs=["uid", "entryUUID"])}
    s.add(tree.dn("fay"), person("fay", title="New"))
    s.modify(tree.dn("ann"), [("replace", "title", ["Chief"])])
    s.modify(f"cn=staff,{tree.groups}", [("add", "member", [tree.dn("cid")]),
                                         ("delete", "member", [tree.dn("bob")])])
    s.rename(tree.dn("dan"), "uid=dan2")
    s.rename(tree.dn("eve"), "uid=eve", f"ou=Moved,{s.base_dn}")
    s.delete(tree.dn("bob"))
    return anchors


def by_anchor(got: list[ImportRecord]) -> dict[str | None, list[ImportRecord]]:
    out: dict[str | None, list[ImportRecord]] = {}
    for r in got:
        out.setdefault(r.anchor, []).append(r)
    return out


def test_syncrepl_delta_sees_adds_modifies_members_renames_moves_deletes(
        slapd: SlapdServer) -> None:
    tree = make_tree(slapd)
    conn = connector(slapd, change_detection="syncrepl")
    first = full(conn)
    group_anchor = next(r.anchor for r in records(first) if r.object_type == "group")
    anchors = change_everything(tree)
    batches = delta(conn, first[-1].watermark)  # type: ignore[arg-type]
    got = by_anchor(records(batches))
    assert batches[-1].watermark and batches[-1].watermark["strategy"] == "syncrepl"
    assert [r.kind for r in got[anchors["bob"]]] == [ImportKind.DELETE]
    (ann,) = got[anchors["ann"]]
    assert ann.kind == ImportKind.FULL and ann.attributes["title"] == ["Chief"]
    assert got[anchors["dan"]][-1].dn == f"uid=dan2,{tree.people}"
    assert got[anchors["eve"]][-1].dn == f"uid=eve,ou=Moved,{slapd.base_dn}"
    (group,) = got[group_anchor]
    assert sorted(group.attributes["member"]) == sorted([tree.dn("ann"), tree.dn("cid")])
    fay = [r for r in records(batches) if r.dn == tree.dn("fay")]
    assert fay and fay[0].kind == ImportKind.FULL and fay[0].anchor
    assert anchors["cid"] not in got  # untouched entries are not sent
    # The new cookie covers everything: a second delta is empty.
    again = delta(conn, batches[-1].watermark)  # type: ignore[arg-type]
    assert records(again) == []


def test_syncrepl_move_out_of_scope_is_a_delete(slapd: SlapdServer) -> None:
    tree = make_tree(slapd)
    conn = connector(slapd, change_detection="syncrepl", include_containers=[tree.people])
    first = full(conn)
    anchors = change_everything(tree)
    got = by_anchor(records(delta(conn, first[-1].watermark)))  # type: ignore[arg-type]
    assert [r.kind for r in got[anchors["eve"]]] == [ImportKind.DELETE]


def test_syncrepl_cookie_older_than_session_log_asks_for_full_import(slapd_factory) -> None:  # type: ignore[no-untyped-def]
    server = slapd_factory(sessionlog=2)
    tree = make_tree(server)
    conn = connector(server, change_detection="syncrepl")
    watermark = full(conn)[-1].watermark
    for uid in ("ann", "bob", "cid", "dan", "eve"):
        server.delete(tree.dn(uid))
    with pytest.raises(WatermarkExpired, match="full import"):
        delta(conn, watermark)  # type: ignore[arg-type]


def test_accesslog_delta_is_value_level(slapd: SlapdServer) -> None:
    tree = make_tree(slapd)
    conn = connector(slapd, change_detection="accesslog")
    first = full(conn)
    group_anchor = next(r.anchor for r in records(first) if r.object_type == "group")
    anchors = change_everything(tree)
    batches = delta(conn, first[-1].watermark)  # type: ignore[arg-type]
    got = by_anchor(records(batches))
    (group,) = got[group_anchor]
    assert group.kind == ImportKind.MODIFY
    assert group.value_adds == {"member": [tree.dn("cid")]}
    assert group.value_removes == {"member": [tree.dn("bob")]}
    assert group.attributes == {}
    (ann,) = got[anchors["ann"]]
    assert ann.kind == ImportKind.MODIFY and ann.attributes == {"title": ["Chief"]}
    assert [(r.kind, r.dn) for r in got[anchors["bob"]]] == [(ImportKind.DELETE, tree.dn("bob"))]
    assert got[anchors["dan"]][-1].dn == f"uid=dan2,{tree.people}"
    assert got[anchors["eve"]][-1].dn == f"uid=eve,ou=Moved,{slapd.base_dn}"
    fay = [r for r in records(batches) if r.dn == tree.dn("fay")]
    assert fay[0].kind == ImportKind.FULL and fay[0].attributes["title"] == ["New"]
    assert records(delta(conn, batches[-1].watermark)) == []  # type: ignore[arg-type]


def test_accesslog_one_member_change_to_a_big_group_is_one_value(slapd: SlapdServer) -> None:
    s = slapd
    members = [f"uid=m{i:05d},ou=People,{s.base_dn}" for i in range(3000)]
    s.add(f"cn=big,ou=Groups,{s.base_dn}", {"objectClass": "groupOfNames", "cn": "big",
                                            "member": members})
    conn = connector(s, change_detection="accesslog")
    watermark = full(conn)[-1].watermark
    s.modify(f"cn=big,ou=Groups,{s.base_dn}", [("delete", "member", [members[7]])])
    (record,) = records(delta(conn, watermark))  # type: ignore[arg-type]
    assert record.value_removes == {"member": [members[7]]}
    assert record.value_adds == {} and record.attributes == {}


def test_delta_without_a_matching_watermark_asks_for_full_import(slapd: SlapdServer) -> None:
    conn = connector(slapd, change_detection="accesslog")
    with pytest.raises(WatermarkExpired):
        delta(conn, {"strategy": "syncrepl", "cookies": {}})


def test_modify_timestamp_fallback_sees_changed_entries(slapd: SlapdServer) -> None:
    tree = make_tree(slapd)
    conn = connector(slapd, change_detection="modify_timestamp")
    watermark = full(conn)[-1].watermark
    change_everything(tree)
    got = records(delta(conn, watermark))  # type: ignore[arg-type]
    dns = {r.dn for r in got}
    assert {tree.dn("ann"), tree.dn("fay"), f"uid=dan2,{tree.people}"} <= dns


def test_auto_picks_syncrepl_on_openldap(slapd: SlapdServer) -> None:
    assert connector(slapd).change_detector().name == "syncrepl"


def test_accesslog_delta_over_many_log_pages(slapd: SlapdServer) -> None:
    people = f"ou=People,{slapd.base_dn}"
    for i in range(30):
        slapd.add(f"uid=p{i},{people}", person(f"p{i}"))
    conn = connector(slapd, change_detection="accesslog", page_size=4)
    watermark = full(conn)[-1].watermark
    for i in range(30):
        slapd.modify(f"uid=p{i},{people}", [("replace", "title", [f"t{i}"])])
    got = records(delta(conn, watermark))  # type: ignore[arg-type]
    assert [r.attributes["title"] for r in got] == [[f"t{i}"] for i in range(30)]
