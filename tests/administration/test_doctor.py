"""``idsync doctor``: one line per check, --json, non-zero exit on FAIL; against the file
connector and a real slapd (bind and schema)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.harness.commands import idsync
from tests.harness.slapd import needs_slapd, slapd, slapd_factory  # noqa: F401
from tests.harness.workspace import Workspace

from idsync.administration.rule_changes import save_rules
from idsync.rules.files import load_rules_text
from idsync.scheduler.cycle import CycleRunner


def checks(ws_path: Path, *args: str) -> tuple[int, dict[str, dict[str, str]]]:
    result = idsync(ws_path, "doctor", "--json", *args, check=False)
    data = json.loads(result.stdout)
    return result.returncode, {c["name"]: c for c in data["checks"]}


def test_healthy_installation(small_workspace: Workspace):
    ws = small_workspace
    CycleRunner(ws.store, str(ws.path)).run()
    code, by_name = checks(ws.path)
    assert code == 0
    assert by_name["connector source"]["status"] == "OK"
    assert "reachable" in by_name["connector source"]["detail"]
    assert by_name["sync rules"]["status"] == "OK"
    assert by_name["last sync cycle"]["status"] == "OK"
    assert by_name["database"]["status"] == "OK"
    assert by_name["service"]["status"] == "WARN"  # not running
    text = idsync(ws.path, "doctor").stdout
    assert all(line.split()[0] in ("OK", "WARN", "FAIL") for line in text.splitlines())


def test_unreachable_connector_fails(small_workspace: Workspace):
    ws = small_workspace
    ws.source_file.unlink()
    code, by_name = checks(ws.path)
    assert code == 1
    assert by_name["connector source"]["status"] == "FAIL"
    assert "does not exist" in by_name["connector source"]["detail"]
    code, by_name = checks(ws.path, "--offline")
    assert code == 0 and by_name["connector source"]["status"] == "OK"


def test_staging_server_and_disabled_scheduler_are_reported(small_workspace: Workspace):
    ws = small_workspace
    idsync(ws.path, "scheduler", "set", "--staging-mode", "true", "--sync-cycle-enabled",
           "false")
    CycleRunner(ws.store, str(ws.path)).run()
    code, by_name = checks(ws.path)
    assert code == 0
    assert by_name["scheduler"]["status"] == "WARN"
    assert "held by staging mode" in by_name["pending exports target"]["detail"]


@pytest.mark.slapd
@needs_slapd
def test_ldap_bind_and_rule_attributes_against_the_schema(tmp_path: Path, slapd):  # noqa: F811
    from idsync.store import Store

    store = Store.open(tmp_path / "ws")
    try:
        store.connectors.add("corp", "ldap", slapd.connector_settings(),
                             {"password": slapd.password})
        save_rules(store, load_rules_text("""
rules:
  - name: In from corp - users
    direction: inbound
    connector: corp
    cs_object_type: user
    mv_object_type: person
    link_type: Provision
    transformations:
      - {target: displayName, flow_type: Direct, source: displayName}
      - {target: favouriteColour, flow_type: Direct, source: favouriteColour}
"""))
    finally:
        store.close()
    code, by_name = checks(tmp_path / "ws")
    assert by_name["connector corp"]["status"] == "OK", by_name
    assert by_name["schema corp"]["status"] == "FAIL"
    assert "favouriteColour" in by_name["schema corp"]["detail"]
    assert "displayName" not in by_name["schema corp"]["detail"]
    assert code == 1

    # A wrong password: the bind fails.
    store = Store.open(tmp_path / "ws")
    try:
        corp = store.connectors.get("corp")
        store.connectors.update(corp.id, secrets={"password": "wrong"})
    finally:
        store.close()
    code, by_name = checks(tmp_path / "ws")
    assert code == 1 and by_name["connector corp"]["status"] == "FAIL"
