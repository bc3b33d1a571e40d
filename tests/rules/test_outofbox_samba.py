"""End to end through the out-of-box rules, AD flavour: a real Samba AD DC (LDAP connector,
objectGUID anchors, sAMAccountName, userAccountControl) -> a real clouddir."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import ldap.modlist
import pytest
from click.testing import CliRunner, Result
from tests.harness.samba import samba_dc  # noqa: F401

import ldap
from idsync.administration.outofbox import install_outofbox
from idsync.cli.main import build
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import run_profile
from idsync.model import RunProfile
from idsync.store import Store

pytestmark = pytest.mark.samba


def test_active_directory_to_cloud_through_the_outofbox_rules(samba_dc, clouddir,  # type: ignore[no-untyped-def]  # noqa: F811
                                                              tmp_path: Path) -> None:
    conn = samba_dc.connect()
    ou = f"OU=oob{uuid.uuid4().hex[:10]},{samba_dc.base_dn}"
    conn.add_s(ou, [("objectClass", [b"organizationalUnit"])])
    suffix = uuid.uuid4().hex[:6]

    def add_user(cn: str, sam: str) -> str:
        dn = f"CN={cn},{ou}"
        conn.add_s(dn, ldap.modlist.addModlist({
            "objectClass": [b"user"], "sAMAccountName": [sam.encode()],
            "userPrincipalName": [f"{sam}@contoso.test".encode()],
            "givenName": [cn.encode()], "sn": [b"Tester"]}))
        return dn

    ann = add_user("Ann", f"ann{suffix}")
    add_user("Sync", f"AAD_{suffix}")  # a default exclusion: never reaches the cloud
    conn.add_s(f"CN=Staff,{ou}", [("objectClass", [b"group"]),
                                  ("sAMAccountName", [f"staff{suffix}".encode()]),
                                  ("member", [ann.encode()])])
    ((_, attrs),) = conn.search_s(ann, ldap.SCOPE_BASE, "(objectClass=*)",
                                  ["objectGUID", "userAccountControl"])
    ann_anchor = base64.b64encode(attrs["objectGUID"][0]).decode()
    ann_enabled = "false" if int(attrs["userAccountControl"][0]) & 2 else "true"
    conn.unbind_s()

    store = Store.open(tmp_path)
    try:
        store.connectors.add("corp", "ldap", samba_dc.connector_settings(
            include_containers=[ou], directory_type="ad"), {"password": samba_dc.password})
        store.connectors.add("cloud", "cloud", clouddir.connector_settings(),
                             clouddir.secrets())
        install_outofbox(store, "corp", "cloud")  # AD flavour: the default
        for connector, profile in (("corp", "fi"), ("cloud", "fi"), ("corp", "fs"),
                                   ("cloud", "fs"), ("cloud", "e"), ("cloud", "fi"),
                                   ("cloud", "fs"), ("cloud", "e"), ("cloud", "di"),
                                   ("cloud", "ds")):
            engine = RunContext(store, str(tmp_path))
            try:
                result = run_profile(engine, connector, RunProfile.parse(profile))
            finally:
                engine.close()
            errors = {e.code for e in store.errors.list()} - {"dn-attributes-failure"}
            assert result.ok and not errors, (connector, profile, result.status,
                                              [(e.code, e.detail) for e in store.errors.list()])
    finally:
        store.close()
    entries, _token, _pages = clouddir.import_all(2)
    synced = {e["source_anchor"]: e for e in entries if e.get("source_anchor")}
    assert len(synced) == 2  # Ann and Staff; the AAD_ account is filtered
    cloud_ann = synced[ann_anchor]  # sourceAnchor = ConvertToBase64(objectGUID)
    assert cloud_ann["attributes"]["userPrincipalName"] == [f"ann{suffix}@contoso.test"]
    assert cloud_ann["attributes"]["accountEnabled"] == [ann_enabled]
    (staff,) = [e for a, e in synced.items() if a != ann_anchor]
    assert staff["object_type"] == "group"
    assert staff["attributes"]["securityEnabled"] == ["true"]
    assert set(staff["members"]["add"]) == {cloud_ann["dn"]}


def test_readme_command_on_active_directory_installs_the_ad_flavour(  # type: ignore[no-untyped-def]
        samba_dc, tmp_path: Path) -> None:  # noqa: F811
    def install(*extra: str) -> Result:
        return CliRunner().invoke(build(), [
            "--workspace", str(tmp_path), "rules", "install-outofbox", "--onprem", "corp",
            "--cloud", "aad", *extra])

    store = Store.open(tmp_path)
    try:
        # directory_type left at auto: the root DSE tells.
        store.connectors.add("corp", "ldap", samba_dc.connector_settings(),
                             {"password": samba_dc.password})
        store.connectors.add("aad", "cloud", {"url": "http://127.0.0.1:9", "tenant_id": "t"},
                             {"token": "x"})
        refused = install("--flavour", "openldap")
        line = " ".join(refused.output.split())
        assert refused.exit_code != 0, refused.output
        assert "--flavour openldap contradicts connector 'corp'" in line, refused.output
        assert "Active Directory" in line and "the flavour is ad" in line
        assert store.rules.find("In from AD - User Join") is None, "nothing installed"
        result = install()
        assert result.exit_code == 0, result.output
        assert "flavour ad" in result.output
        text = json.dumps(store.rules.get("In from AD - User Join").to_dict())
        assert "ConvertToBase64([objectGUID])" in text and "[entryUUID]" not in text
    finally:
        store.close()
