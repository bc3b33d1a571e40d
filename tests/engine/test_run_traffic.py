"""Each run's history records what it sent and received over its connector's transport
(issue 15, class 7): requests and bytes for the cloud (HTTP, real clouddir) and LDAP (operations
and payload, real slapd); bytes read and written for the file connector. ``idsync runs show``
prints them; a synchronization talks to nothing and records none."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_cancelled_cloud_deletes import RULES
from tests.harness.clouddir_server import clouddir, clouddir_shared  # noqa: F401
from tests.harness.commands import idsync
from tests.harness.slapd import needs_slapd, slapd, slapd_factory  # noqa: F401
from tests.harness.workspace import group_entry, ldif, make_workspace, user_entry

from idsync.administration.rule_changes import save_rules
from idsync.rules.files import load_rules_text


def _shown(ws, run_id: int) -> dict:
    return json.loads(idsync(ws.path, "runs", "show", str(run_id), "--json").stdout)


def test_cloud_and_file_runs_record_their_traffic(clouddir, tmp_path: Path  # noqa: F811
                                                  ) -> None:
    users = [f"u{i}" for i in range(20)]
    ws = make_workspace(tmp_path / "ws", ldif(*(user_entry(u) for u in users),
                                              group_entry("all", users)), builtin=False)
    ws.store.connectors.add("cloud", "cloud", clouddir.connector_settings(), clouddir.secrets())
    save_rules(ws.store, load_rules_text(RULES))
    source_fi = ws.run("source", "fi")
    assert source_fi.traffic == {"requests": 0, "bytes_sent": 0,
                                 "bytes_received": os.path.getsize(ws.source_file)}
    cloud_fi = ws.run("cloud", "fi")
    assert cloud_fi.traffic["requests"] >= 2  # ping, one import page
    sync = ws.run("source", "fs")
    assert sync.traffic == {}
    ws.run("cloud", "fs")
    export = ws.run("cloud", "e")
    assert export.counters.get("adds") == 21
    assert export.traffic["requests"] >= 1
    # 21 objects with their attributes and 20 member references went out as JSON.
    assert export.traffic["bytes_sent"] > 21 * 100
    confirm = ws.run("cloud", "di")
    assert confirm.traffic["bytes_received"] > 21 * 100
    shown = _shown(ws, export.run_id)
    assert shown["traffic"] == export.traffic
    text = idsync(ws.path, "runs", "show", str(export.run_id)).stdout
    assert "traffic: bytes sent" in text
    # A delta import of an unchanged changes file reads nothing.
    assert ws.run("source", "di").traffic["bytes_received"] == 0
    ws.change_source("dn: uid=u0,ou=Users,dc=contoso,dc=com\nchangetype: modify\n"
                     "replace: sn\nsn: Other\n-\n")
    size = os.path.getsize(ws.source_changes)
    assert ws.run("source", "di").traffic["bytes_received"] == size


@pytest.mark.slapd
@needs_slapd
def test_ldap_runs_record_operations_and_payload(slapd, tmp_path: Path  # noqa: F811
                                                 ) -> None:
    for i in range(15):
        slapd.add(f"uid=p{i},ou=People,{slapd.base_dn}",
                  {"objectClass": ["inetOrgPerson"], "uid": f"p{i}", "cn": f"Person {i}",
                   "sn": "x" * 200})
    ws = make_workspace(tmp_path / "ws", ldif(user_entry("ann")), builtin=False)
    ws.store.connectors.add("corp", "ldap", slapd.connector_settings(page_size=5),
                            {"password": slapd.password})
    result = ws.run("corp", "fi")
    assert result.ok, result.message
    # A bind, the root DSE and at least four pages of five entries.
    assert result.traffic["requests"] >= 5, result.traffic
    assert result.traffic["bytes_received"] > 15 * 200
    assert result.traffic["bytes_sent"] > 0
    assert _shown(ws, result.run_id)["traffic"] == result.traffic
