"""The Graph-shaped admin API over plain HTTP: limits, errors, queries, paging, delta, $batch."""

from __future__ import annotations

from typing import Any

import httpx
from tests.harness.clouddir_server import CloudDirTenant, user

BASE = "https://graph.microsoft.com/v1.0/directoryObjects/"


def new_user(http: httpx.Client, name: str, **extra: Any) -> dict[str, Any]:
    response = http.post("/v1.0/users", json={"displayName": name, "mailNickname": name,
                                              "userPrincipalName": f"{name}@contoso.test",
                                              "passwordProfile": {"password": "Pa55-word!"},
                                              **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_errors_are_graph_shaped(clouddir: CloudDirTenant) -> None:
    unauth = httpx.get(f"{clouddir.url}/v1.0/users")
    assert unauth.status_code == 401
    assert unauth.json()["error"]["code"] == "InvalidAuthenticationToken"
    with clouddir.client() as http:
        new_user(http, "ann")
        dup = http.post("/v1.0/users", json={"displayName": "x", "mailNickname": "x2",
                                             "userPrincipalName": "ANN@contoso.test"})
        assert dup.status_code == 400 and dup.json()["error"]["code"] == "Request_BadRequest"
        missing = http.get("/v1.0/users/does-not-exist")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "Request_ResourceNotFound"
        bad = http.get("/v1.0/users", params={"$filter": "displayName gt 'a'"})
        assert bad.status_code == 400 and "innerError" in bad.json()["error"]


def test_synced_objects_are_read_only_in_the_admin_api(clouddir: CloudDirTenant) -> None:
    [synced] = clouddir.export_ok(2, [user("1", "S1", "s@contoso.test")])
    with clouddir.client() as http:
        got = http.get(f"/v1.0/users/{synced['id']}").json()
        assert got["onPremisesSyncEnabled"] is True and got["onPremisesImmutableId"] == "S1"
        patch = http.patch(f"/v1.0/users/{synced['id']}", json={"displayName": "x"})
        assert patch.status_code == 400 and "on-premises mastered" in patch.json()[
            "error"]["message"]
        assert http.delete(f"/v1.0/users/{synced['id']}").status_code == 400


def test_members_odata_bind_takes_at_most_20(clouddir: CloudDirTenant) -> None:
    with clouddir.client() as http:
        users = [new_user(http, f"u{i}") for i in range(21)]
        binds = [BASE + u["id"] for u in users]
        group = http.post("/v1.0/groups", json={"displayName": "G", "mailNickname": "g",
                                                "securityEnabled": True, "mailEnabled": False,
                                                "members@odata.bind": binds[:20]})
        assert group.status_code == 201
        gid = group.json()["id"]
        too_many = http.patch(f"/v1.0/groups/{gid}", json={"members@odata.bind": binds})
        assert too_many.status_code == 400
        assert http.patch(f"/v1.0/groups/{gid}",
                          json={"members@odata.bind": binds[20:]}).status_code == 204
        seen: list[str] = []
        url: str | None = f"/v1.0/groups/{gid}/members?$top=8"
        while url:
            page = http.get(url).json()
            seen += [m["id"] for m in page["value"]]
            url = page.get("@odata.nextLink")
        assert sorted(seen) == sorted(u["id"] for u in users)


def test_filter_select_top_count(clouddir: CloudDirTenant) -> None:
    with clouddir.client() as http:
        for name in ("alice", "alan", "bob", "carol"):
            new_user(http, name, jobTitle="Dev" if name != "bob" else "Ops")
        query = {"$filter": "startswith(displayName,'al') or jobTitle eq 'Ops'",
                 "$select": "displayName", "$count": "true", "$top": "2"}
        assert http.get("/v1.0/users", params=query).status_code == 400  # no ConsistencyLevel
        page = http.get("/v1.0/users", params=query,
                        headers={"ConsistencyLevel": "eventual"}).json()
        assert page["@odata.count"] == 3
        assert [set(v) for v in page["value"]] == [{"@odata.type", "id", "displayName"}] * 2
        rest = http.get(page["@odata.nextLink"], headers={"ConsistencyLevel": "eventual"}).json()
        names = [v["displayName"] for v in page["value"] + rest["value"]]
        assert sorted(names) == ["alan", "alice", "bob"]
        both = http.get("/v1.0/users", params={
            "$filter": "jobTitle eq 'Dev' and not startswith(displayName,'al')"}).json()
        assert [v["displayName"] for v in both["value"]] == ["carol"]
        count = http.get("/v1.0/users/$count", headers={"ConsistencyLevel": "eventual"})
        assert count.text == "4"


def test_group_delta_with_members_delta(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(member_page_size=2)
    with tenant.client() as http:
        users = [new_user(http, f"u{i}") for i in range(3)]
        gid = http.post("/v1.0/groups", json={
            "displayName": "Team", "mailNickname": "team", "groupTypes": ["Unified"],
            "mailEnabled": True, "securityEnabled": False,
            "members@odata.bind": [BASE + u["id"] for u in users]}).json()["id"]
        members: set[str] = set()
        url = "/v1.0/groups/delta()"
        pages = 0
        while True:
            page = http.get(url).json()
            pages += 1
            for group in page["value"]:
                assert group["id"] == gid
                members |= {m["id"] for m in group.get("members@delta", [])}
            if "@odata.deltaLink" in page:
                break
            url = page["@odata.nextLink"]
        assert pages >= 2 and members == {u["id"] for u in users}  # paged, then merged
        delta_link = page["@odata.deltaLink"]
        assert http.delete(f"/v1.0/groups/{gid}/members/{users[0]['id']}/$ref"
                           ).status_code == 204
        changes = http.get(delta_link).json()
        [group] = changes["value"]
        assert group["members@delta"] == [{"@odata.type": "#microsoft.graph.user",
                                           "id": users[0]["id"],
                                           "@removed": {"reason": "deleted"}}]
        http.delete(f"/v1.0/groups/{gid}")
        gone = http.get(changes["@odata.deltaLink"]).json()["value"]
        assert gone[0]["id"] == gid and gone[0]["@removed"] == {"reason": "deleted"}


def test_batch_runs_up_to_20_requests(clouddir: CloudDirTenant) -> None:
    with clouddir.client() as http:
        requests = [{"id": str(i), "method": "POST", "url": "/users",
                     "headers": {"Content-Type": "application/json"},
                     "body": {"displayName": f"b{i}", "mailNickname": f"b{i}",
                              "userPrincipalName": f"b{i}@contoso.test",
                              "passwordProfile": {"password": "Pa55-word!"}}} for i in range(20)]
        answer = http.post("/v1.0/$batch", json={"requests": requests})
        assert answer.status_code == 200
        statuses = {r["id"]: r["status"] for r in answer.json()["responses"]}
        assert set(statuses.values()) == {201} and len(statuses) == 20
        too_many = http.post("/v1.0/$batch", json={"requests": [*requests, requests[0]]})
        assert too_many.status_code == 400
        mixed = http.post("/v1.0/$batch", json={"requests": [
            {"id": "a", "method": "GET", "url": "/users/nope"},
            {"id": "b", "method": "GET", "url": "/users?$top=1"}]}).json()["responses"]
        assert [r["status"] for r in mixed] == [404, 200]
