"""The data-safety guards between a real slapd and a real clouddir, with the out-of-box rules:
a mass `title` removal read by a delta import is held before synchronization and nothing of it
reaches the cloud until accepted; a mistake that removes 90% of a group's members holds that
group's export alone until it is allowed once (both stores)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.harness.clouddir_server import clouddir, clouddir_shared  # noqa: F401
from tests.ldap.helpers import person

from idsync.administration.outofbox import install_outofbox
from idsync.cli.main import build
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import RunResult, run_profile
from idsync.model import RunProfile
from idsync.store import Store

pytestmark = pytest.mark.slapd

USERS = 120


class Hybrid:
    def __init__(self, path: Path, server: Any, tenant: Any) -> None:
        self.path = path
        self.server = server
        self.tenant = tenant
        self.store = Store.open(path)
        self.store.connectors.add("corp", "ldap", server.connector_settings(
            change_detection="accesslog"), {"password": server.password})
        self.store.connectors.add("aad", "cloud", tenant.connector_settings(), tenant.secrets())
        install_outofbox(self.store, "corp", "aad", "openldap")

    def run(self, connector: str, profile: str, **kwargs: Any) -> RunResult:
        engine = RunContext(self.store, str(self.path))
        try:
            return run_profile(engine, connector, RunProfile.parse(profile), **kwargs)
        finally:
            engine.close()

    def cycle(self, corp_import: str = "di") -> str:
        for connector, profile in (("corp", corp_import), ("corp", "ds"), ("aad", "e"),
                                   ("aad", "di"), ("aad", "ds")):
            result = self.run(connector, profile)
            assert result.ok, (connector, profile, result.status, result.message)
            if profile == "e":
                status = result.status
        return status

    def initial(self) -> None:
        for connector, profile in (("corp", "fi"), ("aad", "fi"), ("corp", "fs"), ("aad", "fs"),
                                   ("aad", "e"), ("aad", "fi"), ("aad", "fs")):
            result = self.run(connector, profile)
            assert result.ok, (connector, profile, result.status, result.message)

    def idsync(self, *args: str) -> str:
        result = CliRunner().invoke(build(), ["--workspace", str(self.path), *args],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    def cloud_users(self) -> list[dict[str, Any]]:
        with self.tenant.client() as http:
            return http.get("/v1.0/users", params={"$top": 999}).json()["value"]

    def cloud_mail(self) -> dict[str, str | None]:
        return {u["mailNickname"]: u.get("mail") for u in self.cloud_users()}

    def cloud_titles(self) -> dict[str, str | None]:
        return {u["mailNickname"]: u.get("jobTitle") for u in self.cloud_users()}

    def cloud_members(self, name: str) -> int:
        with self.tenant.client() as http:
            [g] = [g for g in http.get("/v1.0/groups").json()["value"]
                   if g["displayName"] == name]
            listed = http.get(f"/v1.0/groups/{g['id']}/members", params={"$top": 999}).json()
        return len(listed["value"])


@pytest.fixture
def hybrid(slapd, clouddir, tmp_path: Path) -> Iterator[Hybrid]:  # noqa: F811
    for i in range(USERS):
        slapd.add(f"uid=u{i},ou=People,{slapd.base_dn}", person(
            f"u{i}", mail=f"u{i}@contoso.com", title="Engineer"))
    slapd.add(f"cn=team,ou=Groups,{slapd.base_dn}", {
        "objectClass": ["groupOfNames"], "cn": "team",
        "member": [f"uid=u{i},ou=People,{slapd.base_dn}" for i in range(30)]})
    h = Hybrid(tmp_path / "ws", slapd, clouddir)
    h.initial()
    yield h
    h.store.close()


def test_a_title_wipe_read_by_a_delta_import_never_reaches_the_cloud(hybrid: Hybrid) -> None:
    """(Clearing mail would also clear the users' UPN, which the cloud refuses anyway: title
    shows what would have gone through.)"""
    assert sum(1 for t in hybrid.cloud_titles().values() if t) == USERS
    s = hybrid.server
    for i in range(100):
        s.modify(f"uid=u{i},ou=People,{s.base_dn}", [("delete", "title", None)])
    stopped = hybrid.run("corp", "di")
    assert stopped.status == "stopped-attribute-change-limit"
    assert "title cleared or changed on 100 of 120" in (stopped.message or "")
    assert hybrid.run("corp", "ds").status == "stopped-attribute-change-limit"
    assert hybrid.run("aad", "e").ok
    assert sum(1 for t in hybrid.cloud_titles().values() if t) == USERS
    # accepted on purpose: the synchronization takes it and the export sends it
    assert hybrid.run("corp", "ds", accept_changes=True).ok
    assert hybrid.run("aad", "e").ok
    assert sum(1 for t in hybrid.cloud_titles().values() if t) == USERS - 100
    # the cloud's import confirming our own mass change holds nothing
    for profile in ("di", "ds"):
        assert hybrid.run("aad", profile).ok


def test_a_90_percent_member_removal_holds_that_group_alone(hybrid: Hybrid) -> None:
    assert hybrid.cloud_members("team") == 30
    s = hybrid.server
    s.modify(f"cn=team,ou=Groups,{s.base_dn}", [
        ("replace", "member", [f"uid=u{i},ou=People,{s.base_dn}" for i in range(3)])])
    s.modify(f"uid=u119,ou=People,{s.base_dn}", [("replace", "mail", ["new@contoso.com"])])
    assert hybrid.cycle() == "completed-export-errors"
    assert hybrid.cloud_members("team") == 30
    assert hybrid.cloud_mail()["u119"] == "new@contoso.com"
    errors = hybrid.idsync("errors", "list", "--connector", "aad", "--json")
    assert "member-removal-limit-exceeded" in errors
    [team] = [o for o in hybrid.store.cs.search(hybrid.store.connectors.get("aad").id,
                                                object_type="group")]
    hybrid.idsync("exports", "allow-member-removals", "aad", team.dn)
    assert hybrid.run("aad", "e").status == "success"
    assert hybrid.cloud_members("team") == 3
