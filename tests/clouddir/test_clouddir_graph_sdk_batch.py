"""msgraph-sdk against clouddir: a $batch built with msgraph-core's own batch classes
(creates, a group with members@odata.bind, dependsOn), group delta with members@delta,
Graph's error codes and messages as ODataError, the expired delta token, and 429 with
Retry-After when the tenant's write budget is spent (kiota's RetryHandler included)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from tests.clouddir.test_clouddir_graph_sdk import graph_client
from tests.harness.clouddir_server import CloudDirTenant

DUPLICATE_UPN = "Another object with the same value for property userPrincipalName already exists."


def _user(name: str, password: str | None = "Pa55-word!", **extra: Any) -> Any:
    from msgraph.generated.models.password_profile import PasswordProfile
    from msgraph.generated.models.user import User

    return User(account_enabled=True, display_name=name.title(), mail_nickname=name,
                user_principal_name=f"{name}@contoso.test",
                password_profile=PasswordProfile(password=password) if password else None,
                **extra)


async def batch_scenario(tenant: CloudDirTenant) -> None:
    from msgraph.generated.models.group import Group
    from msgraph_core.requests.batch_request_content import BatchRequestContent
    from msgraph_core.requests.batch_request_item import BatchRequestItem

    client = graph_client(tenant)
    base = f"{tenant.url}/v1.0"
    first = await client.users.post(_user("first"))

    def item(info: Any, item_id: str, depends: list[str] | None = None) -> Any:
        info.path_parameters["baseurl"] = base
        return BatchRequestItem(info, id=item_id, depends_on=depends or [])

    group = Group(display_name="Crew", mail_enabled=False, mail_nickname="crew",
                  security_enabled=True, additional_data={
                      "members@odata.bind": [f"{base}/directoryObjects/{first.id}"]})
    items = {
        "a": item(client.users.to_post_request_information(_user("alpha")), "a"),
        "b": item(client.users.to_post_request_information(_user("beta", employee_id="E42",
                                                                 usage_location="FR")),
                  "b", ["a"]),
        "g": item(client.groups.to_post_request_information(group), "g", ["b"]),
        # A duplicate UPN fails, and what depends on it is not run (424).
        "dup": item(client.users.to_post_request_information(_user("alpha")), "dup"),
        "after": item(client.users.to_post_request_information(_user("gamma")), "after",
                      ["dup"]),
    }
    response = await client.batch.post(BatchRequestContent(items))
    assert response.get_response_status_codes() == {"a": 201, "b": 201, "g": 201, "dup": 400,
                                                     "after": 424}
    # msgraph-core reads an item's body only when it is a base64 string (Graph, like clouddir,
    # answers JSON objects there), so the results are read back with the request builders.
    listed = {u.user_principal_name: u for u in (await client.users.get()).value}
    assert sorted(listed) == ["alpha@contoso.test", "beta@contoso.test", "first@contoso.test"]
    beta = listed["beta@contoso.test"]
    assert beta.employee_id == "E42" and beta.usage_location == "FR"
    assert beta.password_profile is None
    [crew] = (await client.groups.get()).value
    members = await client.groups.by_group_id(crew.id).members.get()
    assert [m.id for m in members.value] == [first.id]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_sdk_batch_classes_with_depends_on(clouddir: CloudDirTenant) -> None:
    asyncio.run(batch_scenario(clouddir))


async def delta_and_errors_scenario(tenant: CloudDirTenant) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.groups.delta.delta_request_builder import DeltaRequestBuilder
    from msgraph.generated.models.group import Group
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph.generated.models.reference_create import ReferenceCreate
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    client = graph_client(tenant)
    base = f"{tenant.url}/v1.0"
    users = [await client.users.post(_user(n)) for n in ("ann", "bob", "cid")]
    team = await client.groups.post(Group(
        display_name="Team", mail_enabled=False, mail_nickname="team", security_enabled=True,
        additional_data={"members@odata.bind": [f"{base}/directoryObjects/{u.id}"
                                                for u in users[:2]]}))
    query = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
        select=["displayName", "members"])
    first = await client.groups.delta.get(RequestConfiguration(query_parameters=query))
    [entry] = first.value
    assert entry.display_name == "Team" and entry.description is None
    assert sorted(str(m["id"]) for m in entry.additional_data["members@delta"]) == sorted(
        u.id for u in users[:2])

    # Members change: one removed, one added through members@odata.bind on PATCH, and one
    # already there bound again (ignored, as Graph ignores it there).
    await client.groups.by_group_id(team.id).members.by_directory_object_id(
        users[0].id).ref.delete()
    await client.groups.by_group_id(team.id).patch(Group(additional_data={
        "members@odata.bind": [f"{base}/directoryObjects/{users[2].id}",
                               f"{base}/directoryObjects/{users[1].id}"]}))
    with pytest.raises(ODataError) as twice:
        await client.groups.by_group_id(team.id).members.ref.post(
            ReferenceCreate(odata_id=f"{base}/directoryObjects/{users[1].id}"))
    assert twice.value.response_status_code == 400
    assert "already exist" in twice.value.error.message
    later = await client.groups.delta.with_url(first.odata_delta_link).get()
    [entry] = later.value
    changes = {str(m["id"]): m.get("@removed") for m in entry.additional_data["members@delta"]}
    assert changes == {users[0].id: {"reason": "deleted"}, users[2].id: None}

    with pytest.raises(ODataError) as duplicate:
        await client.users.post(_user("ann"))
    assert duplicate.value.response_status_code == 400
    assert duplicate.value.error.code == "Request_BadRequest"
    assert duplicate.value.error.message == DUPLICATE_UPN
    with pytest.raises(ODataError) as missing:
        await client.users.by_user_id("0" * 36).get()
    assert missing.value.response_status_code == 404
    assert missing.value.error.code == "Request_ResourceNotFound"
    assert missing.value.error.inner_error.request_id
    bad = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(top=1000)
    with pytest.raises(ODataError) as top:
        await client.users.get(RequestConfiguration(query_parameters=bad))
    assert top.value.response_status_code == 400 and top.value.error.code == "BadRequest"
    with pytest.raises(ODataError) as no_password:
        await client.users.post(_user("dan", password=None))
    assert no_password.value.response_status_code == 400
    with pytest.raises(ODataError) as expired:
        await client.users.delta.with_url(f"{base}/users/delta?$deltatoken=99999999").get()
    assert expired.value.response_status_code == 410
    assert expired.value.error.code == "syncStateNotFound"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_sdk_group_delta_and_graph_errors(clouddir: CloudDirTenant) -> None:
    asyncio.run(delta_and_errors_scenario(clouddir))


def test_error_body_echoes_client_request_id(clouddir: CloudDirTenant) -> None:
    with clouddir.client() as http:
        for response in (
                http.get(f"/v1.0/users/{'0' * 36}", headers={"client-request-id": "abc-123"}),
                http.get("/v1.0/nowhere", headers={"client-request-id": "abc-123"}),
                http.get("/v1.0/users/delta", params={"$deltatoken": "not-a-token"},
                         headers={"client-request-id": "abc-123"})):
            inner = response.json()["error"]["innerError"]
            assert inner["client-request-id"] == "abc-123" and inner["request-id"]
            assert inner["date"].startswith("20")
        gone = http.get("/v1.0/users/delta", params={"$deltatoken": "not-a-token"})
        assert gone.status_code == 410 and gone.headers["location"].endswith("/v1.0/users/delta")
        assert http.get("/v1.0/users/delta", params={"$skiptoken": "???"}).status_code == 400


def test_immutable_id_is_unique_and_is_the_source_anchor(clouddir: CloudDirTenant) -> None:
    password = {"password": "Pa55-word!"}
    with clouddir.client() as http:
        a = http.post("/v1.0/users", json={"displayName": "a", "userPrincipalName":
                                           "a@contoso.test", "passwordProfile": password,
                                           "onPremisesImmutableId": "QUJD"})
        assert a.status_code == 201 and a.json()["onPremisesImmutableId"] == "QUJD"
        b = http.post("/v1.0/users", json={"displayName": "b", "userPrincipalName":
                                           "b@contoso.test", "passwordProfile": password,
                                           "onPremisesImmutableId": "QUJD"})
        assert b.status_code == 400
        assert b.json()["error"]["message"] == ("Another object with the same value for "
                                                "property onPremisesImmutableId already exists.")
        b = http.post("/v1.0/users", json={"displayName": "b", "userPrincipalName":
                                           "b@contoso.test", "passwordProfile": password})
        bid = b.json()["id"]
        assert http.patch(f"/v1.0/users/{bid}",
                          json={"onPremisesImmutableId": "QUJD"}).status_code == 400
        assert http.patch(f"/v1.0/users/{bid}",
                          json={"onPremisesImmutableId": "REVG"}).status_code == 204
        assert http.get(f"/v1.0/users/{bid}").json()["onPremisesImmutableId"] == "REVG"
        for bad in ({"onPremisesImmutableId": 5}, {"onPremisesImmutableId": "a b"},
                    {"onPremisesImmutableId": "x" * 100}, {"usageLocation": "FRA"},
                    {"employeeId": "x" * 17}, {"passwordProfile": {"password": 5}},
                    {"passwordProfile": "secret"}):
            response = http.patch(f"/v1.0/users/{bid}", json=bad)
            assert response.status_code == 400, (bad, response.text)
        g = http.post("/v1.0/groups", json={"displayName": "g", "onPremisesImmutableId": "x"})
        assert g.status_code == 400
    # The sync API sees the anchor: a sync add with it hard-matches the cloud-born user (and
    # is refused, the user being cloud-managed), never creating a second object.
    [r] = clouddir.export_ok(2, [{"ref": "1", "op": "add", "object_type": "user", "dn": "CN=x",
                                  "source_anchor": "REVG",
                                  "attributes": {"userPrincipalName": ["x@contoso.test"]}}])
    assert r["status"] == "error" and r["errors"][0]["code"] == "InvalidHardMatch"
    entries, _token, _pages = clouddir.import_all(2)
    assert {e["source_anchor"] for e in entries} == {"QUJD", "REVG"}
    assert all("password" not in str(e).lower() for e in entries)


async def throttle_scenario(tenant: CloudDirTenant) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from kiota_http.middleware.options import RetryHandlerOption
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    client = graph_client(tenant)
    no_retry = RequestConfiguration(options=[RetryHandlerOption(max_retries=0,
                                                                should_retry=False)])
    await client.users.post(_user("one"), no_retry)
    await client.users.post(_user("two"), no_retry)
    with pytest.raises(ODataError) as throttled:
        await client.users.post(_user("three"), no_retry)
    assert throttled.value.response_status_code == 429
    assert throttled.value.error.code == "TooManyRequests"
    wait = int(throttled.value.response_headers["retry-after"])
    assert 1 <= wait <= 3
    await asyncio.sleep(wait)
    assert (await client.users.post(_user("three"), no_retry)).id
    # With its default RetryHandler the SDK waits Retry-After itself: the caller sees success.
    started = time.monotonic()
    assert (await client.users.post(_user("four"))).id
    assert (await client.users.post(_user("five"))).id
    assert time.monotonic() - started >= 1


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_sdk_sees_429_with_retry_after(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(write_budget=2, write_window=6)
    asyncio.run(throttle_scenario(tenant))
    # In a $batch, the spent budget is the item's own 429 with its Retry-After.
    time.sleep(6)  # the whole budget back
    with tenant.client() as http:
        answer = http.post("/v1.0/$batch", json={"requests": [
            {"id": str(i), "method": "PATCH", "url": "/users/" + "0" * 36,
             "body": {"displayName": "x"}} for i in range(1)] + [
            {"id": f"c{i}", "method": "POST", "url": "/groups",
             "body": {"displayName": f"g{i}"}} for i in range(3)]})
    statuses = {r["id"]: (r["status"], r["headers"].get("retry-after", r["headers"].get(
        "Retry-After"))) for r in answer.json()["responses"]}
    assert statuses["0"] == (404, None)
    assert [s for s, _w in (statuses[f"c{i}"] for i in range(3))] == [201, 201, 429]
    assert int(statuses["c2"][1]) >= 1
    assert isinstance(answer, httpx.Response)
