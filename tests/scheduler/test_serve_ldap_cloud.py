"""``idsync serve`` against a real slapd and a real clouddir on loopback, with the out-of-box
rules: scheduled cycles carry a change to the cloud; staging mode exports nothing while the
export preview shows everything; turning staging off sends it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.harness.clouddir_server import clouddir, clouddir_shared  # noqa: F401
from tests.harness.commands import idsync, wait_for
from tests.harness.slapd import needs_slapd, slapd, slapd_factory  # noqa: F401

from idsync.administration.outofbox import install_outofbox
from idsync.store import Store

pytestmark = [pytest.mark.slapd, needs_slapd]


def cloud_users(tenant) -> dict[str, dict]:
    with tenant.client() as http:
        return {u["mailNickname"]: u for u in http.get("/v1.0/users").json()["value"]}


def add_person(server, uid: str, mail: str) -> None:
    server.add(f"uid={uid},ou=People,{server.base_dn}",
               {"objectClass": ["inetOrgPerson"], "uid": uid, "cn": uid.title(), "sn": "S",
                "mail": mail})


def make_server(path: Path, slapd_server, tenant, **aad_settings) -> Path:
    store = Store.open(path)
    try:
        store.connectors.add("corp", "ldap", slapd_server.connector_settings(),
                             {"password": slapd_server.password})
        store.connectors.add("aad", "cloud", tenant.connector_settings(**aad_settings),
                             tenant.secrets())
        install_outofbox(store, "corp", "aad", "openldap")
    finally:
        store.close()
    return path


def test_serve_syncs_ldap_to_cloud_and_staging_holds_exports(
        tmp_path: Path, slapd, clouddir, serve_factory):  # noqa: F811
    for i in range(3):
        add_person(slapd, f"u{i}", f"u{i}@contoso.com")
    ws = make_server(tmp_path / "ws", slapd, clouddir)
    idsync(ws, "scheduler", "set", "--interval", "1s")
    served = serve_factory(ws)
    wait_for(lambda: len(cloud_users(clouddir)) == 3, what="three users in the cloud")
    add_person(slapd, "u3", "u3@contoso.com")
    wait_for(lambda: "u3" in cloud_users(clouddir), what="a new user in the next cycle")

    idsync(ws, "scheduler", "set", "--staging-mode", "true")
    wait_for(lambda: not json.loads(idsync(ws, "cycle", "status", "--json").stdout),
             what="the running cycle to end")
    slapd.modify(f"uid=u1,ou=People,{slapd.base_dn}",
                 [("replace", "mail", ["u1.new@contoso.com"])])
    add_person(slapd, "u4", "u4@contoso.com")
    count = served.cycles()
    wait_for(lambda: served.cycles() >= count + 2, what="two staging cycles")
    users = cloud_users(clouddir)
    assert users["u1"]["mail"] == "u1@contoso.com" and "u4" not in users

    preview = json.loads(idsync(ws, "export", "preview", "aad", "--json").stdout)
    by_op: dict[str, list] = {}
    for obj in preview["objects"]:
        by_op.setdefault(obj["operation"], []).append(obj)
    assert len(by_op["add"]) == 1 and set(by_op) <= {"add", "update"}
    changed = [c for o in by_op["update"] for c in o["changes"]
               if "u1.new@contoso.com" in c["new"]]
    assert changed and all("u1@contoso.com" in c["old"] for c in changed), by_op["update"]

    idsync(ws, "scheduler", "set", "--staging-mode", "false")
    wait_for(lambda: cloud_users(clouddir).get("u4") is not None
             and cloud_users(clouddir)["u1"]["mail"] == "u1.new@contoso.com",
             what="the held exports after staging is turned off")
    assert served.terminate() == 0
