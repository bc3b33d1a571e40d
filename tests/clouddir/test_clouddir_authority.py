"""The source of authority in clouddir: Graph's onPremisesSyncBehavior (isCloudManaged) on
users and groups, and the sync API's answer to writes to a cloud-managed object
(``ObjectCloudManaged``, the other changes of the batch applied), against a real server."""

from __future__ import annotations

from typing import Any

import pytest
from tests.harness.clouddir_server import CloudDirTenant, group, make_users, user

BEHAVIOR = "onPremisesSyncBehavior"


def _switch(tenant: CloudDirTenant, collection: str, object_id: str, cloud: bool) -> None:
    with tenant.client() as http:
        response = http.patch(f"/v1.0/{collection}/{object_id}/{BEHAVIOR}",
                              json={"isCloudManaged": cloud})
    assert response.status_code == 204, response.text


def _update(object_type: str, object_id: str, ref: str, **attrs: list[str]) -> dict[str, Any]:
    return {"ref": ref, "op": "update", "object_type": object_type, "id": object_id,
            "attributes": attrs}


def test_graph_get_patch_and_select(clouddir: CloudDirTenant) -> None:
    ids = make_users(clouddir, 2)
    [g] = clouddir.export_ok(2, [group("g", "G1", {"add": ids})])
    with clouddir.client() as http:
        got = http.get(f"/v1.0/users/{ids[0]}/{BEHAVIOR}").json()
        assert got["isCloudManaged"] is False and got["id"] == ids[0]
        assert got["@odata.type"] == "#microsoft.graph.onPremisesSyncBehavior"
        _switch(clouddir, "users", ids[0], True)
        _switch(clouddir, "groups", g["id"], True)
        assert http.get(f"/v1.0/users/{ids[0]}/{BEHAVIOR}").json()["isCloudManaged"] is True
        assert http.get(f"/v1.0/groups/{g['id']}/{BEHAVIOR}").json()["isCloudManaged"] is True
        # Only when $select names it, on get and list.
        plain = http.get(f"/v1.0/users/{ids[0]}").json()
        assert BEHAVIOR not in plain
        selected = http.get(f"/v1.0/users/{ids[0]}",
                            params={"$select": f"id,{BEHAVIOR}"}).json()
        assert selected[BEHAVIOR] == {"isCloudManaged": True}
        listed = http.get("/v1.0/users", params={"$select": f"id,{BEHAVIOR}"}).json()["value"]
        assert {u["id"]: u[BEHAVIOR]["isCloudManaged"] for u in listed} == {
            ids[0]: True, ids[1]: False}
        assert all(BEHAVIOR not in u for u in http.get("/v1.0/users").json()["value"])
        groups = http.get("/v1.0/groups", params={"$select": f"id,{BEHAVIOR}"}).json()["value"]
        assert groups[0][BEHAVIOR] == {"isCloudManaged": True}
        # A cloud-managed object is the cloud's: the admin API may change it.
        assert http.patch(f"/v1.0/users/{ids[0]}", json={"jobTitle": "x"}).status_code == 204
        assert http.patch(f"/v1.0/users/{ids[1]}", json={"jobTitle": "x"}).status_code == 400


def test_switch_is_in_deltas(clouddir: CloudDirTenant) -> None:
    ids = make_users(clouddir, 2)
    _, token1, _ = clouddir.import_all(1)
    _, token2, _ = clouddir.import_all(2)
    with clouddir.client() as http:
        first = http.get("/v1.0/users/delta", params={"$select": f"id,{BEHAVIOR}"}).json()
        while "@odata.nextLink" in first:
            first = http.get(first["@odata.nextLink"]).json()
        _switch(clouddir, "users", ids[1], True)
        graph = http.get(first["@odata.deltaLink"]).json()
    assert [(e["id"], e[BEHAVIOR]) for e in graph["value"]] == [
        (ids[1], {"isCloudManaged": True})]
    for version, token in ((1, token1), (2, token2)):
        entries, _, _ = clouddir.import_all(version, token)
        assert [(e["id"], e["cloud_managed"]) for e in entries] == [(ids[1], True)]
    full, _, _ = clouddir.import_all(2)
    assert {e["id"]: e["cloud_managed"] for e in full} == {ids[0]: False, ids[1]: True}
    # Setting the same value again is no change.
    _switch(clouddir, "users", ids[1], True)
    _, token_now, _ = clouddir.import_all(2)
    assert clouddir.import_all(2, token_now)[0] == []


@pytest.mark.parametrize("version", [1, 2])
def test_sync_writes_refused_while_cloud_managed(clouddir: CloudDirTenant, version: int) -> None:
    ids = make_users(clouddir, 3)
    [g] = clouddir.export_ok(version, [group("g", "G1", ids[:1] if version == 1
                                             else {"add": ids[:1]})])
    _switch(clouddir, "users", ids[0], True)
    _switch(clouddir, "groups", g["id"], True)
    members = ids[:2] if version == 1 else {"add": [ids[1]]}
    results = clouddir.export_ok(version, [
        _update("user", ids[0], "a", displayName=["A"]),
        _update("user", ids[1], "b", displayName=["B"]),
        {**_update("group", g["id"], "g"), "members": members},
        {"ref": "d", "op": "delete", "id": ids[0]},
        # A hard match onto the cloud-managed user is a write to it too.
        user("m", "u0", "u0@contoso.test", displayName=["M"]),
    ])
    by_ref = {r["ref"]: r for r in results}
    assert by_ref["b"]["status"] == "ok"
    for ref in ("a", "g", "d", "m"):
        assert by_ref[ref]["status"] == "error", by_ref[ref]
        assert by_ref[ref]["errors"][0]["code"] == "ObjectCloudManaged"
        assert by_ref[ref]["errors"][0]["retryable"] is False
    entries, _, _ = clouddir.import_all(version)
    shown = {e["id"]: e for e in entries}
    assert shown[ids[0]]["attributes"].get("displayName") is None
    assert shown[ids[1]]["attributes"]["displayName"] == ["B"]
    # Back on premises: sync writes are applied again.
    _switch(clouddir, "users", ids[0], False)
    _switch(clouddir, "groups", g["id"], False)
    results = clouddir.export_ok(version, [
        _update("user", ids[0], "a", displayName=["A"]),
        {**_update("group", g["id"], "g"), "members": members}])
    assert [r["status"] for r in results] == ["ok", "ok"]


def test_hostile_input(clouddir: CloudDirTenant) -> None:
    [uid] = make_users(clouddir, 1)
    path = f"/v1.0/users/{uid}/{BEHAVIOR}"
    with clouddir.client() as http:
        for body in (b"[]", b"null", b"{", b'{"isCloudManaged": "yes"}', b'{"isCloudManaged": 1}',
                     b"{}", b'{"isCloudManaged": true, "other": 1}',
                     b'{"isCloudManaged": null}', b'"x"', b'{"\\u0000": true}'):
            response = http.patch(path, content=body,
                                  headers={"Content-Type": "application/json"})
            assert 400 <= response.status_code < 500, (body, response.text)
            assert response.json()["error"]["code"]
        assert http.patch(path, content=b'{"isCloudManaged": true}',
                          headers={"Content-Type": "text/plain"}).status_code == 415
        for bad in ("nope", "00000000-0000-0000-0000-000000000000", "%00", "a" * 300):
            assert http.get(f"/v1.0/users/{bad}/{BEHAVIOR}").status_code in (400, 404)
            assert http.patch(f"/v1.0/users/{bad}/{BEHAVIOR}",
                              json={"isCloudManaged": True}).status_code in (400, 404)
        # A user is not found among groups, an unknown collection is a 400.
        assert http.get(f"/v1.0/groups/{uid}/{BEHAVIOR}").status_code == 404
        assert http.get(f"/v1.0/things/{uid}/{BEHAVIOR}").status_code == 400
        assert http.delete(path).status_code == 405
        assert http.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
        # Echoed read-only members are accepted.
        assert http.patch(path, json={"id": uid, "@odata.type": "x",
                                      "isCloudManaged": False}).status_code == 204
