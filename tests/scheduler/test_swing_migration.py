"""The swing migration of the V2 endpoint, end to end on real slapd and clouddir: server A
active on API v1, server B built from A's configuration export in staging mode and switched to
v2, B's export preview checked, then A to staging and B active. The cloud ends as A alone left
it, plus the large group only v2 can carry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.harness.clouddir_server import clouddir_factory  # noqa: F401
from tests.harness.commands import idsync
from tests.harness.slapd import needs_slapd, slapd, slapd_factory  # noqa: F401
from tests.scheduler.test_serve_ldap_cloud import add_person, make_server

pytestmark = [pytest.mark.slapd, needs_slapd]

#: The cloud directory of this test refuses v1 groups above this many members.
V1_LIMIT = 20
PEOPLE = 25


def cloud_state(tenant) -> dict[str, object]:
    """Users and groups with their members, keyed by immutable id (what a swing must keep)."""
    with tenant.client() as http:
        users = http.get("/v1.0/users").json()["value"]
        groups = http.get("/v1.0/groups").json()["value"]
        by_id = {u["id"]: u["onPremisesImmutableId"] for u in users}
        members = {}
        for g in groups:
            listed = http.get(f"/v1.0/groups/{g['id']}/members", params={"$top": 999}).json()
            members[g["displayName"]] = sorted(by_id[m["id"]] for m in listed["value"])
    return {"users": sorted((u["onPremisesImmutableId"], u["id"], u["mail"]) for u in users),
            "groups": sorted((g["displayName"], g["id"]) for g in groups),
            "members": members}


def cycle(ws: Path) -> dict:
    return json.loads(idsync(ws, "cycle", "start", "--json", check=False).stdout)


def test_swing_migration_to_the_v2_endpoint(tmp_path: Path, slapd,  # noqa: F811
                                            clouddir_factory):  # noqa: F811
    tenant = clouddir_factory(v1_member_limit=V1_LIMIT)
    base = slapd.base_dn
    for i in range(PEOPLE):
        add_person(slapd, f"p{i:02d}", f"p{i:02d}@contoso.com")
    people = [f"uid=p{i:02d},ou=People,{base}" for i in range(PEOPLE)]
    slapd.add(f"cn=small,ou=Groups,{base}", {"objectClass": ["groupOfNames"], "cn": "small",
                                              "member": people[:3]})
    slapd.add(f"cn=large,ou=Groups,{base}", {"objectClass": ["groupOfNames"], "cn": "large",
                                              "member": people})

    # Server A: active, API v1. The large group is refused by the v1 endpoint.
    a = make_server(tmp_path / "a", slapd, tenant, export_api_version=1,
                    import_api_version=1)
    for _ in range(2):
        cycle(a)
    a_alone = cloud_state(tenant)
    assert len(a_alone["users"]) == PEOPLE
    assert [g[0] for g in a_alone["groups"]] == ["small"]

    # Server B: built from A's configuration, staging mode, switched to v2.
    config = tmp_path / "a-config"
    idsync(a, "config", "export", str(config))
    b = tmp_path / "b"
    idsync(b, "config", "import", str(config), "--api-version", "2",
           "--secret-env", "corp.password=CORP_PASSWORD", "--secret-env", "aad.token=AAD_TOKEN",
           env={"CORP_PASSWORD": slapd.password, "AAD_TOKEN": tenant.token})
    for _ in range(2):
        result = cycle(b)
        assert all(r["profile"] != "Export" for r in result["runs"]), result
    assert cloud_state(tenant) == a_alone  # staging: B changed nothing

    preview = json.loads(idsync(b, "export", "preview", "aad", "--json").stdout)
    adds = [o for o in preview["objects"] if o["operation"] == "add"]
    # B re-joined every object A created; what it would add is the large group alone.
    assert len(adds) == 1, preview["summary"]
    member = next(c for c in adds[0]["changes"] if c["attribute"] == "member")
    assert len(member["new"]) == PEOPLE
    assert "delete" not in preview["summary"]
    doctor = json.loads(idsync(b, "doctor", "--json", check=False).stdout)
    versions = next(c for c in doctor["checks"] if c["name"] == "api versions aad")
    assert "export API v2" in versions["detail"]

    # The swing: A to staging, B active.
    idsync(a, "scheduler", "set", "--staging-mode", "true")
    idsync(b, "scheduler", "set", "--staging-mode", "false")
    result = cycle(b)
    assert result["status"] == "success", result
    cycle(b)
    after = cloud_state(tenant)
    assert after["users"] == a_alone["users"]  # same objects, same ids: nothing duplicated
    assert ("small", dict(a_alone["groups"])["small"]) in after["groups"]
    assert after["members"]["small"] == a_alone["members"]["small"]
    assert after["members"]["large"] == sorted(u[0] for u in a_alone["users"])
    # A, now staging, keeps importing and synchronizing without sending anything.
    result = cycle(a)
    assert all(r["profile"] != "Export" for r in result["runs"])
    assert cloud_state(tenant) == after


def test_swing_back_to_the_v1_server_deletes_the_large_groups_after_confirmation(
        tmp_path: Path, slapd,  # noqa: F811
        clouddir_factory):  # noqa: F811
    """"After a swing migration from the v2 server back to the v1 server, any large group that
    was provisioned ... will be subsequently deleted": listed first, nothing without --confirm,
    then through the export (the deletion threshold applies)."""
    tenant = clouddir_factory(v1_member_limit=V1_LIMIT)
    base = slapd.base_dn
    for i in range(PEOPLE):
        add_person(slapd, f"p{i:02d}", f"p{i:02d}@contoso.com")
    people = [f"uid=p{i:02d},ou=People,{base}" for i in range(PEOPLE)]
    slapd.add(f"cn=small,ou=Groups,{base}", {"objectClass": ["groupOfNames"], "cn": "small",
                                              "member": people[:3]})
    slapd.add(f"cn=large,ou=Groups,{base}", {"objectClass": ["groupOfNames"], "cn": "large",
                                              "member": people})
    a = make_server(tmp_path / "a", slapd, tenant, export_api_version=1,
                    import_api_version=1)
    for _ in range(2):
        cycle(a)
    config = tmp_path / "a-config"
    idsync(a, "config", "export", str(config))
    b = tmp_path / "b"
    idsync(b, "config", "import", str(config), "--api-version", "2",
           "--secret-env", "corp.password=CORP_PASSWORD", "--secret-env", "aad.token=AAD_TOKEN",
           env={"CORP_PASSWORD": slapd.password, "AAD_TOKEN": tenant.token})
    idsync(a, "scheduler", "set", "--staging-mode", "true")
    idsync(b, "scheduler", "set", "--staging-mode", "false")  # B on v2: nothing to list
    for _ in range(2):
        cycle(b)
    with_large = cloud_state(tenant)
    assert [g[0] for g in with_large["groups"]] == ["large", "small"]
    for _ in range(2):
        cycle(a)  # A, staging on v1, keeps importing: v1 never shows it the large group

    # The swing back: B to staging, A active again.
    idsync(b, "scheduler", "set", "--staging-mode", "true")
    held = idsync(a, "scheduler", "set", "--staging-mode", "false", check=False)
    assert held.returncode == 3, held.stdout + held.stderr
    out = " ".join(held.stdout.split())
    assert "large" in out and "deleted in the cloud" in out and "--confirm" in out
    assert "small" not in out
    show = json.loads(idsync(a, "scheduler", "show", "--json").stdout)
    assert show["staging_mode_enabled"] is True, "nothing changes without --confirm"
    assert cloud_state(tenant) == with_large

    done = idsync(a, "scheduler", "set", "--staging-mode", "false", "--confirm")
    assert "1 large group delete(s) staged" in " ".join(done.stdout.split())
    preview = json.loads(idsync(a, "export", "preview", "aad", "--json").stdout)
    deletes = [o for o in preview["objects"] if o["operation"] == "delete"]
    assert len(deletes) == 1, preview["summary"]

    # The deletion threshold applies to these deletes as to any other.
    idsync(a, "export-deletion-threshold", "set", "1")
    cycle(a)
    assert cloud_state(tenant) == with_large
    idsync(a, "export-deletion-threshold", "set", "500")
    cycle(a)
    cycle(a)
    after = cloud_state(tenant)
    assert [g[0] for g in after["groups"]] == ["small"]
    assert after["users"] == with_large["users"]  # nothing else deleted or recreated
    assert after["members"]["small"] == with_large["members"]["small"]
    cycle(a)
    assert cloud_state(tenant) == after


def test_leaving_staging_on_v1_with_the_cloud_unreachable_keeps_staging(tmp_path: Path) -> None:
    """The v1 server cannot know the large groups without asking the cloud: it stays in
    staging mode and says why, in one line."""
    from idsync.store import Store

    ws = tmp_path / "a"
    store = Store.open(ws)
    try:
        store.connectors.add("aad", "cloud", {"url": "http://127.0.0.1:9", "tenant_id": "t",
                                              "export_api_version": 1, "import_api_version": 1,
                                              "max_retries": 0, "timeout": 2},
                             {"token": "x"})
    finally:
        store.close()
    idsync(ws, "scheduler", "set", "--staging-mode", "true")
    refused = idsync(ws, "scheduler", "set", "--staging-mode", "false", "--confirm",
                     check=False)
    assert refused.returncode != 0
    out = " ".join((refused.stdout + refused.stderr).split())
    assert "cannot ask cloud connector 'aad' which large groups it holds" in out, out
    assert "staging mode stays on" in out and "Traceback" not in out
    show = json.loads(idsync(ws, "scheduler", "show", "--json").stdout)
    assert show["staging_mode_enabled"] is True
