"""A DN freed and taken again in one cycle (issue 14), with the cloud as the target: cloud DNs
are anchors ("CN={sourceAnchor}") and the cloud joins by source anchor, so a different person
at a reused source DN is already a different cloud object. But her userPrincipalName is the
old person's, and the cloud soft-matches an add on it: while the old object exists it refuses
the add ("InvalidSoftMatch"), and the export used to send adds before deletes, so the new
person reached the cloud a cycle late, after an export error. Now the refused add is sent
again once the run's deletes are sent: in the same cycle the old object is deleted, the new
person is a new object with only her own attributes and memberships, and an initial cycle
afterwards stages nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_cancelled_cloud_deletes import RULES
from test_reference_integrity import staged
from tests.harness.clouddir_server import clouddir, clouddir_shared  # noqa: F401
from tests.harness.workspace import SOURCE_BASE, group_entry, ldif, make_workspace, user_entry

from idsync.administration.rule_changes import save_rules
from idsync.rules.files import load_rules_text


def user(uid: str) -> str:
    return f"uid={uid},ou=Users,{SOURCE_BASE}"


def cloud_users(tenant: Any) -> tuple[dict[str, dict], dict[str, set[str]]]:
    """source anchor -> the cloud user entry, and group source anchor -> member DNs."""
    entries, _token, _pages = tenant.import_all(2)
    users: dict[str, dict] = {}
    members: dict[str, set[str]] = {}
    for entry in entries:
        if entry["op"] != "upsert":
            continue
        if entry["object_type"] == "group":
            members.setdefault(entry["source_anchor"], set()).update(entry["members"]["add"])
        else:
            users[entry["source_anchor"]] = entry
    return users, members


def test_delete_and_add_at_the_same_dn_in_one_delta_cycle(clouddir, tmp_path: Path  # noqa: F811
                                                          ) -> None:
    ws = make_workspace(tmp_path / "ws", ldif(
        user_entry("ann", anchor="ann-1"), user_entry("bob", anchor="bob-1"),
        group_entry("g0", ["ann", "bob"]), group_entry("g1", ["ann"])), builtin=False)
    ws.store.connectors.add("cloud", "cloud", clouddir.connector_settings(), clouddir.secrets())
    save_rules(ws.store, load_rules_text(RULES))

    def cycle(*runs: tuple[str, str]) -> list[Any]:
        results = [ws.run(c, p) for c, p in runs]
        assert all(r.ok for r in results), [(r.profile, r.status, r.message) for r in results]
        return results

    initial = (("source", "fi"), ("cloud", "fi"), ("source", "fs"), ("cloud", "fs"),
               ("cloud", "e"), ("cloud", "fi"), ("cloud", "ds"))
    delta = (("source", "di"), ("source", "ds"), ("cloud", "e"), ("cloud", "fi"),
             ("cloud", "ds"))
    cycle(*initial)
    users, members = cloud_users(clouddir)
    old_id = users["ann-1"]["id"]
    assert all(len(m) for m in members.values())
    ws.change_source(f"dn: {user('ann')}\nchangetype: delete\n")
    for cn in ("g0", "g1"):
        ws.change_source(f"dn: cn={cn},ou=Groups,{SOURCE_BASE}\nchangetype: modify\n"
                         f"delete: member\nmember: {user('ann')}\n-\n")
    ws.change_source(f"dn: {user('ann')}\nchangetype: add\n" + "\n".join(
        user_entry("ann", anchor="ann-2", cn="Another Ann").splitlines()[1:]) + "\n")
    export = cycle(*delta)[2]
    assert export.counters.get("adds") == 1 and export.counters.get("deletes") == 1
    assert not export.counters.get("export-errors")
    users, members = cloud_users(clouddir)
    assert "ann-1" not in users  # the old person's cloud object is deleted
    new = users["ann-2"]  # the new person: a new object, in the same cycle
    assert new["id"] != old_id
    assert new["attributes"]["displayName"] == ["Another Ann"]
    # her own name, which the old object held until its delete went out
    assert new["attributes"]["userPrincipalName"] == ["ann@contoso.com"]
    assert {m for ms in members.values() for m in ms} == {"CN={bob-1}"}
    assert staged(cycle(*initial)) == {}
    assert cloud_users(clouddir)[0]["ann-2"]["id"] == new["id"]
    ws.store.close()
