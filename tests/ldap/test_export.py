"""Export on a real slapd: add, chunked member changes, rename/move, delete, per-object errors.
The accesslog tells how many modify requests the server received and with how many values."""

from __future__ import annotations

import pytest
from tests.ldap.helpers import connector, person

from idsync.connectors.base import ExportChange, ExportRef, MemberDeltaExporter
from idsync.lab.slapd import SlapdServer
from idsync.model import ExportKind

pytestmark = pytest.mark.slapd


def member_dns(server: SlapdServer, n: int, start: int = 0) -> list[str]:
    return [f"uid=m{i:06d},ou=People,{server.base_dn}" for i in range(start, start + n)]


def modify_requests(server: SlapdServer, dn: str) -> list[list[bytes]]:
    found = server.search("cn=accesslog", f"(&(reqType=modify)(reqDN={dn}))", scope="one",
                          attrs=["reqMod"])
    return [[m for m in a["reqMod"] if m.startswith(b"member:")] for _, a in found]


def members_of(server: SlapdServer, dn: str) -> set[str]:
    ((_, attrs),) = server.search(dn, scope="base", attrs=["member"])
    return {v.decode() for v in attrs.get("member", [])}


def test_connector_takes_member_deltas(slapd: SlapdServer) -> None:
    conn = connector(slapd)
    assert isinstance(conn, MemberDeltaExporter) and conn.supports_value_deltas()


def test_add_user_and_large_group_in_chunks(slapd: SlapdServer) -> None:
    conn = connector(slapd, max_values_per_request=1000)
    user_dn = f"uid=ann,ou=People,{slapd.base_dn}"
    group_dn = f"cn=big,ou=Groups,{slapd.base_dn}"
    members = member_dns(slapd, 3500)
    results = list(conn.export([
        ExportChange(cs_id=1, kind=ExportKind.ADD, dn=user_dn, object_type="user",
                     attributes={"uid": ["ann"], "cn": ["Ann"], "sn": ["Lee"],
                                 "mail": ["ann@example.com"]}),
        ExportChange(cs_id=2, kind=ExportKind.ADD, dn=group_dn, object_type="group",
                     attributes={"cn": ["big"],
                                 "member": [ExportRef(dn=d) for d in members]}),
    ]))
    assert [r.ok for r in results] == [True, True]
    uuid = slapd.search(user_dn, scope="base", attrs=["entryUUID"])[0][1]["entryUUID"][0]
    assert results[0].anchor == uuid.decode()
    assert members_of(slapd, group_dn) == set(members)
    # added with 1,000 members, then 3 modifies of at most 1,000 values
    assert sorted(len(m) for m in modify_requests(slapd, group_dn)) == [500, 1000, 1000]


def test_member_changes_go_as_value_deltas_of_at_most_5000(slapd: SlapdServer) -> None:
    group_dn = f"cn=staff,ou=Groups,{slapd.base_dn}"
    old = member_dns(slapd, 12000)
    slapd.add(group_dn, {"objectClass": "groupOfNames", "cn": "staff", "member": old})
    added = member_dns(slapd, 11000, start=20000)
    removed = old[:6000]
    conn = connector(slapd)
    (result,) = conn.export([ExportChange(
        cs_id=7, kind=ExportKind.MODIFY, dn=group_dn, object_type="group",
        value_adds={"member": [ExportRef(d) for d in added]},
        value_removes={"member": [ExportRef(d) for d in removed]})])
    assert result.ok, result.error_detail
    assert members_of(slapd, group_dn) == (set(old) - set(removed)) | set(added)
    requests = modify_requests(slapd, group_dn)
    assert all(len(r) <= 5000 for r in requests)
    assert sum(len(r) for r in requests) == len(added) + len(removed)
    # never a full replace of the member list
    assert not any(m.startswith(b"member:=") for r in requests for m in r)


def test_value_changes_already_applied_do_not_fail(slapd: SlapdServer) -> None:
    group_dn = f"cn=g,ou=Groups,{slapd.base_dn}"
    a, b, c = member_dns(slapd, 3)
    slapd.add(group_dn, {"objectClass": "groupOfNames", "cn": "g", "member": [a, b]})
    (result,) = connector(slapd).export([ExportChange(
        cs_id=1, kind=ExportKind.MODIFY, dn=group_dn, object_type="group",
        value_adds={"member": [a, c]}, value_removes={"member": [b, "uid=gone,dc=x"]})])
    assert result.ok, result.error_detail
    assert members_of(slapd, group_dn) == {a, c}


def test_rename_move_and_delete(slapd: SlapdServer) -> None:
    slapd.add(f"ou=Alumni,{slapd.base_dn}", {"objectClass": "organizationalUnit", "ou": "Alumni"})
    for uid in ("ann", "bob", "cid"):
        slapd.add(f"uid={uid},ou=People,{slapd.base_dn}", person(uid))
    people = f"ou=People,{slapd.base_dn}"
    results = list(connector(slapd).export([
        ExportChange(cs_id=1, kind=ExportKind.RENAME, dn=f"uid=ann,{people}", object_type="user",
                     new_dn=f"uid=anne,{people}", attributes={"title": ["Boss"]}),
        ExportChange(cs_id=2, kind=ExportKind.RENAME, dn=f"uid=bob,{people}", object_type="user",
                     new_dn=f"uid=bob,ou=Alumni,{slapd.base_dn}"),
        ExportChange(cs_id=3, kind=ExportKind.DELETE, dn=f"uid=cid,{people}", object_type="user"),
        ExportChange(cs_id=4, kind=ExportKind.DELETE, dn=f"uid=zed,{people}", object_type="user"),
    ]))
    assert [r.ok for r in results] == [True] * 4
    assert results[0].dn == f"uid=anne,{people}"
    remaining = {dn for dn, _ in slapd.search(slapd.base_dn, "(objectClass=inetOrgPerson)")}
    assert remaining == {f"uid=anne,{people}", f"uid=bob,ou=Alumni,{slapd.base_dn}"}
    ((_, anne),) = slapd.search(f"uid=anne,{people}", scope="base", attrs=["title", "uid"])
    assert anne == {"title": [b"Boss"], "uid": [b"anne"]}


def test_per_object_errors_carry_the_ldap_result(slapd: SlapdServer) -> None:
    slapd.add(f"uid=ann,ou=People,{slapd.base_dn}", person("ann"))
    results = list(connector(slapd).export([
        ExportChange(cs_id=1, kind=ExportKind.ADD, dn=f"uid=ann,ou=People,{slapd.base_dn}",
                     object_type="user", attributes={"uid": ["ann"], "cn": ["A"], "sn": ["B"]}),
        ExportChange(cs_id=2, kind=ExportKind.MODIFY, dn=f"uid=nobody,ou=People,{slapd.base_dn}",
                     object_type="user", attributes={"title": ["x"]}),
        ExportChange(cs_id=3, kind=ExportKind.ADD, dn=f"uid=bad,ou=People,{slapd.base_dn}",
                     object_type="user", attributes={"uid": ["bad"]}),
        ExportChange(cs_id=4, kind=ExportKind.MODIFY, dn=f"uid=ann,ou=People,{slapd.base_dn}",
                     object_type="user", attributes={"title": ["ok"]}),
    ]))
    by_id = {r.cs_id: r for r in results}
    assert (by_id[1].ok, by_id[1].error_code) == (False, "ldap-68")
    assert "Already exists" in (by_id[1].error_detail or "")
    assert (by_id[2].ok, by_id[2].error_code) == (False, "ldap-32")
    assert (by_id[3].ok, by_id[3].error_code) == (False, "ldap-65")  # objectClassViolation
    assert by_id[4].ok and not by_id[4].retryable
