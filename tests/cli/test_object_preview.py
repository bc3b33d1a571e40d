"""``idsync object preview CONNECTOR --dn DN [--commit]``: one object's whole path as a step
trace that changes nothing, then committed alone (its import, synchronization and export as
recorded runs), while other pending exports stay pending. On the file connectors and on a real
OpenLDAP (slapd)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.harness.clouddir_server import clouddir, clouddir_shared  # noqa: F401 - fixtures
from tests.harness.hybrid import make_hybrid
from tests.harness.hybrid import person as hybrid_person
from tests.harness.slapd import SlapdServer, slapd, slapd_factory  # noqa: F401 - fixtures
from tests.harness.workspace import (
    SOURCE_BASE,
    TARGET_BASE,
    TARGET_SKELETON,
    Workspace,
    group_entry,
    ldif,
    target_dn,
    user_entry,
    workspace_factory,  # noqa: F401 - fixture
)
from tests.ldap.helpers import person

from idsync.administration.rule_changes import save_rules
from idsync.cli.main import cli
from idsync.model import ExportKind, ExportState
from idsync.rules.files import builtin_rule_set
from idsync.scheduler.lock import CycleLock
from idsync.scheduler.settings import set_staging_mode
from idsync.store import Store


def snapshot(store: Store) -> dict[str, list[str]]:
    """Every row of every table (the test reads the store whole; the product never does)."""
    return {t: sorted(repr(r) for r in store.db.query(f"SELECT * FROM {t}"))
            for t in store.db.tables()}


def idsync(ws: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["--workspace", str(ws), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def add_user(ws: Workspace, uid: str, **kwargs: Any) -> None:
    ws.change_source(user_entry(uid, **kwargs).replace(
        "\nobjectClass:", "\nchangetype: add\nobjectClass:", 1))


def steps(trace: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in trace["steps"] if s["step"] == kind]


def test_preview_changes_nothing_and_commit_exports_only_that_object(
        workspace_factory: Any) -> None:  # noqa: F811 - the fixture
    ws: Workspace = workspace_factory(ldif(user_entry("ann", mail="ann@contoso.com"),
                                           user_entry("bob")))
    ws.initial_cycle()
    # Another object's change waits to be exported: commit must leave it pending.
    ws.change_source(f"dn: uid=bob,ou=Users,{SOURCE_BASE}\nchangetype: modify\n"
                     "replace: sn\nsn: Jones\n-\n")
    ws.run("source", "di")
    ws.run("source", "ds")
    assert ws.pending_exports() == 1
    # A new user in the source directory, after the last cycle.
    add_user(ws, "carol", cn="Carol Smith", given="Carol")
    dn = f"uid=carol,ou=Users,{SOURCE_BASE}"
    before = snapshot(ws.store)

    trace = json.loads(idsync(ws.path, "object", "preview", "source", "--dn", dn, "--json"))

    assert snapshot(ws.store) == before
    assert not trace["committed"]
    assert steps(trace, "read")[0]["summary"].startswith("read from the directory")
    imported = steps(trace, "import")[0]
    assert "new in the connector space" in imported["summary"]
    assert {"attribute": "givenName", "old": [], "new": ["Carol"]} in imported["changes"]
    assert "projected as" in steps(trace, "join")[0]["summary"]
    inbound = {c["attribute"]: c for c in steps(trace, "inbound")[0]["changes"]}
    assert inbound["givenName"]["new"] == ["Carol"]
    assert "precedence" in inbound["givenName"]["note"]
    exports = steps(trace, "exports")
    assert [e["connector"] for e in exports] == ["target"]
    assert exports[0]["summary"].startswith("add uid=carol")
    assert target_dn("carol") not in ws.target_entries()
    text = idsync(ws.path, "object", "preview", "source", "--dn", dn)
    assert "projected as" in text and "nothing was changed" in text
    assert snapshot(ws.store) == before

    trace = json.loads(idsync(ws.path, "object", "preview", "source", "--dn", dn, "--commit",
                              "--json"))

    assert trace["committed"]
    assert [(r["connector"], r["profile"], r["status"]) for r in trace["runs"]] == [
        ("source", "Delta Import", "success"), ("source", "Delta Synchronization", "success"),
        ("target", "Export", "success")]
    assert [s["summary"] for s in steps(trace, "exported")] == [
        "uid=carol,ou=People,dc=fabrikam,dc=com: exported"]
    entries = ws.target_entries()
    assert entries[target_dn("carol")]["givenname"] == ["Carol"]
    assert entries[target_dn("bob")]["sn"] == ["Smith"]  # bob's change still pending
    target = ws.store.connectors.get("target").id
    assert ws.store.exports.count(target, state=ExportState.PENDING) == 1
    history = json.loads(idsync(ws.path, "runs", "list", "--limit", "3", "--json"))
    assert {r["id"] for r in history} == {r["run_id"] for r in trace["runs"]}
    audit = ws.store.audit.list(action="object.commit")
    assert [a.target for a in audit] == [f"source: {dn}"]
    # Committed: a preview now finds nothing left to do for it.
    trace = json.loads(idsync(ws.path, "object", "preview", "source", "--dn", dn, "--json"))
    assert "stays joined" in steps(trace, "join")[0]["summary"]
    assert "already pending" not in json.dumps(steps(trace, "exports"))


def test_unknown_connector_or_dn_is_one_line(workspace_factory: Any) -> None:  # noqa: F811
    ws: Workspace = workspace_factory(ldif(user_entry("ann")))
    ws.initial_cycle()
    out = idsync(ws.path, "object", "preview", "nope", "--dn", "uid=x", code=2)
    assert "no connector named 'nope'" in out and len(out.strip().splitlines()) == 1
    out = idsync(ws.path, "object", "preview", "source", "--dn",
                 f"uid=nobody,ou=Users,{SOURCE_BASE}", code=2)
    assert "no object" in out and len(out.strip().splitlines()) == 1


# --- LDAP (a real slapd) ------------------------------------------------------------------------


@pytest.mark.slapd
def test_on_ldap_preview_reads_one_entry_and_commit_exports_it_alone(
        slapd: SlapdServer, tmp_path: Path) -> None:  # noqa: F811 - the fixture
    base = slapd.base_dn
    for uid in ("ann", "bob"):
        slapd.add(f"uid={uid},ou=People,{base}", person(uid, givenName=uid.title()))
    path = tmp_path / "ws"
    (path / "target").mkdir(parents=True)
    (path / "target" / "directory.ldif").write_text(TARGET_SKELETON)
    store = Store.open(path)
    store.connectors.add("source", "ldap", slapd.connector_settings(
        directory_type="openldap", change_detection="accesslog"), {"password": slapd.password})
    store.connectors.add("target", "file", {"path": "target/directory.ldif"})
    save_rules(store, builtin_rule_set("directory-to-directory", source="source",
                                       target="target", target_base=TARGET_BASE),
               installing_builtin=True)
    ws = Workspace(path, store)
    try:
        ws.initial_cycle()
        slapd.modify(f"uid=bob,ou=People,{base}", [("replace", "sn", ["Jones"])])
        ws.run("source", "di")
        ws.run("source", "ds")
        target = store.connectors.get("target").id
        assert store.exports.count(target, state=ExportState.PENDING) == 1
        dn = f"uid=carol,ou=People,{base}"
        slapd.add(dn, person("carol", givenName="Carol", title="Chief"))
        before = snapshot(store)

        trace = json.loads(idsync(path, "object", "preview", "source", "--dn", dn, "--json"))

        assert snapshot(store) == before
        imported = steps(trace, "import")[0]
        assert {"attribute": "title", "old": [], "new": ["Chief"]} in imported["changes"]
        assert "projected as" in steps(trace, "join")[0]["summary"]
        assert steps(trace, "exports")[0]["summary"].startswith("add uid=carol")

        trace = json.loads(idsync(path, "object", "preview", "source", "--dn", dn, "--commit",
                                  "--json"))

        assert [r["status"] for r in trace["runs"]] == ["success"] * 3
        assert ws.target_entries()[target_dn("carol")]["givenname"] == ["Carol"]
        assert ws.target_entries()[target_dn("bob")]["sn"] == ["Tester"]
        assert store.exports.count(target, state=ExportState.PENDING) == 1
        # Renamed in the directory since the last import: read by its anchor.
        slapd.rename(f"uid=ann,ou=People,{base}", "uid=anna")
        trace = json.loads(idsync(path, "object", "preview", "source", "--dn",
                                  f"uid=ann,ou=People,{base}", "--json"))
        assert f"(now at uid=anna,ou=People,{base})" in steps(trace, "read")[0]["summary"]
        assert steps(trace, "import")[0]["changes"][0] == {
            "attribute": "dn", "old": [f"uid=ann,ou=People,{base}"],
            "new": [f"uid=anna,ou=People,{base}"], "note": "renamed or moved"}
        # An entry that is not in the directory, nor in the connector space: one line.
        out = idsync(path, "object", "preview", "source", "--dn",
                     f"uid=nobody,ou=People,{base}", code=2)
        assert "no object" in out and len(out.strip().splitlines()) == 1
    finally:
        store.close()


def test_staging_mode_commit_stages_and_exports_nothing(workspace_factory: Any) -> None:  # noqa: F811
    ws: Workspace = workspace_factory(ldif(user_entry("ann")))
    ws.initial_cycle()
    with ws.store.transaction():
        set_staging_mode(ws.store, True)
    add_user(ws, "carol", given="Carol")
    dn = f"uid=carol,ou=Users,{SOURCE_BASE}"

    trace = json.loads(idsync(ws.path, "object", "preview", "source", "--dn", dn, "--commit",
                              "--json"))

    assert [r["profile"] for r in trace["runs"]] == ["Delta Import", "Delta Synchronization"]
    assert any("staging mode is on" in n for n in trace["notes"])
    assert target_dn("carol") not in ws.target_entries()
    target = ws.store.connectors.get("target").id
    assert ws.store.exports.count(target, state=ExportState.PENDING) == 1  # staged


def test_an_object_gone_from_its_directory_previews_and_commits_its_delete(
        workspace_factory: Any) -> None:  # noqa: F811
    ws: Workspace = workspace_factory(ldif(user_entry("ann"), user_entry("bob")))
    ws.initial_cycle()
    dn = f"uid=bob,ou=Users,{SOURCE_BASE}"
    ws.change_source(f"dn: {dn}\nchangetype: delete\n")
    before = snapshot(ws.store)

    trace = json.loads(idsync(ws.path, "object", "preview", "source", "--dn", dn, "--json"))

    assert snapshot(ws.store) == before
    assert "gone from the directory" in steps(trace, "read")[0]["summary"]
    assert steps(trace, "exports")[0]["summary"].startswith("delete uid=bob,ou=People")

    trace = json.loads(idsync(ws.path, "object", "preview", "source", "--dn", dn, "--commit",
                              "--json"))

    assert [r["status"] for r in trace["runs"]] == ["success"] * 3
    assert target_dn("bob") not in ws.target_entries()
    assert target_dn("ann") in ws.target_entries()


# --- LDAP to the cloud (slapd and clouddir) -----------------------------------------------------


@pytest.mark.slapd
def test_a_new_ldap_user_committed_to_the_cloud_then_its_cloud_object_previewed(
        slapd: SlapdServer, clouddir: Any, tmp_path: Path) -> None:  # noqa: F811 - fixtures
    h = make_hybrid(tmp_path / "ws", slapd, clouddir, ["ann", "bob"])
    try:
        h.steps("corp:fi", "cloud:fi", "corp:fs", "cloud:fs", "cloud:e", "cloud:fi", "cloud:fs")
        dn = f"uid=dan,ou=People,{h.base}"
        slapd.add(dn, hybrid_person("dan"))
        before = snapshot(h.store)
        trace = json.loads(idsync(h.workspace, "object", "preview", "corp", "--dn", dn,
                                  "--json"))
        assert snapshot(h.store) == before
        [export] = steps(trace, "exports")
        assert export["connector"] == "cloud" and export["summary"].startswith("add ")

        trace = json.loads(idsync(h.workspace, "object", "preview", "corp", "--dn", dn,
                                  "--commit", "--json"))

        assert [(r["connector"], r["status"]) for r in trace["runs"]] == [
            ("corp", "success"), ("corp", "success"), ("cloud", "success")]
        assert "Dan" in h.cloud_ids()
        # The cloud object, read through the sync API: its import confirms the export.
        cloud = h.store.connectors.get("cloud")
        mv_id = h.store.cs.find_dn(h.store.connectors.get("corp").id, dn).mv_id
        [linked] = [o for o in h.store.cs.linked_to([mv_id]) if o.connector_id == cloud.id]
        before = snapshot(h.store)
        trace = json.loads(idsync(h.workspace, "object", "preview", "cloud", "--dn", linked.dn,
                                  "--json"))
        assert snapshot(h.store) == before
        assert steps(trace, "read")[0]["summary"].startswith("read from the directory")
        assert "stays joined" in steps(trace, "join")[0]["summary"]
    finally:
        h.store.close()


def test_a_member_added_to_a_group_shows_by_dn(workspace_factory: Any) -> None:  # noqa: F811
    ws: Workspace = workspace_factory(ldif(user_entry("ann"), user_entry("bob"),
                                           group_entry("staff", ["ann"])))
    ws.initial_cycle()
    dn = f"cn=staff,ou=Groups,{SOURCE_BASE}"
    ws.change_source(f"dn: {dn}\nchangetype: modify\nadd: member\n"
                     f"member: uid=bob,ou=Users,{SOURCE_BASE}\n-\n")

    trace = json.loads(idsync(ws.path, "object", "preview", "source", "--dn", dn, "--json"))

    [member] = [c for c in steps(trace, "import")[0]["changes"] if c["attribute"] == "member"]
    assert member["old"] == [] and member["new"] == [f"uid=bob,ou=Users,{SOURCE_BASE}"]
    assert member["note"].startswith("1 -> 2 values")
    [export] = steps(trace, "exports")
    assert {"attribute": "member", "old": [], "new": ["uid=bob,ou=People,dc=fabrikam,dc=com"],
            "note": "add"} in export["changes"]


def test_a_committed_delete_over_the_deletion_limit_is_not_exported(
        workspace_factory: Any) -> None:  # noqa: F811
    ws: Workspace = workspace_factory(ldif(user_entry("ann"), user_entry("bob")))
    ws.initial_cycle()
    with ws.store.transaction():
        ws.store.settings.set("export_deletion_threshold", {"enabled": True, "count": 1})
    dn = f"uid=bob,ou=Users,{SOURCE_BASE}"
    ws.change_source(f"dn: {dn}\nchangetype: delete\n")

    out = idsync(ws.path, "object", "preview", "source", "--dn", dn, "--commit", code=1)

    assert "Export on target ended stopped-deletion-threshold" in out
    assert target_dn("bob") in ws.target_entries()
    target = ws.store.connectors.get("target").id
    assert ws.store.exports.count(target, kind=ExportKind.DELETE,
                                  state=ExportState.PENDING) == 1


def test_preview_and_commit_wait_for_a_running_cycle(workspace_factory: Any) -> None:  # noqa: F811
    ws: Workspace = workspace_factory(ldif(user_entry("ann")))
    ws.initial_cycle()
    dn = f"uid=ann,ou=Users,{SOURCE_BASE}"
    lock = CycleLock(ws.store)
    lock.acquire("delta", "a test")
    try:
        for extra in ((), ("--commit",)):
            out = idsync(ws.path, "object", "preview", "source", "--dn", dn, *extra, code=2)
            assert "sync cycle is" in out and len(out.strip().splitlines()) == 1
    finally:
        lock.release()
