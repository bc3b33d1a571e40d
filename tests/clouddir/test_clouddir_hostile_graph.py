"""The Graph face's newer routes under generated hostile input (manager, directReports,
$expand, delta tokens, passwordProfile, onPremisesImmutableId, dependsOn): every answer is
a 2xx or a Graph-shaped 4xx, never a 500."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.harness.clouddir_server import CloudDirTenant

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=40),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=20), inner, max_size=4), max_leaves=10)
TEXT = st.text(max_size=80)
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def seeded(clouddir: CloudDirTenant) -> tuple[CloudDirTenant, str]:
    with clouddir.client() as http:
        response = http.post("/v1.0/users", json={
            "displayName": "a", "userPrincipalName": "a@contoso.test",
            "passwordProfile": {"password": "Pa55-word!"}})
    assert response.status_code == 201, response.text
    return clouddir, response.json()["id"]


def _fine(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.request.url, response.text)
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] and error["message"] and "request-id" in error["innerError"]


@SETTINGS
@given(body=JSON, odata_id=TEXT)
def test_manager_ref_put_never_fails_the_server(seeded: tuple[CloudDirTenant, str], body: Any,
                                                odata_id: str) -> None:
    tenant, user_id = seeded
    with tenant.client() as http:
        _fine(http.put(f"/v1.0/users/{user_id}/manager/$ref", json=body))
        _fine(http.put(f"/v1.0/users/{user_id}/manager/$ref", json={"@odata.id": odata_id}))


@SETTINGS
@given(segment=TEXT, top=TEXT, skip=TEXT, select=TEXT, expand=TEXT, token=TEXT)
def test_reads_never_fail_the_server(seeded: tuple[CloudDirTenant, str], segment: str,
                                     top: str, skip: str, select: str, expand: str,
                                     token: str) -> None:
    tenant, user_id = seeded
    some = quote(segment, safe="") or "x"
    with tenant.client() as http:
        _fine(http.get(f"/v1.0/users/{some}/manager"))
        _fine(http.delete(f"/v1.0/users/{some}/manager/$ref"))
        _fine(http.get(f"/v1.0/users/{user_id}/directReports",
                       params={"$top": top, "$skiptoken": skip, "$select": select}))
        _fine(http.get(f"/v1.0/users/{user_id}", params={"$expand": expand}))
        _fine(http.get("/v1.0/users", params={"$expand": expand, "$select": select}))
        _fine(http.get("/v1.0/users/delta", params={"$deltatoken": token, "$select": select,
                                                   "$expand": expand}))


@SETTINGS
@given(profile=JSON, anchor=JSON, location=JSON, employee=JSON)
def test_user_writes_never_fail_the_server(seeded: tuple[CloudDirTenant, str], profile: Any,
                                           anchor: Any, location: Any, employee: Any) -> None:
    tenant, user_id = seeded
    body = {"passwordProfile": profile, "onPremisesImmutableId": anchor,
            "usageLocation": location, "employeeId": employee}
    with tenant.client() as http:
        _fine(http.patch(f"/v1.0/users/{user_id}", json=body))
        _fine(http.post("/v1.0/users", json={"displayName": "b",
                                             "userPrincipalName": "b@contoso.test", **body}))


@SETTINGS
@given(depends=JSON)
def test_batch_depends_on_never_fails_the_server(seeded: tuple[CloudDirTenant, str],
                                                 depends: Any) -> None:
    tenant, _user_id = seeded
    with tenant.client() as http:
        response = http.post("/v1.0/$batch", json={"requests": [
            {"id": "1", "method": "GET", "url": "/users/" + "0" * 36},
            {"id": "2", "method": "GET", "url": "/users", "dependsOn": depends},
            {"id": "3", "method": "GET", "url": "/users", "depends_on": depends}]})
    _fine(response)
    for item in response.json()["responses"]:
        assert item["status"] < 500, item
