"""The engine's administration commands, driven as an administrator does: idsync init,
connector add/list/show/set, run, cs/mv search and show, runs, errors, events, rules
export/import and the deletion threshold."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import idsync.cli.connector
import idsync.cli.demo
import idsync.cli.history
import idsync.cli.rules
import idsync.cli.run
import idsync.cli.spaces
import idsync.cli.threshold
import idsync.cli.workspace
from idsync.cli.main import cli
from idsync.sample import sample_path

TARGET_SKELETON = "version: 1\n\ndn: dc=fabrikam,dc=com\nobjectClass: dcObject\ndc: fabrikam\n"


class Idsync:
    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool | None = True) -> object:
        result = self.runner.invoke(cli, ["--workspace", str(self.workspace), *args],
                                    catch_exceptions=False)
        if ok is True:
            assert result.exit_code == 0, result.output
        elif ok is False:
            assert result.exit_code != 0, result.output
        return result

    def json(self, *args: str) -> object:
        return json.loads(self(*args, "--json").output)


@pytest.fixture
def idsync(tmp_path: Path) -> Idsync:
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copyfile(sample_path(), ws / "contoso.ldif")
    (ws / "fabrikam.ldif").write_text(TARGET_SKELETON)
    return Idsync(ws)


def setup_connectors(idsync: Idsync) -> None:
    idsync("init")
    idsync("connector", "add", "contoso", "--type", "file", "--set", "path=contoso.ldif",
           "--set", "changes_path=contoso.changes.ldif")
    (idsync.workspace.parent / "fabrikam.password").write_text("hunter2\n")
    idsync("connector", "add", "fabrikam", "--type", "file", "--set", "path=fabrikam.ldif",
           "--secret-file", f"password={idsync.workspace.parent / 'fabrikam.password'}")
    from idsync.administration.rule_changes import save_rules
    from idsync.rules.files import builtin_rule_set
    from idsync.store import Store

    store = Store.open(idsync.workspace)
    save_rules(store, builtin_rule_set("directory-to-directory", source="contoso",
                                       target="fabrikam", target_base="dc=fabrikam,dc=com"),
               installing_builtin=True)
    store.close()


def test_commands_need_a_workspace(idsync: Idsync) -> None:
    result = idsync("connector", "list", ok=False)
    assert result.exit_code == 2 and "idsync --workspace" in result.output


def test_connectors_and_secrets(idsync: Idsync) -> None:
    setup_connectors(idsync)
    listed = idsync.json("connector", "list")
    assert [c["name"] for c in listed] == ["contoso", "fabrikam"]
    shown = idsync.json("connector", "show", "fabrikam")
    assert shown["secrets"] == {"password": "********"}
    assert "hunter2" not in idsync("connector", "show", "fabrikam").output
    bad = idsync("connector", "add", "x", "--type", "file", "--set", "nonsense=1", ok=False)
    assert "nonsense" in bad.output
    idsync("connector", "set", "contoso", "--set", "changes_path=other.ldif")
    assert idsync.json("connector", "show", "contoso")["full_import_required"] is True


def test_run_search_history(idsync: Idsync) -> None:
    setup_connectors(idsync)
    run = idsync.json("run", "contoso", "Full Import")
    assert run["status"] == "success" and run["counters"]["adds"] == 1150
    assert idsync("run", "contoso", "nonsense", ok=False).exit_code == 2
    assert idsync.json("cs", "search", "contoso", "--count") == {"count": 1150}
    groups = idsync.json("cs", "search", "contoso", "--object-type", "group", "--limit", "3")
    assert len(groups) == 3
    assert {"id", "object_type", "dn", "attributes"} <= set(groups[0])
    assert all(m.endswith("dc=contoso,dc=com") for m in groups[0]["attributes"]["member"])
    idsync("run", "contoso", "fs")
    people = idsync.json("mv", "search", "--object-type", "person", "--limit", "0")
    assert len(people) == 1000
    shown = idsync.json("mv", "show", str(people[0]["id"]))
    assert shown["lineage"]["displayName"]["rule"] == "In from contoso - User Join"
    assert shown["lineage"]["displayName"]["connector"] == "contoso"
    pending = idsync.json("cs", "search", "fabrikam", "--pending-export", "--limit", "0")
    assert len(pending) == 1100 and pending[0]["pending_export"]["kind"] == "add"
    export = idsync.json("run", "fabrikam", "Export")
    assert export["counters"]["adds"] == 1100
    runs = idsync.json("runs", "list")
    assert [r["profile"] for r in runs][:3] == ["Export", "Full Synchronization",
                                                "Full Import"]
    detail = idsync.json("runs", "show", str(runs[0]["id"]))
    assert detail["status"] == "success" and detail["errors"] == []
    assert idsync.json("events", "list", "--id", "1001")
    assert idsync.json("errors", "list") == []


def test_rules_export_and_import(idsync: Idsync, tmp_path: Path) -> None:
    setup_connectors(idsync)
    idsync("rules", "export", str(tmp_path / "rules"))
    files = sorted((tmp_path / "rules").glob("*.yaml"))
    assert len(files) == 4
    rule_file = tmp_path / "mine.yaml"
    rule_file.write_text("""
name: My rule
direction: inbound
connector: contoso
cs_object_type: user
mv_object_type: person
precedence: 10
transformations:
  - {target: x, flow_type: Expression, source: 'Left([cn], 3'}
""")
    bad = idsync("rules", "import", str(rule_file), ok=False)
    assert "line 1, column" in bad.output and "^" in bad.output
    rule_file.write_text(rule_file.read_text().replace("Left([cn], 3'", "Left([cn], 3)'"))
    idsync("rules", "import", str(rule_file))
    assert "My rule" in [r["name"] for r in idsync.json("rules", "list")]
    assert idsync.json("connector", "show", "contoso")["full_sync_required"] is True
    idsync("rules", "disable", "My rule")
    idsync("rules", "delete", "My rule")
    assert "My rule" not in [r["name"] for r in idsync.json("rules", "list")]


def test_deletion_threshold_stops_an_export(idsync: Idsync) -> None:
    setup_connectors(idsync)
    for c, p in (("contoso", "fi"), ("contoso", "fs"), ("fabrikam", "e"), ("fabrikam", "fi")):
        idsync("run", c, p)
    assert idsync.json("export-deletion-threshold", "show") == {"enabled": True, "count": 500}
    idsync("export-deletion-threshold", "set", "5")
    # remove 10 users from the source directory
    source = idsync.workspace / "contoso.ldif"
    text = source.read_text()
    blocks = text.split("\n\n")
    users = [i for i, b in enumerate(blocks) if "objectClass: inetOrgPerson" in b][:10]
    source.write_text("\n\n".join(b for i, b in enumerate(blocks) if i not in users))
    # the full import notices it would stage 10 deletes: at or past the threshold, none staged
    stopped = idsync("run", "contoso", "fi", "--json", ok=False)
    assert json.loads(stopped.output)["status"] == "stopped-deletion-threshold-exceeded"
    assert idsync.json("events", "list", "--id", "118")
    idsync("run", "contoso", "fi", "--accept-deletes")
    idsync("run", "contoso", "ds")
    stopped = json.loads(idsync("run", "fabrikam", "e", "--json", ok=False).output)
    assert stopped["status"] == "stopped-deletion-threshold-exceeded"
    assert "10 deletes of user" in stopped["message"]
    assert idsync.json("events", "list", "--id", "116")
    idsync("export-deletion-threshold", "disable")
    assert idsync.json("run", "fabrikam", "e")["counters"]["deletes"] == 10
    idsync("export-deletion-threshold", "enable")
    assert idsync.json("export-deletion-threshold", "show")["enabled"] is True


@pytest.mark.sqlite_only  # the demo always keeps its own SQLite file, whatever names a database
def test_demo_runs_from_nothing(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = tmp_path / "demo"
    result = runner.invoke(cli, ["--workspace", str(ws), "demo", "--json"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert all(s["status"] == "success" for s in data["stages"])
    assert data["totals"]["metaverse_persons"] >= 1000
    assert data["totals"]["pending_exports"] == 0 and data["totals"]["errors"] == 0
    assert data["totals"]["cloud_objects"] == 1150
    # the demo owns its folder: a second run starts afresh, here into a file directory
    again = runner.invoke(cli, ["--workspace", str(ws), "demo", "--json", "--no-churn",
                                "--target", "file"], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["totals"]["fabrikam_objects"] == 1100


@pytest.mark.sqlite_only  # as above
def test_demo_never_touches_a_workspace_it_did_not_make(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder whose workspace lives in PostgreSQL (workspace.yaml) is refused like one with
    idsync.db; a database named in the environment is never written: the demo uses its file."""
    from idsync.store import write_workspace_config

    real = tmp_path / "real"
    write_workspace_config(real, "postgresql://idsync@127.0.0.1:1/prod")
    refused = CliRunner().invoke(cli, ["--workspace", str(real), "demo", "--json"])
    assert refused.exit_code != 0 and "not a demo" in refused.output
    assert sorted(p.name for p in real.iterdir()) == ["workspace.yaml"]
    # An unreachable database in the environment: the demo would fail if it used it.
    monkeypatch.setenv("IDSYNC_DATABASE_URL", "postgresql://idsync@127.0.0.1:1/prod")
    ok = CliRunner().invoke(cli, ["--workspace", str(tmp_path / "demo"), "demo", "--json",
                                  "--no-churn", "--target", "file"], catch_exceptions=False)
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "demo" / "idsync.db").exists()


@pytest.mark.slapd
@pytest.mark.sqlite_only  # as above
def test_demo_with_a_local_slapd_source(tmp_path: Path) -> None:
    from idsync.lab.slapd import slapd_available

    assert slapd_available(), "slapd is installed by scripts/setup.sh --all"
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path / "demo"), "demo", "--ldap",
                                      "--target", "file", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert all(s["status"] == "success" for s in data["stages"])
    first = data["stages"][0]
    assert first["connector"] == "contoso" and first["counters"]["adds"] == 1100
    delta_import = next(s for s in data["stages"] if s["cycle"] == "delta")
    assert delta_import["counters"].get("updates", 0) >= 20
    assert delta_import["counters"].get("deletes", 0) == 5
    assert data["totals"]["pending_exports"] == 0 and data["totals"]["errors"] == 0
