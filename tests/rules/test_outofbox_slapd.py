"""End to end through the out-of-box rules: a real OpenLDAP slapd (LDAP connector) -> a real
clouddir (cloud connector), then a change on-premises flows on the next cycle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.harness.slapd import slapd, slapd_factory  # noqa: F401

from idsync.administration.outofbox import install_outofbox
from idsync.cli.main import build
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import run_profile
from idsync.model import RunProfile
from idsync.store import Store

pytestmark = pytest.mark.slapd


def person(uid: str, mail: bool = True) -> dict[str, list[str]]:
    attrs = {"objectClass": ["inetOrgPerson"], "uid": [uid], "cn": [uid.title()],
             "sn": ["Tester"], "givenName": [uid.title()]}
    if mail:
        attrs["mail"] = [f"{uid}@example.com"]
    return attrs


def test_openldap_to_cloud_through_the_outofbox_rules(slapd, clouddir, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    base = slapd.base_dn
    for uid in ("ann", "bob"):
        slapd.add(f"uid={uid},ou=People,{base}", person(uid))
    slapd.add(f"cn=staff,ou=Groups,{base}", {
        "objectClass": ["groupOfNames"], "cn": ["staff"],
        "member": [f"uid=ann,ou=People,{base}", f"uid=bob,ou=People,{base}"]})
    store = Store.open(tmp_path)
    try:
        store.connectors.add("corp", "ldap", slapd.connector_settings(
            directory_type="openldap", change_detection="accesslog"),
            {"password": slapd.password})
        store.connectors.add("cloud", "cloud", clouddir.connector_settings(),
                             clouddir.secrets())
        install_outofbox(store, "corp", "cloud")  # flavour from directory_type

        def run(connector: str, profile: str) -> None:
            engine = RunContext(store, str(tmp_path))
            try:
                result = run_profile(engine, connector, RunProfile.parse(profile))
            finally:
                engine.close()
            # dn-attributes-failure is informational (a member exported in the same batch as
            # its group); it clears on the next export. Anything else fails the test.
            errors = {e.code for e in store.errors.list()} - {"dn-attributes-failure"}
            assert result.ok and not errors, (
                connector, profile, result.status, result.message,
                [(e.code, e.detail) for e in store.errors.list()])

        for step in (("corp", "fi"), ("cloud", "fi"), ("corp", "fs"), ("cloud", "fs"),
                     ("cloud", "e"), ("cloud", "fi"), ("cloud", "fs"),
                     ("cloud", "e"), ("cloud", "di"), ("cloud", "ds")):
            run(*step)
        entries, _token, _pages = clouddir.import_all(2)
        synced = {e["attributes"].get("displayName", [""])[0]: e for e in entries
                  if e.get("source_anchor")}
        assert set(synced) == {"Ann", "Bob", "staff"}
        ann = synced["Ann"]
        ann_uuid = slapd.search(f"uid=ann,ou=People,{base}", "(objectClass=*)",
                                attrs=["entryUUID"])[0][1]["entryUUID"][0]
        ann_uuid = ann_uuid.decode() if isinstance(ann_uuid, bytes) else ann_uuid
        assert ann["source_anchor"] == ann_uuid
        assert ann["attributes"]["userPrincipalName"] == ["ann@example.com"]
        assert set(synced["staff"]["members"]["add"]) == {ann["dn"], synced["Bob"]["dn"]}

        # A change on-premises: a delta cycle carries it to the cloud.
        slapd.modify(f"uid=ann,ou=People,{base}", [("replace", "displayName", ["Ann Smith"])])
        for step in (("corp", "di"), ("corp", "ds"), ("cloud", "e"), ("cloud", "di"),
                     ("cloud", "ds")):
            run(*step)
        entries, _token, _pages = clouddir.import_all(2)
        names = {e["attributes"].get("displayName", [""])[0] for e in entries}
        assert "Ann Smith" in names and "Ann" not in names
    finally:
        store.close()


# --- the README's command: the flavour comes from the connector -------------------------------


def installed_anchor(store: Store) -> str:
    """The source anchor transformation of the installed In from AD - User Join rule."""
    rule = store.rules.get("In from AD - User Join")
    text = json.dumps(rule.to_dict())
    return "entryUUID" if "[entryUUID]" in text else "objectGUID" if "objectGUID" in text else "?"


def readme_install(workspace: Path, *extra: str) -> Result:
    return CliRunner().invoke(build(), ["--workspace", str(workspace), "rules",
                                        "install-outofbox", "--onprem", "corp", "--cloud", "aad",
                                        *extra])


def test_readme_command_on_openldap_installs_the_openldap_flavour(  # type: ignore[no-untyped-def]
        slapd, tmp_path: Path) -> None:  # noqa: F811
    store = Store.open(tmp_path)
    try:
        # directory_type left at auto, as `connector add` leaves it: only the server can tell.
        store.connectors.add("corp", "ldap", slapd.connector_settings(),
                             {"password": slapd.password})
        store.connectors.add("aad", "cloud", {"url": "http://127.0.0.1:9", "tenant_id": "t"},
                             {"token": "x"})
        refused = readme_install(tmp_path, "--flavour", "ad")
        assert refused.exit_code != 0 and "Traceback" not in refused.output, refused.output
        line = " ".join(refused.output.split())
        assert "--flavour ad contradicts connector 'corp'" in line, refused.output
        assert "OpenLDAP" in line and "the flavour is openldap" in line
        assert store.rules.find("In from AD - User Join") is None, "nothing installed"

        result = readme_install(tmp_path)
        assert result.exit_code == 0, result.output
        assert "flavour openldap" in result.output
        assert installed_anchor(store) == "entryUUID"
        # Saying the right flavour is fine too.
        assert readme_install(tmp_path, "--flavour", "openldap").exit_code == 0
    finally:
        store.close()


def test_an_unreachable_directory_needs_the_flavour_named(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    try:
        store.connectors.add("corp", "ldap", {"uri": "ldap://127.0.0.1:9", "bind_dn": "",
                                              "partitions": ["dc=example,dc=com"],
                                              "timeout": 2}, {})
        store.connectors.add("aad", "cloud", {"url": "http://127.0.0.1:9", "tenant_id": "t"},
                             {"token": "x"})
        refused = readme_install(tmp_path)
        assert refused.exit_code != 0, refused.output
        line = " ".join(refused.output.split())
        assert "cannot tell whether 'corp' is Active Directory or OpenLDAP" in line
        assert "ldap://127.0.0.1:9" in line and "--flavour ad or --flavour openldap" in line
        assert "Traceback" not in refused.output
        assert store.rules.find("In from AD - User Join") is None
        named = readme_install(tmp_path, "--flavour", "openldap")
        assert named.exit_code == 0, named.output
        assert installed_anchor(store) == "entryUUID"
    finally:
        store.close()
