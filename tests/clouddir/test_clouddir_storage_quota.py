"""clouddir's per-tenant storage (bytes) quota: growth refused through every API, deletes and
shrinking updates go on, and the incremental counter equals an exact recount (both stores:
the PostgreSQL pass runs these against PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.harness.clouddir_server import CloudDirServer, CloudDirTenant
from tests.harness.clouddir_server import user as wire_user

from clouddir.storage import Store, open_store
from clouddir.storage import quotas as storage_quota


def user(ref: str, name: str, **attrs: list[str]) -> dict[str, Any]:
    return wire_user(ref, name, f"{name}@contoso.test", displayName=[name], **attrs)


@pytest.fixture
def store_of() -> Iterator[Any]:
    opened: list[Store] = []

    def open_(tenant: CloudDirTenant) -> Store:
        opened.append(open_store(tenant.server.database))
        return opened[-1]

    yield open_
    for store in opened:
        store.close()


def _used(store: Store, tenant: CloudDirTenant) -> int:
    used, _own = storage_quota.usage(store, tenant.tenant_id)
    assert used is not None
    return used


def _cap(store: Store, tenant: CloudDirTenant, room: int) -> None:
    """Leave ``room`` bytes below the tenant's storage quota."""
    storage_quota.set_max_bytes(store, tenant.tenant_id, _used(store, tenant) + room)


def _refused(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "Directory_QuotaExceeded" and "request-id" in error["innerError"]
    return str(error["message"])


def test_growth_is_refused_through_each_api_and_deletes_go_on(clouddir: CloudDirTenant,
                                                               store_of: Any) -> None:
    tenant = clouddir
    store = store_of(tenant)
    synced = tenant.export_ok(2, [user("a", "a"), user("b", "b")])
    with tenant.client() as http:
        cloud = http.post("/v1.0/users", json={
            "displayName": "c", "mailNickname": "c", "userPrincipalName": "c@contoso.test",
            "passwordProfile": {"password": "Pa55-word!"}})
        team = http.post("/v1.0/groups", json={"displayName": "team"})
        assert cloud.status_code == team.status_code == 201
        cloud_id, team_id = cloud.json()["id"], team.json()["id"]
        [sync_group] = tenant.export_ok(2, [{
            "ref": "g", "op": "add", "object_type": "group", "dn": "CN=g", "source_anchor": "g",
            "attributes": {"displayName": ["g"]}, "members": {"add": []}}])
        _cap(store, tenant, 30)  # less than one member edge, far less than one object
        before = _used(store, tenant)

        # Sync API v2: the growing change fails alone, the rest of the batch applies.
        results = tenant.export_ok(2, [
            user("big", "big", extensionAttribute1=["x" * 1000]),
            {"ref": "m", "op": "update", "object_type": "group", "id": sync_group["id"],
             "members": {"add": [synced[1]["id"]]}},
            {"ref": "shrink", "op": "update", "object_type": "user", "id": synced[0]["id"],
             "attributes": {"displayName": []}}])
        assert [r["status"] for r in results] == ["error", "error", "ok"]
        for refused in results[:2]:
            error = refused["errors"][0]
            assert error["code"] == "Directory_QuotaExceeded"
            assert "bytes are used" in error["detail"] and "--max-bytes" in error["detail"]
        assert _used(store, tenant) < before  # the shrinking update went on
        _cap(store, tenant, 30)

        # Graph face: create, an update that grows, a member add; a shrinking update goes on.
        message = _refused(http.post("/v1.0/users", json={
            "displayName": "d", "mailNickname": "d", "userPrincipalName": "d@contoso.test",
            "passwordProfile": {"password": "Pa55-word!"}}))
        assert "storage quota" in message and "clouddir tenant quota" in message
        _refused(http.patch(f"/v1.0/users/{cloud_id}", json={"jobTitle": "x" * 100}))
        _refused(http.post(f"/v1.0/groups/{team_id}/members/$ref", json={
            "@odata.id": f"{tenant.url}/v1.0/directoryObjects/{cloud_id}"}))
        assert http.patch(f"/v1.0/users/{cloud_id}", json={"displayName": "c"}).is_success

        # Deletes go on at (and past) the quota, and make room.
        storage_quota.set_max_bytes(store, tenant.tenant_id, 0)
        assert http.delete(f"/v1.0/users/{cloud_id}").status_code == 204
        [gone] = tenant.export_ok(2, [{"ref": "x", "op": "delete", "object_type": "user",
                                       "id": synced[1]["id"]}])
        assert gone["status"] == "ok"
        storage_quota.set_max_bytes(store, tenant.tenant_id, None)
        assert http.post(f"/v1.0/groups/{team_id}/members/$ref", json={
            "@odata.id": f"{tenant.url}/v1.0/directoryObjects/{synced[0]['id']}"}).is_success
    used = _used(store, tenant)
    assert storage_quota.recount(store, tenant.tenant_id) == used


def test_large_group_members_count(clouddir: CloudDirTenant, store_of: Any) -> None:
    """Members are rows of their own: a group's edges weigh, and removing them frees it."""
    tenant = clouddir
    store = store_of(tenant)
    ids = [r["id"] for r in tenant.export_ok(2, [
        {"ref": str(i), "op": "add", "object_type": "contact", "dn": f"CN=c{i}",
         "source_anchor": f"c{i}", "attributes": {"displayName": [f"c{i}"]}}
        for i in range(300)])]
    [grp] = tenant.export_ok(2, [{"ref": "g", "op": "add", "object_type": "group",
                                  "dn": "CN=g", "source_anchor": "g",
                                  "attributes": {"displayName": ["g"]},
                                  "members": {"add": []}}])
    before = _used(store, tenant)
    tenant.export_ok(2, [{"ref": "g", "op": "update", "object_type": "group", "id": grp["id"],
                          "members": {"add": ids}}])
    assert _used(store, tenant) == before + 300 * storage_quota.MEMBER_BYTES
    _cap(store, tenant, 2 * storage_quota.MEMBER_BYTES)
    [more] = tenant.export_ok(2, [{"ref": "d", "op": "add", "object_type": "contact",
                                   "dn": "CN=d", "source_anchor": "d",
                                   "attributes": {"displayName": ["d"]}}])
    # An object weighs more than two edges.
    assert more["errors"][0]["code"] == "Directory_QuotaExceeded"
    storage_quota.set_max_bytes(store, tenant.tenant_id, None)
    more_id = tenant.export_ok(2, [{"ref": "d", "op": "add", "object_type": "contact",
                                    "dn": "CN=d", "source_anchor": "d",
                                    "attributes": {"displayName": ["d"]}}])[0]["id"]
    # At quota, a v1 replace of the same size goes on (its removals make the adds' room).
    storage_quota.set_max_bytes(store, tenant.tenant_id, _used(store, tenant))
    [swapped] = tenant.export_ok(1, [{"ref": "g", "op": "add", "object_type": "group",
                                      "dn": "CN=g", "source_anchor": "g",
                                      "attributes": {"displayName": ["g"]},
                                      "members": [*ids[1:], more_id]}])
    assert swapped["status"] == "ok", swapped
    assert storage_quota.recount(store, tenant.tenant_id) == _used(store, tenant)


def test_a_database_from_before_is_recounted(clouddir: CloudDirTenant, store_of: Any) -> None:
    tenant = clouddir
    store = store_of(tenant)
    tenant.export_ok(2, [user("a", "a"), user("b", "b")])
    exact = _used(store, tenant)
    with store.transaction(tenant.tenant_id):
        store._run("DELETE FROM tenant_storage WHERE tenant_id = ?", (tenant.tenant_id,))
    [added] = tenant.export_ok(2, [user("c", "c")])
    assert added["status"] == "ok"
    assert _used(store, tenant) > exact
    assert _used(store, tenant) == storage_quota.recount(store, tenant.tenant_id)


def test_tenant_quota_command_sets_and_recounts_bytes(clouddir: CloudDirTenant) -> None:
    tenant = clouddir
    db = tenant.server.database
    cli = [sys.executable, "-m", "clouddir.cli", "tenant", "quota", tenant.tenant_id,
           "--db", db]
    shown = subprocess.run([*cli, "--max-bytes", "0"], capture_output=True, text=True,
                           check=True).stdout
    assert "bytes quota: 0" in shown and "bytes:   0" in shown
    [refused] = tenant.export_ok(2, [user("a", "a")])
    assert refused["errors"][0]["code"] == "Directory_QuotaExceeded"
    shown = subprocess.run([*cli, "--default", "--recount"], capture_output=True, text=True,
                           check=True).stdout
    assert "bytes quota: server default (max_tenant_bytes limit)" in shown
    assert tenant.export_ok(2, [user("a", "a")])[0]["status"] == "ok"
    bad = subprocess.run([*cli, "--max-bytes", "-1"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_server_default_limit(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(max_tenant_bytes=1000)
    results = tenant.export_ok(2, [user(str(i), f"u{i}") for i in range(5)])
    statuses = [r["status"] for r in results]
    assert "ok" in statuses and statuses[-1] == "error"
    assert results[-1]["errors"][0]["code"] == "Directory_QuotaExceeded"


# --- the counter stays exact --------------------------------------------------------------

_ANCHORS = [f"p{i}" for i in range(4)]
_op = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(_ANCHORS), st.integers(0, 300)),
    st.tuples(st.just("delete"), st.sampled_from(_ANCHORS), st.just(0)),
    st.tuples(st.just("join"), st.sampled_from(_ANCHORS), st.just(0)),
    st.tuples(st.just("leave"), st.sampled_from(_ANCHORS), st.just(0)),
    st.tuples(st.just("graph"), st.just(""), st.integers(0, 200)),
)


def _change(op: tuple[str, str, int], ids: dict[str, str], group_id: str
            ) -> dict[str, Any] | None:
    kind, anchor, size = op
    if kind == "put":
        return user(anchor, anchor, extensionAttribute2=["y" * size] if size else [])
    if anchor not in ids:
        return None
    if kind == "delete":
        return {"ref": anchor, "op": "delete", "object_type": "user", "id": ids[anchor]}
    part = "add" if kind == "join" else "remove"
    return {"ref": anchor, "op": "update", "object_type": "group", "id": group_id,
            "members": {part: [ids[anchor]]}}


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(_op, min_size=1, max_size=5), min_size=1, max_size=5),
       cap=st.one_of(st.none(), st.integers(0, 3000)))
def test_counter_equals_recount_after_any_writes(clouddir_shared: CloudDirServer,
                                                 store_of: Any, batches: list[Any],
                                                 cap: int | None) -> None:
    tenant = clouddir_shared.new_tenant()
    store = store_of(tenant)
    [grp] = tenant.export_ok(2, [{"ref": "g", "op": "add", "object_type": "group",
                                  "dn": "CN=grp", "source_anchor": "grp",
                                  "attributes": {"displayName": ["grp"]},
                                  "members": {"add": []}}])
    if cap is not None:
        _cap(store, tenant, cap)
    ids: dict[str, str] = {}
    with tenant.client() as http:
        for batch in batches:
            changes = []
            for op in batch:
                if op[0] == "graph":
                    http.post("/v1.0/groups", json={"displayName": "z",
                                                    "description": "d" * op[2]})
                    continue
                change = _change(op, ids, grp["id"])
                if change is not None:
                    changes.append(change)
            for change, result in zip(changes, tenant.export_ok(2, changes) if changes else [],
                                      strict=True):
                if result["status"] == "ok" and change["op"] == "add":
                    ids[change["ref"]] = result["id"]
                elif result["status"] == "ok" and change["op"] == "delete":
                    ids.pop(change["ref"], None)
            used = _used(store, tenant)
            assert used == storage_quota.recount(store, tenant.tenant_id)
            own = storage_quota.usage(store, tenant.tenant_id)[1]
            assert own is None or used <= own
