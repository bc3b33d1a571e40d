"""Configuration changes are simulated before they act (issue 14, item 4): ``idsync preview``
and the guard on ``rules ...``, ``rules install-outofbox`` and ``connector set``. A real slapd
(OpenLDAP through the LDAP connector) synchronized to a real clouddir through the out-of-box
rules; the deletion threshold is lowered to 10 so twelve users are a mass delete."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from tests.harness.clouddir_server import clouddir, clouddir_shared  # noqa: F401
from tests.harness.slapd import slapd, slapd_factory  # noqa: F401

from idsync.administration.outofbox import install_outofbox
from idsync.cli.main import build
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import run_profile
from idsync.events import EventId
from idsync.model import RunProfile
from idsync.scheduler.lock import CycleLock
from idsync.store import Store

pytestmark = pytest.mark.slapd

USERS = [f"user{i:02d}" for i in range(12)]
COPY = "In from AD - User Join (copy)"


def person(uid: str) -> dict[str, list[str]]:
    return {"objectClass": ["inetOrgPerson"], "uid": [uid], "cn": [uid.title()],
            "sn": ["Tester"], "givenName": [uid.title()], "mail": [f"{uid}@example.com"]}


@dataclass
class Synced:
    path: Path
    store: Store
    base: str

    def idsync(self, *args: str) -> Result:
        return CliRunner().invoke(build(), ["--workspace", str(self.path), *args])

    def run(self, connector: str, profile: str) -> None:
        engine = RunContext(self.store, str(self.path))
        try:
            result = run_profile(engine, connector, RunProfile.parse(profile))
        finally:
            engine.close()
        assert result.ok, (connector, profile, result.status, result.message)

    def state(self) -> dict[str, list[str]]:
        """Every row of every table but the event log, in a stable order."""
        return {t: sorted(repr(r) for r in self.store.db.query(f"SELECT * FROM {t}"))
                for t in self.store.db.tables() if t != "events"}

    def events(self, event_id: EventId) -> list[Any]:
        return self.store.events.list(event_id=int(event_id))


def connect(slapd, clouddir, path: Path) -> Synced:  # type: ignore[no-untyped-def]  # noqa: F811
    store = Store.open(path)
    store.connectors.add("corp", "ldap", slapd.connector_settings(
        directory_type="openldap", change_detection="accesslog"), {"password": slapd.password})
    store.connectors.add("aad", "cloud", clouddir.connector_settings(), clouddir.secrets())
    store.settings.set("export_deletion_threshold", {"enabled": True, "count": 10})
    return Synced(path, store, slapd.base_dn)


@pytest.fixture
def synced(slapd, clouddir, tmp_path: Path) -> Iterator[Synced]:  # type: ignore[no-untyped-def]  # noqa: F811
    base = slapd.base_dn
    for uid in USERS:
        slapd.add(f"uid={uid},ou=People,{base}", person(uid))
    slapd.add(f"cn=staff,ou=Groups,{base}", {
        "objectClass": ["groupOfNames"], "cn": ["staff"],
        "member": [f"uid={uid},ou=People,{base}" for uid in USERS]})
    ws = connect(slapd, clouddir, tmp_path / "ws")
    install_outofbox(ws.store, "corp", "aad", "openldap")
    for step in (("corp", "fi"), ("aad", "fi"), ("corp", "fs"), ("aad", "fs"), ("aad", "e"),
                 ("aad", "fi"), ("aad", "fs")):
        ws.run(*step)
    assert ws.store.exports.count(ws.store.connectors.get("aad").id) == 0
    yield ws
    ws.store.close()


def test_preview_of_a_synchronized_workspace_has_nothing_to_do_and_keeps_nothing(
        synced: Synced) -> None:
    before = synced.state()
    data = json.loads(synced.idsync("preview", "--json").output)
    assert data["complete"] and data["nothing_to_do"], data
    assert [(r["connector"], r["profile"], r["status"]) for r in data["runs"]] == [
        ("corp", "Full Synchronization", "success"), ("aad", "Full Synchronization", "success")]
    text = synced.idsync("preview")
    assert text.exit_code == 0 and "total: nothing to do" in text.output
    one = json.loads(synced.idsync("preview", "--connector", "corp", "--json").output)
    assert [(r["connector"], r["profile"]) for r in one["runs"]] == [
        ("corp", "Full Synchronization")]
    unknown = synced.idsync("preview", "--connector", "nope")
    assert unknown.exit_code == 2 and "nope" in unknown.output
    # Rows, watermarks, flags, runs, settings: as they were. Only the event says it was done.
    assert synced.state() == before
    assert len(synced.events(EventId.CONFIGURATION_PREVIEWED)) == 3


def test_a_scoping_edit_that_takes_every_user_out_of_scope_is_held(synced: Synced) -> None:
    copied = synced.idsync("rules", "copy", "In from AD - User Join", "--precedence", "50")
    assert copied.exit_code == 0, copied.output
    assert "preview of the next synchronization: nothing to do" in copied.output
    before = synced.state()
    rule_before = synced.store.rules.get(COPY).to_dict()

    held = synced.idsync("rules", "edit", COPY, "--scope", "department EQUAL Nowhere")
    assert held.exit_code == 3, held.output
    assert ("held: this change would stage 12 deletes on aad (user: 12), over the deletion "
            "limit of user (10 deletes or 20% of the objects (from 50 deletes), default). "
            "Nothing was changed") in held.output
    assert "user: 12 delete" in held.output  # the summary, with samples
    # Cloud DNs are anchors in hex: the sample names the object too.
    assert re.search(r"delete +CN=\{[0-9A-F]+\} \(User00\)", held.output), held.output
    # Nothing kept: the rule as before, no export staged, no run recorded, flags untouched.
    assert synced.store.rules.get(COPY).to_dict() == rule_before
    assert synced.state() == before
    [event] = synced.events(EventId.CONFIGURATION_CHANGE_HELD)
    assert "12 deletes on aad" in event.message and event.data["totals"]["delete"] == 12


def test_a_held_rules_import_applies_with_confirm_and_the_sync_stages_what_it_showed(
        synced: Synced, tmp_path: Path) -> None:
    assert synced.idsync("rules", "copy", "In from AD - User Join", "--precedence",
                         "50").exit_code == 0
    exported = tmp_path / "copy.yaml"
    assert synced.idsync("rules", "export", str(exported), "--connector", "corp").exit_code == 0
    docs = yaml.safe_load(exported.read_text())
    rules = docs if isinstance(docs, list) else docs.get("rules", docs)
    [copy] = [r for r in rules if r["name"] == COPY]
    copy["scoping"] = [[{"attribute": "department", "operator": "EQUAL", "value": "Nowhere"}]]
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump([copy]))
    before = synced.state()

    held = synced.idsync("rules", "import", str(changed))
    assert held.exit_code == 3 and "would stage 12 deletes on aad" in held.output, held.output
    assert synced.state() == before

    applied = synced.idsync("rules", "import", str(changed), "--confirm")
    assert applied.exit_code == 0, applied.output
    assert "applied with --confirm" in applied.output
    assert synced.store.rules.get(COPY).scoping[0].clauses[0].value == "Nowhere"
    # The standalone preview now shows the same, and the real synchronization stages it.
    data = json.loads(synced.idsync("preview", "--json").output)
    predicted = data["connectors"]["aad"]["object_types"]
    assert predicted["user"]["counts"] == {"delete": 12}
    assert predicted["group"]["counts"] == {"update": 1}  # staff loses its twelve members
    synced.run("corp", "fs")
    aad = synced.store.connectors.get("aad")
    assert synced.store.exports.counts_by_kind(aad.id) == {"delete": 12, "modify": 1}


def test_installing_the_wrong_flavour_on_a_populated_workspace_changes_nothing(
        synced: Synced) -> None:
    # The flavour check refuses it before the preview: the wrong flavour would give every
    # object a sourceAnchor that matches nothing in the cloud.
    before = synced.state()
    refused = synced.idsync("rules", "install-outofbox", "--onprem", "corp", "--cloud", "aad",
                            "--flavour", "ad")
    assert refused.exit_code != 0, refused.output
    assert "contradicts connector 'corp'" in refused.output
    assert synced.state() == before
    assert {r.name: r.to_dict() for r in synced.store.rules.list()} == {
        r.name: r.to_dict() for r in Store.open(synced.path).rules.list()}


def test_a_scope_change_of_a_connector_is_previewed_with_a_full_import_and_held(
        synced: Synced) -> None:
    corp = synced.store.connectors.get("corp")
    before = synced.state()
    held = synced.idsync("connector", "set", "corp", "--set",
                         f"include_containers=['ou=Groups,{synced.base}']")
    assert held.exit_code == 3, held.output
    assert "corp: full import: 0 added, 0 updated, 0 renamed, 12 no longer returned" in \
        held.output
    assert "12 deletes on aad (user: 12)" in held.output
    after = synced.store.connectors.get("corp")
    assert (after.settings, after.watermark, after.full_import_required) == (
        corp.settings, corp.watermark, False)
    assert synced.state() == before
    # A setting that cannot change the scope is not previewed.
    quick = synced.idsync("connector", "set", "corp", "--set", "timeout=20")
    assert quick.exit_code == 0 and "preview" not in quick.output.lower(), quick.output


def test_an_empty_workspace_previews_nothing_and_takes_changes(
        slapd, clouddir, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    ws = connect(slapd, clouddir, tmp_path / "empty")
    try:
        installed = ws.idsync("rules", "install-outofbox", "--onprem", "corp", "--cloud", "aad",
                              "--flavour", "openldap")
        assert installed.exit_code == 0, installed.output
        assert "preview of the next synchronization: nothing to do" in installed.output
        assert len(ws.store.rules.list()) == 15
        changed = ws.idsync("connector", "set", "corp", "--set",
                            f"include_containers=['ou=People,{slapd.base_dn}']")
        assert changed.exit_code == 0, changed.output
        assert ws.store.connectors.get("corp").settings["include_containers"] == [
            f"ou=People,{slapd.base_dn}"]
        data = json.loads(ws.idsync("preview", "--json").output)
        assert data["nothing_to_do"] and data["complete"]
        assert ws.store.runs.list() == []
    finally:
        ws.store.close()


def test_no_preview_while_a_sync_cycle_runs(synced: Synced) -> None:
    # The simulation holds the store's write lock while it runs: a cycle would wait on it.
    lock = CycleLock(synced.store)
    lock.acquire("delta", "test")
    try:
        refused = synced.idsync("preview")
        assert refused.exit_code == 2
        assert "a sync cycle is running" in refused.output
        held = synced.idsync("rules", "disable", "Out to AAD - User Join")
        assert held.exit_code == 2 and "a sync cycle is running" in held.output
        assert not synced.store.rules.get("Out to AAD - User Join").disabled
    finally:
        lock.release()


def test_a_change_whose_preview_cannot_be_computed_is_held_until_confirmed(
        synced: Synced) -> None:
    # Another server: its full import cannot run, so the effect is unknown.
    before = synced.state()
    held = synced.idsync("connector", "set", "corp", "--set", "uri=ldap://127.0.0.1:1")
    assert held.exit_code == 3, held.output
    assert "corp: Full Import stopped-connectivity" in held.output
    assert "held: the effect of this change could not be computed" in held.output
    assert synced.state() == before
    applied = synced.idsync("connector", "set", "corp", "--set", "uri=ldap://127.0.0.1:1",
                            "--confirm")
    assert applied.exit_code == 0, applied.output
    assert synced.store.connectors.get("corp").settings["uri"] == "ldap://127.0.0.1:1"
