"""The graph exporter against a real clouddir's Graph API: users and groups created in JSON
$batch requests, members as deltas only (binds of at most 20, removals by $ref), the manager,
deletes, a duplicate userPrincipalName failing alone, throttling retried, and passwords kept
out of logs and results. On SQLite and on PostgreSQL (the harness's server store)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tests.harness.clouddir_server import CloudDirTenant
from tests.harness.graph_batch_client import GraphBatchClient

from idsync.connectors.base import ExportChange, ExportRef, ExportResult
from idsync.connectors.graph.export import GraphExporter
from idsync.connectors.graph.passwords import SYMBOLS
from idsync.error_codes import ErrorCode
from idsync.model import ExportKind


class Graph:
    """A tenant's Graph face: the exporter, its batch client, and plain reads."""

    def __init__(self, tenant: CloudDirTenant, **client: Any) -> None:
        self.url = f"{tenant.url}/v1.0"
        self.tenant = tenant
        self.client = GraphBatchClient(self.url, tenant.token, **client)
        self.exporter = GraphExporter(self.client, {"graph_url": self.url})

    def export(self, changes: list[ExportChange]) -> dict[int, ExportResult]:
        results = {r.cs_id: r for r in self.exporter.export(changes)}
        assert sorted(results) == sorted(c.cs_id for c in changes)
        return results

    def get(self, path: str) -> httpx.Response:
        with self.tenant.client() as http:
            return http.get(f"/v1.0{path}")

    def members(self, group_id: str) -> set[str]:
        found: set[str] = set()
        url: str | None = f"/v1.0/groups/{group_id}/members?$top=999"
        with self.tenant.client() as http:
            while url:
                page = http.get(url).json()
                found |= {m["id"] for m in page["value"]}
                url = page.get("@odata.nextLink")
        return found

    def users(self, count: int, start: int = 0, prefix: str = "u") -> list[str]:
        results = self.export([user_add(i, prefix) for i in range(start, start + count)])
        assert all(r.ok for r in results.values()), results
        return [str(results[i].anchor) for i in range(start, start + count)]


@pytest.fixture
def graph(clouddir: CloudDirTenant) -> Iterator[Graph]:
    g = Graph(clouddir)
    yield g
    g.client.close()


def user_add(i: int, prefix: str = "u", **attrs: list[Any]) -> ExportChange:
    return ExportChange(i, ExportKind.ADD, f"CN={prefix}{i},OU=People", "user", attributes={
        "userPrincipalName": [f"{prefix}{i}@contoso.test"], "displayName": [f"{prefix} {i}"],
        "mailNickname": [f"{prefix}{i}"], "accountEnabled": ["true"], **attrs})


def refs(ids: list[str]) -> list[ExportRef]:
    return [ExportRef(f"CN={i}", i) for i in ids]


def group_add(cs_id: int, members: list[str]) -> ExportChange:
    return ExportChange(cs_id, ExportKind.ADD, f"CN=g{cs_id}", "group", attributes={
        "displayName": [f"g{cs_id}"], "mailNickname": [f"g{cs_id}"],
        "securityEnabled": ["true"], "mailEnabled": ["false"], "groupTypes": [],
        "members": list(refs(members))})


def sent_kinds(client: GraphBatchClient) -> list[tuple[str, str]]:
    return [(r["method"], r["url"]) for r in client.sent]


def test_users_and_a_large_group_are_created_in_full_batches(
        graph: Graph, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ids = graph.users(30)
    assert graph.client.traffic.requests == 2  # ceil(30 / 20)
    creates = [r for r in graph.client.sent if r["url"] == "/users"]
    passwords = [r["body"]["passwordProfile"]["password"] for r in creates]
    assert len(set(passwords)) == 30
    for request, password in zip(creates, passwords, strict=True):
        assert request["body"]["passwordProfile"]["forceChangePasswordNextSignIn"] is True
        assert request["body"]["accountEnabled"] is True
        assert len(password) == 24 and any(c in SYMBOLS for c in password)
        assert password not in caplog.text
    first = graph.get(f"/users/{ids[0]}").json()
    assert first["userPrincipalName"] == "u0@contoso.test" and first["accountEnabled"] is True

    before = graph.client.traffic.requests
    results = graph.export([group_add(100, ids[:25]), group_add(101, ids[:3])])
    assert all(r.ok for r in results.values()), results
    gid = str(results[100].anchor)
    assert results[100].dn == f"CN={gid},OU=Groups"
    assert graph.members(gid) == set(ids[:25])
    assert graph.members(str(results[101].anchor)) == set(ids[:3])
    # The create with 20 binds, then one PATCH with the other 5 (it needs the new id).
    assert graph.client.traffic.requests - before == 2
    group = graph.get(f"/groups/{gid}").json()
    assert (group["securityEnabled"], group["mailEnabled"]) == (True, False)
    for result in results.values():
        assert all(p not in repr(result) for p in passwords)


def test_member_changes_go_as_deltas_only(graph: Graph) -> None:
    ids = graph.users(50)
    [created] = graph.export([group_add(100, ids[:30])]).values()
    gid = str(created.anchor)
    sent_before = len(graph.client.sent)
    requests_before = graph.client.traffic.requests
    change = ExportChange(100, ExportKind.MODIFY, f"CN={gid},OU=Groups", "group", anchor=gid,
                          attributes={"description": ["churned"]},
                          value_adds={"members": list(refs(ids[30:50]))},
                          value_removes={"members": list(refs(ids[:3]))})
    [result] = graph.export([change]).values()
    assert result.ok, result
    assert graph.members(gid) == set(ids[3:50])
    assert graph.get(f"/groups/{gid}").json()["description"] == "churned"
    sent = graph.client.sent[sent_before:]
    # The attributes, then 20 adds in one bind and 3 removals by $ref, each after the
    # attributes (dependsOn): 5 requests in one $batch, and no whole-list replace.
    assert graph.client.traffic.requests - requests_before == 1
    assert [r["method"] for r in sent] == ["PATCH", "PATCH", "DELETE", "DELETE", "DELETE"]
    assert sent[0]["body"] == {"description": "churned"} and "dependsOn" not in sent[0]
    assert all(r["dependsOn"] == [sent[0]["id"]] for r in sent[1:])
    assert len(sent[1]["body"]["members@odata.bind"]) == 20
    assert all(set(r.get("body", {})) <= {"members@odata.bind"} for r in sent[1:])
    # Sent again (an export whose results were lost): adds and removes already done count as
    # done.
    [again] = graph.export([change]).values()
    assert again.ok, again
    assert graph.members(gid) == set(ids[3:50])


def test_attributes_are_patched_and_an_empty_list_clears(graph: Graph) -> None:
    [uid] = graph.users(1)
    change = ExportChange(0, ExportKind.MODIFY, f"CN={uid},OU=Users", "user", anchor=uid,
                          attributes={"jobTitle": ["Engineer"], "accountEnabled": ["false"]})
    assert graph.export([change])[0].ok
    shown = graph.get(f"/users/{uid}").json()
    assert (shown["jobTitle"], shown["accountEnabled"]) == ("Engineer", False)
    change.attributes = {"jobTitle": []}
    assert graph.export([change])[0].ok
    assert graph.get(f"/users/{uid}").json()["jobTitle"] is None
    assert graph.client.sent[-1]["body"] == {"jobTitle": None}


def test_the_manager_is_set_and_cleared(graph: Graph) -> None:
    boss, report = graph.users(2)
    assert graph.get(f"/users/{report}/manager").status_code == 404  # none yet
    change = ExportChange(1, ExportKind.MODIFY, f"CN={report},OU=Users", "user",
                          anchor=report, value_adds={"manager": list(refs([boss]))})
    assert graph.export([change])[1].ok
    assert graph.client.sent[-1]["method"] == "PUT"
    assert graph.get(f"/users/{report}/manager").json()["id"] == boss
    change.value_adds, change.value_removes = {}, {"manager": list(refs([boss]))}
    assert graph.export([change])[1].ok
    assert graph.client.sent[-1]["method"] == "DELETE"
    assert graph.get(f"/users/{report}/manager").status_code == 404
    # A new user with a manager: the PUT waits for the create's answer.
    results = graph.export([user_add(7, manager=list(refs([boss])))])
    assert results[7].ok, results
    assert graph.get(f"/users/{results[7].anchor}/manager").json()["id"] == boss


def test_deletes_and_a_delete_of_a_gone_object(graph: Graph) -> None:
    ids = graph.users(2)
    [group] = graph.export([group_add(100, ids)]).values()
    deletes = [ExportChange(i, ExportKind.DELETE, f"CN={a},OU=Users", "user", anchor=a)
               for i, a in enumerate(ids)]
    deletes.append(ExportChange(100, ExportKind.DELETE, "CN=g", "group", anchor=group.anchor))
    assert all(r.ok for r in graph.export(deletes).values())
    assert graph.get(f"/users/{ids[0]}").status_code == 404
    assert graph.get(f"/groups/{group.anchor}").status_code == 404
    assert all(r.ok for r in graph.export(deletes).values())  # 404: done


def test_a_duplicate_user_principal_name_fails_alone(graph: Graph) -> None:
    graph.users(1)
    duplicate = user_add(5)
    duplicate.attributes["userPrincipalName"] = ["u0@contoso.test"]
    results = graph.export([user_add(4), duplicate, user_add(6)])
    assert results[4].ok and results[6].ok
    failed = results[5]
    assert (failed.ok, failed.error_code, failed.retryable, failed.anchor) == (
        False, ErrorCode.ATTRIBUTE_VALUE_MUST_BE_UNIQUE, False, None)
    assert "userPrincipalName" in (failed.error_detail or "")
    assert "password" not in (failed.error_detail or "").lower()
    taken = ExportChange(6, ExportKind.MODIFY, "CN=u6", "user", anchor=results[6].anchor,
                         attributes={"proxyAddresses": ["SMTP:a@contoso.test"]})
    assert graph.export([taken])[6].ok
    again = ExportChange(4, ExportKind.MODIFY, "CN=u4", "user", anchor=results[4].anchor,
                         attributes={"proxyAddresses": ["smtp:A@contoso.test"],
                                     "jobTitle": ["x"]})
    failed = graph.export([again])[4]
    assert (failed.ok, failed.error_code) == (False, ErrorCode.ATTRIBUTE_VALUE_MUST_BE_UNIQUE)
    assert (failed.error_detail or "").startswith(
        "update attributes: AttributeValueMustBeUnique: proxyAddresses: Another object")


def test_a_reference_without_anchor_is_not_sent_and_fails_retryable(graph: Graph) -> None:
    ids = graph.users(2)
    change = group_add(100, ids)
    change.attributes["members"].append(ExportRef("CN=later,OU=People"))
    result = graph.export([change])[100]
    assert (result.ok, result.error_code, result.retryable) == (
        False, ErrorCode.GRAPH_REFERENCE_PENDING, True)
    assert result.anchor and graph.members(result.anchor) == set(ids)  # the rest is sent
    assert "CN=later,OU=People" in (result.error_detail or "")


@pytest.fixture
def throttled(clouddir_factory: Callable[..., CloudDirTenant]
              ) -> Iterator[Callable[..., Graph]]:
    made: list[Graph] = []

    def make(budget: int, window: float, **client: Any) -> Graph:
        g = Graph(clouddir_factory(write_budget=budget, write_window=window), **client)
        made.append(g)
        return g

    yield make
    for g in made:
        g.client.close()


def test_throttled_writes_are_retried(throttled: Callable[..., Graph]) -> None:
    graph = throttled(10, 1.0)
    ids = graph.users(40)
    assert len(set(ids)) == 40
    assert graph.client.traffic.retried_items > 0  # 429s came back, and were retried
    results = graph.export([group_add(100, ids)])
    assert results[100].ok and graph.members(str(results[100].anchor)) == set(ids)


def test_a_write_still_throttled_after_the_retries_fails_retryable(
        throttled: Callable[..., Graph]) -> None:
    graph = throttled(3, 600.0, max_retries=0)
    results = graph.export([user_add(i) for i in range(6)])
    ok = [r for r in results.values() if r.ok]
    failed = [r for r in results.values() if not r.ok]
    assert len(ok) == 3 and len(failed) == 3
    for result in failed:
        assert (result.error_code, result.retryable) == ("TooManyRequests", True)
    assert math.ceil(6 / 20) == graph.client.traffic.requests


def test_an_initial_load_stays_under_the_request_floor(graph: Graph) -> None:
    ids = graph.users(200)
    results = graph.export([group_add(1000 + g, ids[g * 30:g * 30 + 30]) for g in range(6)])
    assert all(r.ok for r in results.values())
    objects, memberships = 206, 180
    floor = math.ceil(objects / 20) + math.ceil(memberships / 20)
    # users: 10 full batches; groups: the creates (20 binds each), then the other 10 members
    # of each group in one batch.
    assert graph.client.traffic.requests == 12 <= floor
