"""Tenants, tokens, isolation, throttling and idempotent batches."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from tests.harness.clouddir_server import CloudDirTenant, group, make_users, user

from clouddir.auth import hash_token
from clouddir.storage import SqliteStore
from clouddir.throttle import WriteBudget


def test_tenant_create_cli_prints_json_and_stores_hash(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    out = subprocess.run([sys.executable, "-m", "clouddir.cli", "tenant", "create", "fabrikam",
                          "--db", f"sqlite:///{db}", "--json"],
                         check=True, capture_output=True, text=True).stdout
    created = json.loads(out)
    assert set(created) == {"tenant_id", "token"}
    assert created["token"].encode() not in db.read_bytes()
    store = SqliteStore(db)
    tenant = store.tenant_by_token_hash(hash_token(created["token"]))
    assert tenant is not None and tenant.id == created["tenant_id"]


def test_tenant_create_writes_the_token_to_a_new_private_file(tmp_path: Path) -> None:
    """The token never reaches the terminal (or a log of it): it goes to a new 0600 file that
    idsync reads with --secret-file; an existing file is never overwritten or followed."""
    db, token_file = tmp_path / "c.db", tmp_path / "contoso.token"

    def create(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "clouddir.cli", "tenant", "create",
                               "contoso", "--db", f"sqlite:///{db}", "--token-file",
                               str(token_file), *extra], capture_output=True, text=True)

    done = create()
    assert done.returncode == 0, done.stderr
    token = token_file.read_text().strip()
    assert token not in done.stdout and done.stdout.startswith("tenant_id: ")
    assert token_file.stat().st_mode & 0o777 == 0o600
    tenant = SqliteStore(db).tenant_by_token_hash(hash_token(token))
    assert tenant is not None and tenant.id in done.stdout

    again = create("--json")
    assert again.returncode != 0 and "exists" in again.stderr
    assert token_file.read_text().strip() == token  # not overwritten, no second tenant made


def test_requests_need_a_valid_token(clouddir: CloudDirTenant) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        response = httpx.get(f"{clouddir.url}/sync/v2/import", headers=headers)
        assert response.status_code == 401
        assert httpx.post(f"{clouddir.url}/sync/v2/export", headers=headers,
                          json={"batch_id": "x", "changes": []}).status_code == 401


def test_tenant_isolation(clouddir: CloudDirTenant) -> None:
    other = clouddir.server.new_tenant("fabrikam")
    [theirs] = other.export_ok(2, [user("1", "T1", "t@fabrikam.test")])
    # Invisible to import and to the admin API.
    entries, _, _ = clouddir.import_all(2)
    assert entries == []
    with clouddir.client() as http:
        assert http.get(f"/v1.0/users/{theirs['id']}").status_code == 404
    # Not changeable, not deletable, not usable as a member.
    [upd] = clouddir.export_ok(2, [{"ref": "1", "op": "update", "object_type": "user",
                                    "id": theirs["id"], "attributes": {"displayName": ["x"]}}])
    assert upd["errors"][0]["code"] == "ObjectNotFound"
    clouddir.export_ok(2, [{"ref": "1", "op": "delete", "id": theirs["id"]}])
    [g] = clouddir.export_ok(2, [group("g", "G", {"add": [theirs["id"], {"dn": "CN=T1"}]})])
    assert g["errors"][0]["code"] == "dn-attributes-failure"
    # Unique values and source anchors are per tenant: the same UPN and anchor are fine here.
    [mine] = clouddir.export_ok(2, [user("1", "T1", "t@fabrikam.test")])
    assert mine["status"] == "ok" and not mine["warnings"] and mine["id"] != theirs["id"]
    # And the other tenant's object is untouched.
    their_entries, _, _ = other.import_all(2)
    assert [e["id"] for e in their_entries] == [theirs["id"]]
    assert "displayName" not in their_entries[0]["attributes"]


def test_retried_batch_is_applied_once(clouddir: CloudDirTenant) -> None:
    ids = make_users(clouddir, 2)
    changes = [group("g", "G1", {"add": ids})]
    first = clouddir.export(2, changes, batch_id="batch-1")
    replay = clouddir.export(2, changes, batch_id="batch-1")
    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    assert replay.headers.get("X-Batch-Replayed") == "true"
    # Even a different body under the same id is not applied again.
    clouddir.export(2, [user("x", "X", "x@contoso.test")], batch_id="batch-1")
    entries, _, _ = clouddir.import_all(2)
    assert sorted(e["dn"] for e in entries) == ["CN=G1", "CN=u0", "CN=u1"]


def test_write_budget_answers_429_with_retry_after(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(write_budget=4, write_window=4)
    other = tenant.server.new_tenant("other")
    assert tenant.export(2, [user(str(i), f"A{i}", f"a{i}@c.test") for i in range(3)]
                         ).status_code == 200
    refused = tenant.export(2, [user(str(i), f"B{i}", f"b{i}@c.test") for i in range(3)])
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    entries, _, _ = tenant.import_all(2)
    assert len(entries) == 3  # nothing of the refused batch was applied
    # The budget is per tenant.
    assert other.export(2, [user("1", "O", "o@c.test")]).status_code == 200
    time.sleep(int(refused.headers["Retry-After"]))
    assert tenant.export(2, [user("1", "B1", "b1@c.test")]).status_code == 200


def test_write_budget_refills_over_time() -> None:
    now = [0.0]
    budget = WriteBudget(10, 10.0, clock=lambda: now[0])
    assert budget.try_spend("t", 8) == 0
    assert budget.try_spend("t", 5) == 3  # 2 left, 3 more needed at 1 write/s
    now[0] = 3.0
    assert budget.try_spend("t", 5) == 0
    assert budget.try_spend("t", 100) == 10  # larger than the budget: waits for all of it


def test_serve_refuses_unknown_limit(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "clouddir.cli", "serve", "--db",
                          f"sqlite:///{tmp_path / 'c.db'}", "--limit", "no_such_limit=1"],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode != 0 and "unknown limit" in run.stderr


def test_admin_api_writes_spend_the_budget(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(write_budget=2, write_window=60)
    with tenant.client() as http:
        statuses = [http.post("/v1.0/users", json={
            "displayName": f"u{i}", "userPrincipalName": f"u{i}@c.test",
            "passwordProfile": {"password": "Pa55-word!"}}).status_code
            for i in range(3)]
        assert statuses == [201, 201, 429]
        throttled = http.post("/v1.0/users", json={"displayName": "x",
                                                   "userPrincipalName": "x@c.test",
                                                   "passwordProfile": {"password": "Pa55-word!"}})
        assert throttled.json()["error"]["code"] == "TooManyRequests"
        assert int(throttled.headers["Retry-After"]) > 0
