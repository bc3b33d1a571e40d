"""Source of authority end to end (issue 18, item 6): objects whose authority an administrator
moves to the cloud (Graph's PATCH onPremisesSyncBehavior on a real clouddir) stop receiving
idsync's exports through the sync API, v1 and v2: their changes are held (event 6956 once
per object, no export error, the run a success), the other objects go on; when the authority
moves back, the held changes go out on the next cycle and the cloud matches. Also the race: the
switch after the cloud import, before the export (clouddir refuses with ObjectCloudManaged)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_cancelled_cloud_deletes import RULES
from tests.harness.clouddir_server import clouddir, clouddir_shared  # noqa: F401
from tests.harness.workspace import SOURCE_BASE, group_entry, ldif, make_workspace, user_entry

from idsync.administration.inspection import cs_dict
from idsync.administration.rule_changes import save_rules
from idsync.events import EventId
from idsync.model import Authority, ExportState
from idsync.rules.files import load_rules_text

INITIAL = (("source", "fi"), ("cloud", "fi"), ("source", "fs"), ("cloud", "fs"),
           ("cloud", "e"), ("cloud", "fi"), ("cloud", "ds"))
#: The cloud's delta import first: the switch is known before the export.
DELTA = (("cloud", "di"), ("cloud", "ds"), ("source", "di"), ("source", "ds"), ("cloud", "e"),
         ("cloud", "di"), ("cloud", "ds"))
#: The switch happens after the cloud import: the export learns it from the refusal.
RACE = (("source", "di"), ("source", "ds"), ("cloud", "e"))


def dn(uid: str) -> str:
    return f"uid={uid},ou=Users,{SOURCE_BASE}"


def cloud(tenant: Any) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    """source anchor -> cloud entry, and group display name -> member DNs."""
    entries, _token, _pages = tenant.import_all(2)
    objects: dict[str, dict[str, Any]] = {}
    members: dict[str, set[str]] = {}
    for entry in entries:
        if entry["op"] != "upsert":
            continue
        objects.setdefault(entry["source_anchor"], entry)
        if entry["object_type"] == "group":
            members.setdefault(entry["attributes"]["displayName"][0], set()).update(
                entry["members"]["add"])
    return objects, members


def switch(tenant: Any, entry: dict[str, Any], to_cloud: bool) -> None:
    collection = "groups" if entry["object_type"] == "group" else "users"
    with tenant.client() as http:
        response = http.patch(f"/v1.0/{collection}/{entry['id']}/onPremisesSyncBehavior",
                              json={"isCloudManaged": to_cloud})
    assert response.status_code == 204, response.text


class Lab:
    def __init__(self, tmp_path: Path, tenant: Any, version: int) -> None:
        self.tenant = tenant
        self.ws = make_workspace(tmp_path / "ws", ldif(
            user_entry("ann"), user_entry("bob"), user_entry("cid"),
            group_entry("team", ["ann", "bob"])), builtin=False)
        self.ws.store.connectors.add("cloud", "cloud", tenant.connector_settings(
            export_api_version=version, import_api_version=version), tenant.secrets())
        save_rules(self.ws.store, load_rules_text(RULES))
        self.cloud_id = self.ws.store.connectors.get("cloud").id

    def cycle(self, *runs: tuple[str, str]) -> dict[str, Any]:
        results = [self.ws.run(c, p) for c, p in runs]
        assert all(r.status == "success" for r in results), [
            (r.connector, r.profile, r.status, r.message) for r in results]
        exports = [r for r in results if r.profile == "Export"]
        return exports[-1].counters

    def events(self) -> list[Any]:
        return self.ws.store.events.list(event_id=int(EventId.CLOUD_MANAGED_SKIPPED))

    def cs_id(self, entry: dict[str, Any]) -> int:
        cs = self.ws.store.cs_objects.by_anchors(self.cloud_id, [entry["id"]])
        return cs[entry["id"]].id

    def held(self, *entries: dict[str, Any]) -> None:
        """Each object's changes wait, pending, its authority the cloud's."""
        ids = [self.cs_id(e) for e in entries]
        pending = self.ws.store.exports.get_many(ids)
        assert {i: pending[i].state for i in ids} == dict.fromkeys(ids, ExportState.PENDING)
        assert self.ws.store.authority.of(ids) == dict.fromkeys(ids, Authority.CLOUD)
        for cs in self.ws.store.cs.by_ids(ids).values():  # as `idsync cs search` shows it
            assert cs_dict(self.ws.store, cs)["pending_export"]["held"] == "cloud-managed"

    def change_names_and_team(self) -> None:
        for uid, cn in (("ann", "Ann Two"), ("bob", "Bob Two")):
            self.ws.change_source(f"dn: {dn(uid)}\nchangetype: modify\nreplace: cn\n"
                                  f"cn: {cn}\n-\n")
        self.ws.change_source(f"dn: cn=team,ou=Groups,{SOURCE_BASE}\nchangetype: modify\n"
                              f"add: member\nmember: {dn('cid')}\n-\n")


@pytest.mark.parametrize("version", [1, 2])
def test_cloud_authority_holds_exports_until_it_returns(clouddir, tmp_path: Path,  # noqa: F811
                                                        version: int) -> None:
    lab = Lab(tmp_path, clouddir, version)
    lab.cycle(*INITIAL)
    objects, members = cloud(clouddir)
    by_name = {o["attributes"]["displayName"][0]: o for o in objects.values()}
    ann, bob, team = by_name["ann"], by_name["bob"], by_name["team"]
    switch(clouddir, ann, True)
    switch(clouddir, team, True)
    lab.change_names_and_team()

    counters = lab.cycle(*DELTA)
    assert counters.get("updates") == 1  # bob
    assert counters.get("cloud-managed-held") == 2
    assert not counters.get("export-errors")
    events = lab.events()
    assert sorted(e.data["cs_id"] for e in events) == sorted(map(lab.cs_id, (ann, team)))
    assert {e.data["cause"] for e in events} == {"import"}
    objects, members = cloud(clouddir)
    assert objects[bob["source_anchor"]]["attributes"]["displayName"] == ["Bob Two"]
    assert objects[ann["source_anchor"]]["attributes"]["displayName"] == ["ann"]
    assert len(members["team"]) == 2
    lab.held(ann, team)
    assert not lab.ws.store.errors.holders([lab.cs_id(ann), lab.cs_id(team)])

    # The next cycle still holds them, without a second event.
    counters = lab.cycle(*DELTA)
    assert counters.get("cloud-managed-held") == 2 and not counters.get("updates")
    assert len(lab.events()) == 2

    # The authority moves back: the held changes go out on the next cycle.
    switch(clouddir, ann, False)
    switch(clouddir, team, False)
    counters = lab.cycle(*DELTA)
    assert counters.get("updates") == 2 and not counters.get("cloud-managed-held")
    assert not counters.get("export-errors")
    objects, members = cloud(clouddir)
    assert objects[ann["source_anchor"]]["attributes"]["displayName"] == ["Ann Two"]
    assert members["team"] == {f"CN={{{objects[a]['source_anchor']}}}" for a in objects
                               if objects[a]["object_type"] == "user"}
    assert len(lab.events()) == 2
    assert lab.ws.store.exports.count(lab.cloud_id, state=ExportState.PENDING) == 0
    lab.ws.store.close()


@pytest.mark.parametrize("version", [1, 2])
def test_switch_between_import_and_export(clouddir, tmp_path: Path,  # noqa: F811
                                          version: int) -> None:
    lab = Lab(tmp_path, clouddir, version)
    lab.cycle(*INITIAL)
    objects, _members = cloud(clouddir)
    by_name = {o["attributes"]["displayName"][0]: o for o in objects.values()}
    ann, team = by_name["ann"], by_name["team"]
    lab.change_names_and_team()
    switch(clouddir, ann, True)  # after the last cloud import
    switch(clouddir, team, True)
    counters = lab.cycle(*RACE)
    assert counters.get("updates") == 1  # bob
    assert counters.get("cloud-managed-held") == 2
    assert not counters.get("export-errors")
    events = lab.events()
    assert {e.data["cause"] for e in events} == {"refused"} and len(events) == 2
    lab.held(ann, team)
    assert not lab.ws.store.errors.holders([lab.cs_id(ann), lab.cs_id(team)])
    # Held now without asking the cloud again, and without a second event.
    counters = lab.cycle(("cloud", "e"))
    assert counters.get("cloud-managed-held") == 2 and not counters.get("updates")
    counters = lab.cycle(*DELTA)  # the import agrees: still held, still one event each
    assert counters.get("cloud-managed-held") == 2 and len(lab.events()) == 2
    switch(clouddir, ann, False)
    switch(clouddir, team, False)
    counters = lab.cycle(*DELTA)
    assert counters.get("updates") == 2 and not counters.get("export-errors")
    objects, members = cloud(clouddir)
    assert objects[ann["source_anchor"]]["attributes"]["displayName"] == ["Ann Two"]
    assert len(members["team"]) == 3
    lab.ws.store.close()


def test_an_add_matched_onto_a_cloud_managed_object_is_an_error(clouddir,  # noqa: F811
                                                                tmp_path: Path) -> None:
    """No import would ever release an add (its object has no anchor yet): recorded as the
    export error ObjectCloudManaged, not held."""
    lab = Lab(tmp_path, clouddir, 2)
    lab.cycle(*INITIAL)
    created = clouddir.graph_create("users", {
        "accountEnabled": True, "displayName": "Dan", "mailNickname": "dan",
        "userPrincipalName": "dan@contoso.com",
        "passwordProfile": {"password": "x", "forceChangePasswordNextSignIn": True}})
    assert created.status_code == 201, created.text
    switch(clouddir, {**created.json(), "object_type": "user"}, True)
    lab.ws.change_source(f"dn: {dn('dan')}\nchangetype: add\n" + "\n".join(
        user_entry("dan").splitlines()[1:]) + "\n")
    results = [lab.ws.run(c, p) for c, p in RACE]
    export = results[-1]
    assert export.status == "completed-export-errors", export
    assert not export.counters.get("cloud-managed-held") and lab.events() == []
    errors = lab.ws.store.runs.errors(export.run_id)
    assert {(e["code"], e["dn"]) for e in errors} == {("ObjectCloudManaged", errors[0]["dn"])}
    assert len(errors) == export.counters["export-errors"]
    lab.ws.store.close()
