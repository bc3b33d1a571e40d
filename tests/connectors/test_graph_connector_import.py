"""Full and delta import through Graph against a real clouddir: users, groups, members paged,
managers, member deltas, deletes, a crash between batches, an expired delta token."""

from __future__ import annotations

from typing import Any

import pytest
from tests.connectors.graph_helpers import (
    BIND,
    StaticTokens,
    add_members,
    by_anchor,
    connector,
    delta,
    full,
    group_dn,
    new_group,
    new_user,
    records,
    user_dn,
)
from tests.harness.clouddir_server import CloudDirTenant

from idsync.connectors.base import ImportContext, ImportKind
from idsync.connectors.graph import DeltaTokenExpired
from idsync.connectors.graph.records import cloud_managed, full_record
from idsync.errors import ConnectivityError


def test_full_import_reads_users_groups_and_paged_members(clouddir: CloudDirTenant) -> None:
    with clouddir.client() as http:
        users = [new_user(http, f"u{i}", jobTitle="Engineer") for i in range(25)]
        inner = new_group(http, "inner", users[:2])
        big = new_group(http, "big", [*users, inner])
    conn = connector(clouddir, page_size=10)
    batches = full(conn)
    got = by_anchor(batches)
    assert len(records(batches)) == 27
    [ann] = got[users[0]]
    assert ann.kind is ImportKind.FULL and ann.dn == user_dn(users[0])
    assert ann.object_type == "user"
    assert ann.attributes["userPrincipalName"] == ["u0@contoso.test"]
    assert ann.attributes["accountEnabled"] == ["true"]
    assert ann.attributes["jobTitle"] == ["Engineer"]
    [group] = got[big]
    assert group.dn == group_dn(big) and group.object_type == "group"
    assert group.attributes["securityEnabled"] == ["true"]
    # 26 members over three member pages of 10, the nested group by its group DN.
    assert sorted(group.attributes["members"]) == sorted(
        [user_dn(u) for u in users] + [group_dn(inner)])
    assert sorted(got[inner][0].attributes["members"]) == sorted(user_dn(u) for u in users[:2])
    watermark = batches[-1].watermark
    assert watermark is not None and watermark["kind"] == "graph-delta"
    assert set(watermark["delta_links"]) == {"user", "group"} and "resume" not in watermark
    assert all(b.watermark is None for b in batches[:-1])
    traffic = conn.traffic()
    assert traffic.requests >= 3 + 3 + 2 and traffic.bytes_received > 0
    conn.close()


def test_full_import_reads_managers(clouddir: CloudDirTenant) -> None:
    with clouddir.client() as http:
        boss = new_user(http, "boss")
        ann = new_user(http, "ann")
        put = http.put(f"/v1.0/users/{ann}/manager/$ref", json={"@odata.id": BIND + boss})
        assert put.status_code == 204, put.text
    conn = connector(clouddir)
    batches = full(conn)
    got = by_anchor(batches)
    assert got[ann][0].attributes["manager"] == [user_dn(boss)]
    assert "manager" not in got[boss][0].attributes
    with clouddir.client() as http:
        chief = new_user(http, "chief")
        assert http.put(f"/v1.0/users/{ann}/manager/$ref",
                        json={"@odata.id": BIND + chief}).status_code == 204
        assert http.delete(f"/v1.0/users/{chief}/manager/$ref").status_code in (204, 404)
    changed = by_anchor(delta(conn, batches[-1].watermark))
    [record] = changed[ann]
    assert record.kind is ImportKind.FULL and record.attributes["manager"] == [user_dn(chief)]
    assert "manager" not in changed[chief][0].attributes
    read = conn.read_object(user_dn(ann), ann, ImportContext(None))
    assert read is not None and read.attributes["manager"] == [user_dn(chief)]


def test_delta_import_member_adds_removes_deletes_and_new_objects(
        clouddir: CloudDirTenant) -> None:
    with clouddir.client() as http:
        users = [new_user(http, f"u{i}") for i in range(4)]
        team = new_group(http, "team", users[:2])
    conn = connector(clouddir)
    watermark = full(conn)[-1].watermark
    with clouddir.client() as http:
        assert http.delete(f"/v1.0/groups/{team}/members/{users[0]}/$ref").status_code == 204
        add_members(http, team, [users[2]])
        assert http.patch(f"/v1.0/users/{users[1]}",
                          json={"jobTitle": "Chief"}).status_code == 204
        assert http.delete(f"/v1.0/users/{users[3]}").status_code == 204
        eve = new_user(http, "eve")
        fresh = new_group(http, "fresh", [eve, users[1]])
    batches = delta(conn, watermark)
    got = by_anchor(batches)
    # A group whose members fit one read is a FULL record of its members as they are now.
    [group] = got[team]
    assert group.kind is ImportKind.FULL and group.value_adds == group.value_removes == {}
    assert sorted(group.attributes["members"]) == sorted(user_dn(u) for u in users[1:3])
    assert group.attributes["displayName"] == ["team"]
    [changed] = got[users[1]]
    assert changed.kind is ImportKind.FULL and changed.attributes["jobTitle"] == ["Chief"]
    assert [(r.kind, r.dn) for r in got[users[3]]] == [(ImportKind.DELETE, user_dn(users[3]))]
    assert got[eve][0].kind is ImportKind.FULL
    # A group created since: FULL too.
    [new] = got[fresh]
    assert new.kind is ImportKind.FULL and new.value_adds == {}
    assert sorted(new.attributes["members"]) == sorted([user_dn(eve), user_dn(users[1])])
    last = batches[-1].watermark
    assert last is not None and "resume" not in last
    assert last["delta_links"] != watermark["delta_links"]  # type: ignore[index]
    assert records(delta(conn, last)) == []


def test_member_changes_of_a_group_above_a_page_stay_value_level(
        clouddir: CloudDirTenant) -> None:
    """Above one page of members (``page_size``), a group's member changes are adds and
    removes, never a whole list read and replaced."""
    with clouddir.client() as http:
        users = [new_user(http, f"u{i}") for i in range(4)]
        team = new_group(http, "team", users[:3])
    conn = connector(clouddir, page_size=2)
    watermark = full(conn)[-1].watermark
    with clouddir.client() as http:
        assert http.delete(f"/v1.0/groups/{team}/members/{users[0]}/$ref").status_code == 204
        add_members(http, team, [users[3]])
    [group] = by_anchor(delta(conn, watermark))[team]
    assert group.kind is ImportKind.MODIFY and "members" not in group.attributes
    assert group.value_adds == {"members": [user_dn(users[3])]}
    assert group.value_removes == {"members": [user_dn(users[0])]}


def test_a_large_group_over_delta_pages_is_one_record(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(member_page_size=2)
    with tenant.client() as http:
        users = [new_user(http, f"u{i}") for i in range(7)]
    conn = connector(tenant)
    watermark = full(conn)[-1].watermark
    with tenant.client() as http:
        big = new_group(http, "big", users)
    got = by_anchor(delta(conn, watermark))
    [group] = got[big]
    assert group.kind is ImportKind.FULL
    assert sorted(group.attributes["members"]) == sorted(user_dn(u) for u in users)


def test_a_crash_between_batches_resumes_from_the_last_staged_page(
        clouddir: CloudDirTenant) -> None:
    conn = connector(clouddir, page_size=2)
    watermark = full(conn)[-1].watermark
    with clouddir.client() as http:
        users = [new_user(http, f"n{i}") for i in range(5)]
    batches = conn.delta_import(ImportContext(watermark))
    first = next(batches)
    batches.close()  # the process dies after the first batch was staged
    assert first.watermark is not None and first.watermark["resume"]["object_type"] == "user"
    seen = {r.anchor for r in first.records}
    rest = delta(conn, first.watermark)
    again = {r.anchor for r in records(rest)}
    assert seen and not seen & again  # the staged page is not read again
    assert seen | again == set(users)
    final = rest[-1].watermark
    assert final is not None and "resume" not in final
    assert records(delta(conn, final)) == []


def test_an_expired_delta_token_asks_for_a_full_import(clouddir: CloudDirTenant) -> None:
    conn = connector(clouddir)
    watermark = full(conn)[-1].watermark
    assert watermark is not None
    stale = {**watermark, "delta_links": {
        t: link.split("$deltatoken=")[0] + "$deltatoken=expired-long-ago"
        for t, link in watermark["delta_links"].items()}}
    with pytest.raises(DeltaTokenExpired, match="run a full import"):
        delta(conn, stale)


def test_delta_without_a_graph_watermark_asks_for_a_full_import(
        clouddir: CloudDirTenant) -> None:
    with pytest.raises(Exception, match="run a full import first"):
        delta(connector(clouddir), {"api_version": 2, "token": "1"})


def test_read_object_reads_one_group_with_its_members(clouddir: CloudDirTenant) -> None:
    with clouddir.client() as http:
        users = [new_user(http, f"u{i}") for i in range(3)]
        team = new_group(http, "team", users)
    conn = connector(clouddir, page_size=2)
    record = conn.read_object(group_dn(team), None, ImportContext(None))
    assert record is not None and record.kind is ImportKind.FULL
    assert sorted(record.attributes["members"]) == sorted(user_dn(u) for u in users)
    assert conn.read_object(user_dn("0" * 8 + "-0000-0000-0000-" + "0" * 12), None,
                            ImportContext(None)) is None


def test_test_connection_takes_a_token_and_one_get(clouddir: CloudDirTenant) -> None:
    conn = connector(clouddir)
    conn.test_connection()
    assert conn.traffic().requests == 1
    refused = connector(clouddir, StaticTokens("not-a-token"))
    with pytest.raises(ConnectivityError, match="401 InvalidAuthenticationToken") as caught:
        refused.test_connection()
    assert "not-a-token" not in str(caught.value)


def test_source_of_authority_is_read_as_cloud_managed(clouddir: CloudDirTenant) -> None:
    with clouddir.client() as http:
        ann, bob = new_user(http, "ann"), new_user(http, "bob")
        switched = http.patch(f"/v1.0/users/{ann}/onPremisesSyncBehavior",
                              json={"isCloudManaged": True})
        assert switched.status_code == 204, switched.text
    got = by_anchor(full(connector(clouddir)))
    assert got[ann][0].cloud_managed is True and got[bob][0].cloud_managed is False


def test_cloud_managed_comes_from_on_premises_sync_behavior() -> None:
    assert cloud_managed({"onPremisesSyncBehavior": {"isCloudManaged": True}}) is True
    assert cloud_managed({"onPremisesSyncBehavior": {"isCloudManaged": False}}) is False
    assert cloud_managed({"id": "x"}) is None
    record = full_record("user", {"id": "x", "displayName": "X", "accountEnabled": False,
                                  "proxyAddresses": ["SMTP:x@y"], "mail": None,
                                  "onPremisesSyncBehavior": {"isCloudManaged": True}},
                         ("displayName", "accountEnabled", "proxyAddresses", "mail"))
    assert record.attributes == {"displayName": ["X"], "accountEnabled": ["false"],
                                 "proxyAddresses": ["SMTP:x@y"]}
    assert record.cloud_managed is True and record.dn == "CN=x,OU=Users"

