"""A user's manager and direct reports through msgraph-sdk's own request builders, against a
real clouddir: PUT / GET / DELETE manager, directReports paged, $expand=manager on get and
list, manager@delta in /users/delta, and the sync API's manager as the same fact."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from tests.clouddir.test_clouddir_graph_sdk import graph_client
from tests.harness.clouddir_server import CloudDirTenant, user

PASSWORD = {"password": "Pa55-word!"}


def _refs(value: Any) -> list[str] | None:
    """manager@delta as ids (the SDK parses additional data's ids into UUIDs)."""
    if value is None:
        return None
    assert all(v["@odata.type"] == "#microsoft.graph.user" for v in value)
    return [str(v["id"]) for v in value]


async def _new_users(client: Any, names: list[str]) -> list[Any]:
    from msgraph.generated.models.password_profile import PasswordProfile
    from msgraph.generated.models.user import User

    return [await client.users.post(User(
        account_enabled=True, display_name=name.title(), mail_nickname=name,
        user_principal_name=f"{name}@contoso.test",
        password_profile=PasswordProfile(password="Pa55-word!"))) for name in names]


async def manager_scenario(tenant: CloudDirTenant) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph.generated.models.reference_update import ReferenceUpdate
    from msgraph.generated.users.item.direct_reports.direct_reports_request_builder import (
        DirectReportsRequestBuilder,
    )
    from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    client = graph_client(tenant)
    base = f"{tenant.url}/v1.0"
    boss, *reports = await _new_users(client, ["boss", "r1", "r2", "r3"])

    with pytest.raises(ODataError) as none:
        await client.users.by_user_id(reports[0].id).manager.get()
    assert none.value.response_status_code == 404
    assert none.value.error.code == "Request_ResourceNotFound"

    # Both @odata.id forms Graph documents: .../directoryObjects/{id} and .../users/{id}.
    for i, report in enumerate(reports):
        kind = "directoryObjects" if i % 2 == 0 else "users"
        await client.users.by_user_id(report.id).manager.ref.put(
            ReferenceUpdate(odata_id=f"{base}/{kind}/{boss.id}"))
    got = await client.users.by_user_id(reports[1].id).manager.get()
    assert got.id == boss.id and got.odata_type == "#microsoft.graph.user"

    query = DirectReportsRequestBuilder.DirectReportsRequestBuilderGetQueryParameters(top=2)
    page = await client.users.by_user_id(boss.id).direct_reports.get(
        RequestConfiguration(query_parameters=query))
    seen = [o.id for o in page.value]
    assert len(seen) == 2 and page.odata_next_link
    page = await client.users.by_user_id(boss.id).direct_reports.with_url(
        page.odata_next_link).get()
    seen += [o.id for o in page.value]
    assert sorted(seen) == sorted(r.id for r in reports) and not page.odata_next_link

    one = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
        expand=["manager($select=id)"], select=["id", "displayName"])
    fetched = await client.users.by_user_id(reports[2].id).get(
        RequestConfiguration(query_parameters=one))
    assert fetched.manager.id == boss.id and fetched.display_name == "R3"

    listed = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        expand=["manager($select=id)"], select=["id"])
    users = (await client.users.get(RequestConfiguration(query_parameters=listed))).value
    managers = {u.id: (u.manager.id if u.manager else None) for u in users}
    assert managers == {boss.id: None, **{r.id: boss.id for r in reports}}

    # A delta from here on sees a manager removal and a change as manager@delta.
    from msgraph.generated.users.delta.delta_request_builder import DeltaRequestBuilder

    dq = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
        select=["displayName", "manager"])
    first = await client.users.delta.get(RequestConfiguration(query_parameters=dq))
    initial = {u.id: _refs(u.additional_data.get("manager@delta")) for u in first.value}
    assert initial[reports[0].id] == [boss.id]
    assert initial[boss.id] == []
    assert first.odata_delta_link and "manager" in first.odata_delta_link

    await client.users.by_user_id(reports[0].id).manager.ref.delete()
    with pytest.raises(ODataError) as gone:
        await client.users.by_user_id(reports[0].id).manager.ref.delete()
    assert gone.value.response_status_code == 404
    await client.users.by_user_id(reports[1].id).manager.ref.put(
        ReferenceUpdate(odata_id=f"{base}/directoryObjects/{reports[2].id}"))
    later = await client.users.delta.with_url(first.odata_delta_link).get()
    changed = {u.id: _refs(u.additional_data.get("manager@delta")) for u in later.value}
    assert changed == {reports[0].id: [], reports[1].id: [reports[2].id]}

    # Deleting a manager clears its reports' manager (and a delta shows it).
    await client.users.by_user_id(reports[2].id).delete()
    with pytest.raises(ODataError):
        await client.users.by_user_id(reports[1].id).manager.get()
    last = await client.users.delta.with_url(later.odata_delta_link).get()
    entries = {u.id: u.additional_data for u in last.value}
    assert entries[reports[1].id]["manager@delta"] == []
    assert "@removed" in entries[reports[2].id]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_manager_and_direct_reports_through_the_sdk(clouddir: CloudDirTenant) -> None:
    asyncio.run(manager_scenario(clouddir))


def test_sync_api_manager_is_graphs_manager(clouddir: CloudDirTenant) -> None:
    """The sync API carries a manager as its DN; Graph reads the same link, both ways, and a
    manager named before it exists is resolved when read."""
    results = clouddir.export_ok(2, [
        user("1", "emp", "emp@contoso.test", manager=["CN=boss"]),
        user("2", "boss", "boss@contoso.test"),
        user("3", "emp2", "emp2@contoso.test", manager=["CN=boss"]),
    ])
    emp, boss, emp2 = (r["id"] for r in results)
    with clouddir.client() as http:
        assert http.get(f"/v1.0/users/{emp}/manager").json()["id"] == boss
        assert http.get(f"/v1.0/users/{emp2}/manager").json()["id"] == boss
        reports = http.get(f"/v1.0/users/{boss}/directReports").json()["value"]
        assert [r["id"] for r in reports] == [emp2]  # linked when written; emp when re-sent
        # Graph refuses to change a synced user's manager (it is mastered on premises).
        refused = http.put(f"/v1.0/users/{emp}/manager/$ref",
                           json={"@odata.id": f"{clouddir.url}/v1.0/users/{emp2}"})
        assert refused.status_code == 400
    clouddir.export_ok(2, [{"ref": "1", "op": "update", "object_type": "user", "id": emp,
                            "attributes": {"manager": ["CN=boss"]}}])
    with clouddir.client() as http:
        reports = http.get(f"/v1.0/users/{boss}/directReports").json()["value"]
        assert sorted(r["id"] for r in reports) == sorted([emp, emp2])
        # A cloud-born user's manager set through Graph is the sync API's manager DN.
        cloud = http.post("/v1.0/users", json={
            "displayName": "c", "userPrincipalName": "c@contoso.test",
            "passwordProfile": PASSWORD}).json()
        put = http.put(f"/v1.0/users/{cloud['id']}/manager/$ref",
                       json={"@odata.id": f"{clouddir.url}/v1.0/directoryObjects/{boss}"})
        assert put.status_code == 204, put.text
    entries, _token, _pages = clouddir.import_all(2)
    by_id = {e["id"]: e for e in entries}
    assert by_id[cloud["id"]]["attributes"]["manager"] == ["CN=boss"]
    clouddir.export_ok(2, [{"ref": "d", "op": "delete", "object_type": "user", "id": boss}])
    entries, _token, _pages = clouddir.import_all(2)
    assert all("manager" not in e["attributes"] for e in entries)
    with clouddir.client() as http:
        assert http.get(f"/v1.0/users/{emp}/manager").status_code == 404


def test_manager_routes_answer_bad_input_with_4xx(clouddir: CloudDirTenant) -> None:
    with clouddir.client() as http:
        a = http.post("/v1.0/users", json={"displayName": "a", "userPrincipalName":
                                           "a@contoso.test", "passwordProfile": PASSWORD}).json()
        g = http.post("/v1.0/groups", json={"displayName": "g"}).json()
        ref = f"/v1.0/users/{a['id']}/manager/$ref"
        cases: list[tuple[httpx.Response, int]] = [
            (http.put(ref, json={}), 400),
            (http.put(ref, json=[1]), 400),
            (http.put(ref, json={"@odata.id": 17}), 400),
            (http.put(ref, json={"@odata.id": "x" * 5000}), 400),
            (http.put(ref, json={"@odata.id": f"{clouddir.url}/v1.0/users/{'0' * 8}"}), 404),
            (http.put(ref, json={"@odata.id": f"/v1.0/groups/{g['id']}"}), 400),
            (http.put(ref, json={"@odata.id": f"/v1.0/users/{a['id']}"}), 400),
            (http.put(ref, content=b"{not json"), 400),
            (http.put(ref, content=b"{}", headers={"Content-Type": "text/plain"}), 415),
            (http.put(f"/v1.0/users/{g['id']}/manager/$ref",
                      json={"@odata.id": f"/v1.0/users/{a['id']}"}), 404),
            (http.put("/v1.0/users/%00/manager/$ref", json={"@odata.id": "x"}), 400),
            (http.delete(ref), 404),
            (http.post(ref, json={}), 405),
            (http.get(f"/v1.0/users/{a['id']}/manager"), 404),
            (http.get(f"/v1.0/users/{'0' * 8}/manager"), 404),
            (http.get(f"/v1.0/users/{'!' * 8}/directReports"), 400),
            (http.get(f"/v1.0/users/{a['id']}/directReports", params={"$top": "0"}), 400),
            (http.get(f"/v1.0/users/{a['id']}/directReports",
                      params={"$skiptoken": "x" * 30}), 400),
            (http.get(f"/v1.0/users/{a['id']}/directReports",
                      params={"$select": "a b"}), 400),
            (http.get(f"/v1.0/users/{a['id']}", params={"$expand": "memberOf"}), 400),
            (http.get("/v1.0/users", params={"$expand": "manager($select=(("}), 400),
            (http.get("/v1.0/users", params={"$expand": "m" * 5000}), 400),
            (http.get("/v1.0/users/delta", params={"$expand": "owners"}), 400),
        ]
        for response, status in cases:
            assert response.status_code == status, (response.request.url, response.text)
            assert response.json()["error"]["code"]


def test_delta_keeps_to_the_selected_properties(clouddir: CloudDirTenant) -> None:
    with clouddir.client() as http:
        boss = http.post("/v1.0/users", json={"displayName": "B", "userPrincipalName":
                                              "b@contoso.test", "passwordProfile": PASSWORD,
                                              "employeeId": "E1"}).json()
        emp = http.post("/v1.0/users", json={"displayName": "E", "userPrincipalName":
                                             "e@contoso.test", "passwordProfile": PASSWORD}).json()
        http.put(f"/v1.0/users/{emp['id']}/manager/$ref",
                 json={"@odata.id": f"/v1.0/users/{boss['id']}"}).raise_for_status()
        plain = http.get("/v1.0/users/delta", params={"$select": "displayName"}).json()
        assert {frozenset(u) for u in plain["value"]} == {
            frozenset({"@odata.type", "id", "displayName"})}
        assert "%24select=displayName" in plain["@odata.deltaLink"]
        expanded = http.get("/v1.0/users/delta", params={
            "$select": "employeeId", "$expand": "manager($select=id)"}).json()
        by_id = {u["id"]: u for u in expanded["value"]}
        assert by_id[boss["id"]] == {"@odata.type": "#microsoft.graph.user", "id": boss["id"],
                                     "employeeId": "E1", "manager@delta": []}
        assert by_id[emp["id"]]["manager@delta"] == [
            {"@odata.type": "#microsoft.graph.user", "id": boss["id"]}]
