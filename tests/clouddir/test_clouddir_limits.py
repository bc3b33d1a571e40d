"""Group size limits: 50,000 under v1, 250,000 under v2 (lowered by setting), and one run at
the real v1 limit."""

from __future__ import annotations

import time
from typing import Any

from tests.harness.clouddir_server import (
    CloudDirTenant,
    group,
    make_contacts,
    make_users,
    members_of,
)


def test_v1_refuses_group_above_member_limit(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(v1_member_limit=5)
    ids = make_users(tenant, 6)
    [ok, too_big] = tenant.export_ok(1, [group("a", "GA", ids[:5]), group("b", "GB", ids)])
    assert ok["status"] == "ok"
    assert too_big["status"] == "error" and too_big["errors"][0]["code"] == "LargeObject"


def test_v2_allows_above_v1_limit_up_to_v2_limit(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(v1_member_limit=5, v2_member_limit=8)
    ids = make_users(tenant, 10)
    [g] = tenant.export_ok(2, [group("a", "GA", {"add": ids[:6]})])
    assert g["status"] == "ok"
    # Growing past the v2 limit by a delta is refused and nothing of that change applies.
    [r] = tenant.export_ok(2, [{"ref": "a", "op": "update", "object_type": "group",
                                "id": g["id"], "attributes": {"displayName": ["new"]},
                                "members": {"add": ids[6:9]}}])
    assert r["errors"][0]["code"] == "LargeObject"
    assert len(members_of(tenant, g["id"])) == 6
    # A delta that removes as many as it adds fits.
    [r2] = tenant.export_ok(2, [{"ref": "a", "op": "update", "object_type": "group",
                                 "id": g["id"], "members": {"add": ids[6:9],
                                                            "remove": ids[:1]}}])
    assert r2["status"] == "ok"
    assert len(members_of(tenant, g["id"])) == 8


def test_v1_import_leaves_out_groups_above_v1_limit(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(v1_member_limit=5)
    ids = make_users(tenant, 6)
    [small] = tenant.export_ok(2, [group("a", "GA", {"add": ids[:5]})])
    _, watermark, _ = tenant.import_all(1)
    [big] = tenant.export_ok(2, [group("b", "GB", {"add": ids})])
    full, _, _ = tenant.import_all(1)
    assert small["id"] in {e["id"] for e in full}
    assert big["id"] not in {e["id"] for e in full}
    # In a delta, a group that is (or grew) too large for v1 is reported gone.
    [grow] = tenant.export_ok(2, [{"ref": "a", "op": "update", "object_type": "group",
                                   "id": small["id"], "members": {"add": ids[5:]}}])
    assert grow["status"] == "ok"
    delta, _, _ = tenant.import_all(1, watermark)
    by_id = {e["id"]: e for e in delta}
    assert by_id[small["id"]] == {**by_id[small["id"]], "op": "delete", "reason": "LargeObject"}
    assert by_id[big["id"]]["op"] == "delete"
    # v2 still sees both.
    v2, _, _ = tenant.import_all(2)
    assert {small["id"], big["id"]} <= {e["id"] for e in v2}


def test_v2_import_pages_members_of_large_group(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(member_page_size=4)
    ids = make_users(tenant, 10)
    [g] = tenant.export_ok(2, [group("a", "GA", {"add": ids})])
    entries, _, pages = tenant.import_all(2)
    slices = [e for e in entries if e["id"] == g["id"]]
    assert len(slices) == 3 and pages == 3
    assert all(len(s["members"]["add"]) <= 4 for s in slices)
    assert sorted(m for s in slices for m in s["members"]["add"]) == sorted(
        f"CN=u{i}" for i in range(10))


def test_v1_real_limit_50001_refused_50000_accepted(clouddir: CloudDirTenant) -> None:
    # 1,000 real members plus references to objects the tenant does not have: the limit
    # counts the list the client sends, so the boundary is tested at its real value without
    # creating 50,000 objects first (that belongs in bench/).
    started = time.monotonic()
    real = make_contacts(clouddir, 1_000)
    unknown = [f"00000000-0000-0000-0000-{i:012d}" for i in range(49_001)]
    [at_limit] = clouddir.export_ok(1, [group("a", "GA", real + unknown[:49_000])])
    [above] = clouddir.export_ok(1, [group("b", "GB", real + unknown)])
    assert at_limit["status"] == "partial"
    assert [e["code"] for e in at_limit["errors"]] == ["dn-attributes-failure"]
    assert len(members_of(clouddir, at_limit["id"])) == 1_000
    assert above["status"] == "error" and above["errors"][0]["code"] == "LargeObject"
    assert time.monotonic() - started < 30


def test_v1_names_the_groups_its_imports_leave_out(clouddir_factory: Any) -> None:
    """GET /sync/v1/large-groups: what a server on v1 cannot see (a swing back deletes the
    synced ones it provisioned)."""
    tenant: CloudDirTenant = clouddir_factory(v1_member_limit=5)
    ids = make_users(tenant, 7)
    [small, big] = tenant.export_ok(2, [group("a", "GA", {"add": ids[:5]}),
                                        group("b", "GB", {"add": ids})])
    with tenant.client() as http:
        answer = http.get("/sync/v1/large-groups")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["v1_member_limit"] == 5
        assert [(g["id"], g["member_count"], g["sync_enabled"]) for g in body["groups"]] == [
            (big["id"], 7, True)]
        assert body["groups"][0]["source_anchor"] and body["groups"][0]["displayName"]
        assert small["id"] not in {g["id"] for g in body["groups"]}
        http.headers.pop("Authorization", None)
        assert http.get("/sync/v1/large-groups").status_code == 401
