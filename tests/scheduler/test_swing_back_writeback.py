"""Swing back with group writeback, on real slapd and clouddir: a v2 server wrote a large
Microsoft 365 group back on-premises; the v1 server built from its configuration, made active
again, lists the written-back copy first and deletes it on-premises only when confirmed. The
cloud-born group stays in the cloud (the sync provisioned only its on-premises copy), and the
v1 server never takes the copy for one of its own groups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.harness.clouddir_server import clouddir_factory  # noqa: F401
from tests.harness.commands import idsync
from tests.harness.slapd import needs_slapd, slapd, slapd_factory  # noqa: F401
from tests.scheduler.test_serve_ldap_cloud import add_person, make_server
from tests.scheduler.test_swing_migration import cloud_state, cycle

import ldap

pytestmark = [pytest.mark.slapd, needs_slapd]

V1_LIMIT = 20
PEOPLE = 25


def unified_group(tenant, name: str) -> str:
    """A cloud-born Microsoft 365 group holding every user of the tenant."""
    with tenant.client() as http:
        users = [u["id"] for u in http.get("/v1.0/users").json()["value"]]
        group = http.post("/v1.0/groups", json={
            "displayName": name, "mailNickname": name.lower(), "groupTypes": ["Unified"],
            "mailEnabled": True, "securityEnabled": False}).json()
        for i in range(0, len(users), 20):
            response = http.patch(f"/v1.0/groups/{group['id']}", json={
                "members@odata.bind": [f"{tenant.url}/v1.0/directoryObjects/{u}"
                                       for u in users[i:i + 20]]})
            assert response.status_code < 300, response.text
    return str(group["id"])


def on_premises(slapd_server, dn: str) -> bool:
    try:
        slapd_server.search(dn, "(objectClass=*)", scope="base")
    except ldap.NO_SUCH_OBJECT:
        return False
    return True


def v2_server_with_a_written_back_group(tmp_path: Path, slapd_server,
                                        tenant) -> tuple[Path, str, Path]:
    """Server B, active on API v2, wrote a large Microsoft 365 group back on-premises; its
    configuration is exported. Returns (B, the copy's DN, the configuration folder)."""
    base = slapd_server.base_dn
    slapd_server.add(f"ou=Writeback,{base}", {"objectClass": ["organizationalUnit"],
                                              "ou": ["Writeback"]})
    for i in range(PEOPLE):
        add_person(slapd_server, f"p{i:02d}", f"p{i:02d}@contoso.com")
    b = make_server(tmp_path / "b", slapd_server, tenant)
    idsync(b, "writeback", "enable", "--onprem", "corp", "--cloud", "aad", "--ou",
           f"ou=Writeback,{base}")
    for _ in range(2):
        cycle(b)
    group_id = unified_group(tenant, "Everyone")
    for _ in range(3):
        cycle(b)
    written_back = f"CN=Group_{group_id},ou=Writeback,{base}"
    assert on_premises(slapd_server, written_back), "B did not write the group back"
    config = tmp_path / "b-config"
    idsync(b, "config", "export", str(config))
    return b, written_back, config


def v1_server(path: Path, config: Path, slapd_server, tenant) -> Path:
    """Server A, built from ``config`` in staging mode on API v1."""
    idsync(path, "config", "import", str(config), "--api-version", "1",
           "--secret-env", "corp.password=CORP_PASSWORD", "--secret-env", "aad.token=AAD_TOKEN",
           env={"CORP_PASSWORD": slapd_server.password, "AAD_TOKEN": tenant.token})
    return path


def test_swing_back_deletes_the_large_written_back_group_on_premises_after_confirmation(
        tmp_path: Path, slapd,  # noqa: F811
        clouddir_factory):  # noqa: F811
    tenant = clouddir_factory(v1_member_limit=V1_LIMIT)
    b, written_back, config = v2_server_with_a_written_back_group(tmp_path, slapd, tenant)
    before = cloud_state(tenant)

    # Server A: built from B's configuration, staging mode, API v1; it imports the copy.
    a = v1_server(tmp_path / "a", config, slapd, tenant)
    for _ in range(2):
        cycle(a)
    # A never takes the copy for one of its own groups: nothing of it waits for the cloud.
    preview = json.loads(idsync(a, "export", "preview", "aad", "--json").stdout)
    assert not preview["objects"], preview["summary"]

    # The swing back: B to staging, A active again. First the list; nothing changes.
    idsync(b, "scheduler", "set", "--staging-mode", "true")
    held = idsync(a, "scheduler", "set", "--staging-mode", "false", check=False)
    assert held.returncode == 3, held.stdout + held.stderr
    out = " ".join(held.stdout.split())
    assert "Everyone" in out and "written back on-premises: deleted" in out, out
    assert "--confirm" in out
    show = json.loads(idsync(a, "scheduler", "show", "--json").stdout)
    assert show["staging_mode_enabled"] is True, "nothing changes without --confirm"
    assert not json.loads(idsync(a, "export", "preview", "corp", "--json").stdout)["objects"]

    done = idsync(a, "scheduler", "set", "--staging-mode", "false", "--confirm")
    assert "1 large group delete(s) staged" in " ".join(done.stdout.split())
    preview = json.loads(idsync(a, "export", "preview", "corp", "--json").stdout)
    assert [(o["operation"], o["dn"].lower()) for o in preview["objects"]] == [
        ("delete", written_back.lower())], preview["summary"]

    # The deletion limits apply to it as to any other delete.
    idsync(a, "export-deletion-threshold", "set", "1")
    cycle(a)
    assert on_premises(slapd, written_back)
    idsync(a, "export-deletion-threshold", "set", "500")
    cycle(a)
    assert not on_premises(slapd, written_back)
    # The cloud keeps the Microsoft 365 group (the sync provisioned only its copy), and A
    # sent nothing of it to the cloud.
    assert cloud_state(tenant) == before

    # Later cycles neither cancel, stage nor recreate anything.
    for _ in range(2):
        cycle(a)
    assert not on_premises(slapd, written_back)
    for connector in ("corp", "aad"):
        assert not json.loads(idsync(a, "export", "preview", connector, "--json").stdout
                              )["objects"], connector
    assert cloud_state(tenant) == before


def test_a_copy_projected_before_is_disconnected_and_its_cloud_add_dropped(
        tmp_path: Path, slapd,  # noqa: F811
        clouddir_factory):  # noqa: F811
    """A server built from a configuration without the writeback settings (an export of an
    earlier version) took the copy for an on-premises group and staged it to the cloud; once
    it knows the writeback OU, the next full synchronization undoes that."""
    tenant = clouddir_factory(v1_member_limit=V1_LIMIT)
    _b, _written_back, config = v2_server_with_a_written_back_group(tmp_path, slapd, tenant)
    server = config / "server.yaml"
    settings = yaml.safe_load(server.read_text("utf-8"))
    writeback = settings.pop("group_writeback")
    server.write_text(yaml.safe_dump(settings), "utf-8")
    a = v1_server(tmp_path / "a", config, slapd, tenant)
    for _ in range(2):
        cycle(a)
    preview = json.loads(idsync(a, "export", "preview", "aad", "--json").stdout)
    assert [o["operation"] for o in preview["objects"]] == ["add"], "the old behaviour"

    idsync(a, "writeback", "enable", "--onprem", "corp", "--cloud", "aad", "--ou",
           writeback["ou"])
    idsync(a, "scheduler", "override", "corp", "--full-sync-required", "true")
    cycle(a)
    preview = json.loads(idsync(a, "export", "preview", "aad", "--json").stdout)
    assert not preview["objects"], preview["summary"]
