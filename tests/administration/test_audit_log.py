"""The administrator audit log (idsync.administration.audit, ``idsync audit list``): every change
made through the command line names the admin (the OS user), the action, the target and
old -> new; secret values never appear; a refused change writes nothing."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.harness.commands import idsync

from idsync.administration.audit import (
    SECRET_CHANGED,
    AuditAction,
    Via,
    acting_as,
    record_change,
)
from idsync.secrets import redaction
from idsync.store import Store

CORP_SECRET = "corp-bind-password-1"
CORP_SECRET_NEW = "corp-bind-password-2"
CLOUD_TOKEN = "cloud-bearer-token-3"
COPY = "Out to AD - Group Writeback (copy)"
ENV = {"CORP_SECRET": CORP_SECRET, "CORP_SECRET_NEW": CORP_SECRET_NEW,
       "CLOUD_TOKEN": CLOUD_TOKEN}


def entries(ws: Path, *args: str) -> list[dict[str, Any]]:
    return json.loads(idsync(ws, "audit", "list", "--json", "--limit", "0", *args).stdout)


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A workspace changed once in each way an administrator changes one (no server is
    reached: the connectors are only configured)."""
    ws = tmp_path_factory.mktemp("audit") / "ws"
    idsync(ws, "init")
    idsync(ws, "connector", "add", "corp", "--type", "ldap",
           "--set", "uri=ldaps://dc1.corp.example:636",
           "--set", "bind_dn=cn=sync,dc=corp,dc=example",
           "--set", 'partitions=["dc=corp,dc=example"]',
           "--secret-env", "password=CORP_SECRET", env=ENV)
    idsync(ws, "connector", "add", "cloud", "--type", "cloud", "--set", "url=https://127.0.0.1:9",
           "--set", "tenant_id=t1", "--set", "export_api_version=1",
           "--set", "import_api_version=1", "--secret-env", "token=CLOUD_TOKEN", env=ENV)
    idsync(ws, "connector", "set", "corp", "--set", "page_size=200",
           "--secret-env", "password=CORP_SECRET_NEW", env=ENV)
    idsync(ws, "scheduler", "set", "--interval", "45m")
    idsync(ws, "scheduler", "set", "--staging-mode", "true")
    idsync(ws, "export-deletion-threshold", "set", "77")
    idsync(ws, "connector", "set-api-version", "cloud", "--export", "2", "--import", "2")
    idsync(ws, "writeback", "enable", "--onprem", "corp", "--cloud", "cloud",
           "--ou", "ou=wb,dc=corp,dc=example")
    idsync(ws, "rules", "copy", "Out to AD - Group Writeback", "--precedence", "50")
    idsync(ws, "rules", "edit", COPY, "--precedence", "60", "--description", "edited")
    yield ws


def only(found: list[dict[str, Any]], action: AuditAction) -> dict[str, Any]:
    matching = [e for e in found if e["action"] == action.value]
    assert len(matching) == 1, (action, found)
    return matching[0]


def test_each_change_names_the_admin_the_action_the_target_and_old_and_new(
        changed: Path) -> None:
    found = entries(changed)
    assert {e["admin"] for e in found} == {getpass.getuser()}
    assert {e["via"] for e in found} == {"cli"}
    assert [e["id"] for e in found] == sorted((e["id"] for e in found), reverse=True)

    edit = only(found, AuditAction.RULE_EDIT)
    assert edit["target"] == COPY
    assert edit["old"]["precedence"] == 50 and edit["new"]["precedence"] == 60
    assert edit["new"]["description"] == "edited"
    copy = only(found, AuditAction.RULE_COPY)
    assert copy["target"] == "Out to AD - Group Writeback"
    assert copy["old"] == {"disabled": False}
    assert copy["new"] == {"disabled": True, "copy": COPY, "precedence": 50}

    connector_set = only(found, AuditAction.CONNECTOR_SET)
    assert connector_set["target"] == "corp"
    assert connector_set["old"] == {"page_size": None, "secrets": {"password": SECRET_CHANGED}}
    assert connector_set["new"] == {"page_size": 200, "secrets": {"password": SECRET_CHANGED}}
    added = [e for e in found if e["action"] == AuditAction.CONNECTOR_ADD.value]
    assert {e["target"] for e in added} == {"corp", "cloud"}

    scheduler = only(found, AuditAction.SCHEDULER_SET)
    assert (scheduler["old"], scheduler["new"]) == ({"customized_interval": None},
                                                    {"customized_interval": 2700})
    staging = only(found, AuditAction.STAGING_MODE)
    assert (staging["old"], staging["new"]) == ({"staging_mode": False}, {"staging_mode": True})
    threshold = only(found, AuditAction.EXPORT_DELETION_THRESHOLD)
    assert threshold["new"] == {"count": 77} and threshold["old"] == {"count": 500}
    api = only(found, AuditAction.API_VERSION)
    assert api["target"] == "cloud"
    assert api["old"] == {"export_api_version": 1, "import_api_version": 1}
    assert api["new"] == {"export_api_version": 2, "import_api_version": 2}
    writeback = only(found, AuditAction.WRITEBACK_ENABLE)
    assert writeback["old"] is None and writeback["new"]["ou"] == "ou=wb,dc=corp,dc=example"


def test_no_secret_value_appears_in_the_log(changed: Path) -> None:
    table = idsync(changed, "audit", "list", "--limit", "0").stdout
    text = json.dumps(entries(changed)) + table
    for secret in (CORP_SECRET, CORP_SECRET_NEW, CLOUD_TOKEN):
        assert secret not in text
    assert "connector.set" in table and "corp" in table and "->" in table


def test_the_table_and_the_filters(changed: Path) -> None:
    table = idsync(changed, "audit", "list").stdout
    assert getpass.getuser() in table and "rule.edit" in table and COPY[:10] in table
    assert entries(changed, "--admin", "nobody-else") == []
    api = entries(changed, "--action", "api-version")
    assert [e["target"] for e in api] == ["cloud"]
    assert len(json.loads(idsync(changed, "audit", "list", "--json", "--limit", "1").stdout)) == 1
    assert entries(changed, "--since", "2999-01-01") == []


def test_a_refused_change_writes_no_entry(changed: Path) -> None:
    before = entries(changed)
    refused = [
        ("rules", "edit", COPY, "--transformation", "description=Bogus(("),
        ("rules", "edit", "Out to AD - Group Writeback", "--precedence", "70"),  # reserved
        ("export-deletion-threshold", "set", "0"),
        ("connector", "set", "corp", "--set", "page_size=-5"),
        ("scheduler", "set", "--interval", "soon"),
        ("connector", "set-api-version", "corp", "--export", "2", "--import", "2"),
    ]
    for args in refused:
        assert idsync(changed, *args, check=False).returncode != 0, args
    assert entries(changed) == before
    unchanged = idsync(changed, "export-deletion-threshold", "set", "77")  # the same value
    assert unchanged.returncode == 0
    assert entries(changed) == before


def test_the_ui_records_through_the_same_function_as_its_admin(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "ws")
    try:
        redaction.remember("a-token-the-process-opened")
        with acting_as("alice", Via.UI), store.transaction():
            record_change(store, AuditAction.SCHEDULER_SET, "scheduler",
                          {"note": "x"}, {"note": "a-token-the-process-opened"})
        with pytest.raises(RuntimeError), store.transaction():
            record_change(store, AuditAction.SCHEDULER_SET, "scheduler", None, {"n": 1})
            raise RuntimeError("the change failed: its entry goes with it")
        [entry] = store.audit.list()
        assert (entry.admin, entry.via, entry.action) == ("alice", "ui", "scheduler.set")
        assert entry.new == {"note": redaction.MASK}
    finally:
        store.close()


def test_cycle_start_and_stop_on_the_command_line_are_audited(tmp_path):
    """`idsync cycle start` (run here, no service) names the OS user; a stop with no cycle
    running records nothing."""
    ws = tmp_path / "ws"
    idsync(ws, "init")
    idsync(ws, "cycle", "start", "--policy", "delta")
    stopped = idsync(ws, "cycle", "stop")
    assert "no sync cycle is running" in stopped.stdout
    entries = json.loads(idsync(ws, "audit", "list", "--json").stdout)
    cycle = [e for e in entries if e["action"].startswith("cycle.")]
    assert [(e["action"], e["via"], e["new"]) for e in cycle] == [
        ("cycle.start", "cli", {"policy": "delta"})]
