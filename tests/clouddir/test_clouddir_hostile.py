"""clouddir under a hostile client: request body limit, $batch rules, value lengths, the
per-tenant object quota (on both stores: the PostgreSQL pass runs these against PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.clouddir.test_clouddir_graph_sdk import graph_client
from tests.harness.clouddir_server import CloudDirTenant, make_users
from tests.harness.clouddir_server import user as wire_user

from clouddir.value_limits import MAX_LENGTH


def user(ref: str, name: str) -> dict[str, Any]:
    return wire_user(ref, name, f"{name}@contoso.test", displayName=[name])


def _graph_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and "request-id" in error["innerError"]
    return error


def _users(tenant: CloudDirTenant) -> list[dict[str, Any]]:
    with tenant.client() as http:
        return http.get("/v1.0/users").json()["value"]


# --- request body limit ----------------------------------------------------------------------


def test_declared_body_above_limit_is_refused_before_reading(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(max_graph_request_bytes=1000)
    host, port = urlsplit(tenant.url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        # Declares 10 MB and sends none of it: the answer comes at once, not after a timeout.
        sock.sendall(f"POST /v1.0/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                     f"{tenant.token}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: 10000000\r\n\r\n".encode())
        head = ""
        while not head.endswith("}}}"):
            chunk = sock.recv(65536).decode()
            if not chunk:
                break
            head += chunk
    assert head.startswith("HTTP/1.1 413"), head
    assert '"RequestEntityTooLarge"' in head


def test_chunked_body_without_length_is_cut_off_at_the_limit(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(max_graph_request_bytes=1000)
    sent = 0

    def chunks() -> Any:
        nonlocal sent
        yield b'{"displayName": "'
        for _ in range(10_000):  # 10 MB if the server kept reading
            sent += 1
            yield b"x" * 1000

    with tenant.client() as http:
        response = http.post("/v1.0/users", content=chunks(),
                             headers={"Content-Type": "application/json"})
    _graph_error(response, 413, "RequestEntityTooLarge")
    assert _users(tenant) == []


def test_sync_api_body_limit_answers_batch_too_large(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(max_request_bytes=2000)
    response = tenant.export(2, [user(str(i), f"u{i}") for i in range(40)])
    _graph_error(response, 413, "BatchTooLarge")
    assert tenant.import_all(2)[0] == []


# --- $batch -----------------------------------------------------------------------------------


def test_batch_refuses_more_than_20_and_nested_batches(clouddir: CloudDirTenant) -> None:
    with clouddir.client() as http:
        many = [{"id": str(i), "method": "GET", "url": "/users"} for i in range(21)]
        _graph_error(http.post("/v1.0/$batch", json={"requests": many}), 400, "BadRequest")
        inner = {"requests": [{"id": "1", "method": "POST", "url": "/users",
                               "body": {"displayName": "x"}}]}
        answer = http.post("/v1.0/$batch", json={"requests": [
            {"id": "a", "method": "POST", "url": "/$batch", "body": inner},
            {"id": "b", "method": "POST", "url": "https://graph.example/v1.0/$batch",
             "body": inner},
            {"id": "c", "method": "GET", "url": "/users"},
            {"id": "d", "method": "GET", "url": 17},
            {"id": "e", "method": "BREW", "url": "/users"},
            {"id": "f", "method": "GET", "url": "/users", "headers": ["x"]},
        ]})
    assert answer.status_code == 200, answer.text
    statuses = {r["id"]: r["status"] for r in answer.json()["responses"]}
    assert statuses == {"a": 400, "b": 400, "c": 200, "d": 400, "e": 400, "f": 400}
    assert _users(clouddir) == []


def test_msgraph_sdk_batch_with_absolute_urls(clouddir: CloudDirTenant) -> None:
    from msgraph.generated.models.password_profile import PasswordProfile
    from msgraph.generated.models.user import User
    from msgraph_core.requests.batch_request_content import BatchRequestContent
    from msgraph_core.requests.batch_request_item import BatchRequestItem

    [existing] = make_users(clouddir, 1)

    async def run() -> dict[str, int]:
        client = graph_client(clouddir)
        base = f"{clouddir.url}/v1.0"
        # Absolute URLs, as the SDK sends them: a urllib request's full URL, and a request
        # information carrying the base URL the adapter fills in.
        get_item = BatchRequestItem.create_with_urllib_request(
            urllib.request.Request(f"{base}/users/{existing}", method="GET"))
        post_info = client.users.to_post_request_information(User(
            account_enabled=True, display_name="Batched", mail_nickname="batched",
            user_principal_name="batched@contoso.test",
            password_profile=PasswordProfile(password="Pa55-word!")))
        post_info.path_parameters["baseurl"] = base
        missing_info = client.users.by_user_id("0" * 8).to_get_request_information()
        items = {"get": get_item, "post": BatchRequestItem(post_info, id="post"),
                 "missing": BatchRequestItem(missing_info, id="missing")}
        get_item.id = "get"
        assert get_item.url.startswith(base) and items["post"].url.startswith(base)
        response = await client.batch.post(BatchRequestContent(items))
        return response.get_response_status_codes()

    statuses = asyncio.run(run())
    assert statuses == {"get": 200, "post": 201, "missing": 404}
    assert sorted(u["userPrincipalName"] for u in _users(clouddir)) == [
        "batched@contoso.test", "u0@contoso.test"]


# --- value lengths ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "most"), [("displayName", 256), ("givenName", 64),
                                             ("jobTitle", 128), ("department", 64)])
def test_graph_refuses_values_longer_than_entra_allows(clouddir: CloudDirTenant, name: str,
                                                       most: int) -> None:
    body = {"displayName": "A", "userPrincipalName": "a@contoso.test", "mailNickname": "a"}
    ok = clouddir.graph_create("users", {**body, name: "x" * most})
    assert ok.status_code == 201, ok.text
    with clouddir.client() as http:
        error = _graph_error(http.patch(f"/v1.0/users/{ok.json()['id']}",
                                        json={name: "y" * (most + 1)}), 400,
                             "Request_BadRequest")
        assert f"at most {most}" in error["message"]
        assert http.get(f"/v1.0/users/{ok.json()['id']}").json()[name] == "x" * most


def test_sync_api_refuses_the_long_object_alone(clouddir: CloudDirTenant) -> None:
    long_name = user("1", "long")
    long_name["attributes"]["displayName"] = ["x" * 10_000_000]
    nul = user("2", "nul")
    nul["attributes"]["department"] = ["a\x00b"]
    many = user("3", "many")
    many["attributes"]["proxyAddresses"] = [f"smtp:a{i}@x.test" for i in range(1001)]
    fine = user("4", "fine")
    results = clouddir.export_ok(2, [long_name, nul, many, fine])
    assert [r["status"] for r in results] == ["error", "error", "error", "ok"]
    assert [r["errors"][0]["code"] for r in results[:3]] == ["IdentityDataValidationFailed"] * 3
    assert "at most 256" in results[0]["errors"][0]["detail"]
    entries, _token, _pages = clouddir.import_all(2)
    assert [e["attributes"]["displayName"] for e in entries] == [["fine"]]


def test_sync_api_refuses_an_object_above_max_object_bytes(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(max_object_bytes=5000)
    big = user("1", "big")
    big["attributes"].update({f"extensionAttribute{i}": ["x" * 1000] for i in range(1, 7)})
    [result] = tenant.export_ok(2, [big])
    assert result["errors"][0]["code"] == "LargeObject"


# --- quota ------------------------------------------------------------------------------------


def test_quota_refuses_creates_and_allows_reads_updates_deletes(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(max_objects=3)
    results = tenant.export_ok(2, [user(str(i), f"u{i}") for i in range(4)])
    assert [r["status"] for r in results] == ["ok", "ok", "ok", "error"]
    assert results[3]["errors"][0]["code"] == "Directory_QuotaExceeded"
    refused = tenant.graph_create("users", {"displayName": "C", "mailNickname": "c",
                                            "userPrincipalName": "c@contoso.test"})
    _graph_error(refused, 400, "Directory_QuotaExceeded")
    # At quota: reads, updates and deletes still work, and a delete makes room.
    assert len(tenant.import_all(2)[0]) == 3
    [update] = tenant.export_ok(2, [{"ref": "0", "op": "update", "object_type": "user",
                                     "id": results[0]["id"],
                                     "attributes": {"displayName": ["renamed"]}}])
    assert update["status"] == "ok"
    [gone] = tenant.export_ok(2, [{"ref": "1", "op": "delete", "object_type": "user",
                                   "id": results[1]["id"]}])
    assert gone["status"] == "ok"
    again = tenant.graph_create("users", {"displayName": "C", "mailNickname": "c",
                                          "userPrincipalName": "c@contoso.test"})
    assert again.status_code == 201, again.text


def test_tenant_quota_command_sets_one_tenants_quota(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory()
    db = tenant.server.database
    cli = [sys.executable, "-m", "clouddir.cli", "tenant", "quota", tenant.tenant_id,
           "--db", db]
    shown = subprocess.run([*cli, "--max-objects", "1"], capture_output=True, text=True,
                           check=True)
    assert "quota:   1" in shown.stdout
    [first, second] = tenant.export_ok(1, [user("1", "a"), user("2", "b")])
    assert first["status"] == "ok" and second["errors"][0]["code"] == "Directory_QuotaExceeded"
    other = tenant.server.new_tenant("other")
    assert [r["status"] for r in other.export_ok(1, [user("1", "a"), user("2", "b")])] == [
        "ok", "ok"]
    subprocess.run([*cli, "--default"], capture_output=True, text=True, check=True)
    assert tenant.export_ok(1, [user("2", "b")])[0]["status"] == "ok"
    created = subprocess.run([sys.executable, "-m", "clouddir.cli", "tenant", "create", "q",
                              "--db", db, "--max-objects", "0", "--json"],
                             capture_output=True, text=True, check=True)
    token = json.loads(created.stdout)["token"]
    with httpx.Client(base_url=tenant.url, headers={"Authorization": f"Bearer {token}"}) as h:
        _graph_error(h.post("/v1.0/groups", json={"displayName": "g"}), 400,
                     "Directory_QuotaExceeded")
    missing = subprocess.run([*cli[:5], "nope", "--db", db], capture_output=True, text=True)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "no tenant 'nope'" in missing.stderr


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(set(MAX_LENGTH) - {"userPrincipalName", "mailNickname",
                                                       "proxyAddresses", "manager"})),
       extra=st.integers(min_value=-3, max_value=3))
def test_sync_api_keeps_each_documented_bound(clouddir: CloudDirTenant, name: str,
                                              extra: int) -> None:
    length = MAX_LENGTH[name] + extra
    change = user("1", f"p{abs(hash((name, extra)))}")
    change["attributes"][name] = ["é" * length]  # characters, not bytes, are counted
    [result] = clouddir.export_ok(2, [change])
    if extra <= 0:
        assert result["status"] == "ok", result
    else:
        assert result["errors"][0]["code"] == "IdentityDataValidationFailed", result
        assert f"at most {MAX_LENGTH[name]}" in result["errors"][0]["detail"]


def test_last_resort_answers_500_with_graph_body_and_logs(tmp_path: Any,
                                                          caplog: pytest.LogCaptureFixture
                                                          ) -> None:
    from clouddir.app import create_app
    from clouddir.settings import Limits
    from clouddir.storage import open_store

    store = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    app = create_app(store, Limits())
    store.close()  # every store call now fails: an unexpected error, as a bug would be

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://clouddir") as http:
            return await http.get("/v1.0/users", headers={"Authorization": "Bearer x"})

    _graph_error(asyncio.run(get()), 500, "InternalServerError")
    assert "unexpected error on GET /v1.0/users" in caplog.text
