"""References bind to objects, not to names that outlive them (issue 14, observations 6 and
7), on the file connector: the source's ``member`` is kept bound by whoever edits it (as
OpenLDAP's memberof overlay does, without a change the delta import sees), ``manager`` is a
name. After delta cycles the target holds what the directory says, and an initial cycle
(full import, full synchronization) stages nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from tests.harness.workspace import (
    SOURCE_BASE,
    Workspace,
    group_entry,
    ldif,
    target_dn,
    target_group_dn,
    user_entry,
)

from idsync.connectors.file import apply_changes
from idsync.engine.run_profiles import RunResult
from idsync.filedir.ldif import read_ldif

SOURCE_SETTINGS = {"path": "source/directory.ldif", "changes_path": "source/changes.ldif",
                   "integrity_attributes": ["member"]}


def bound_member_source(ws: Workspace) -> Workspace:
    """The source connector with ``member`` bound (the directory's own referential
    integrity), ``manager`` a name."""
    with ws.store.transaction():
        ws.store.connectors.update(ws.store.connectors.get("source").id,
                                   settings=SOURCE_SETTINGS)
    return ws


def unlogged(ws: Workspace, change_ldif: str) -> None:
    """Change the source directory without a changelog record: what a directory's overlay
    does to the groups of a deleted or renamed member (the delta import never sees it)."""
    records = list(read_ldif(io.BytesIO(change_ldif.encode("utf-8"))))
    apply_changes(ws.source_file, records, changes_path=ws.path / "overlay.ldif")


def user(uid: str) -> str:
    return f"uid={uid},ou=Users,{SOURCE_BASE}"


def group(cn: str) -> str:
    return f"cn={cn},ou=Groups,{SOURCE_BASE}"


def staged(results: list[RunResult]) -> dict[str, Any]:
    """What an initial cycle's import and synchronizations staged (nothing, on a directory
    the delta cycles already brought in)."""
    out: dict[str, Any] = {}
    for r in results:
        for name, value in r.counters.items():
            if (name in ("adds", "updates", "deletes", "renames") and r.connector == "source"
                    and r.profile.lower() in ("fi", "full import")):
                out[f"source {r.profile}:{name}"] = value
            if name.endswith("-staged"):
                out[f"{r.connector} {r.profile}:{name}"] = value
    return out


def test_a_new_user_at_a_deleted_users_dn_is_a_member_of_nothing(workspace_factory) -> None:
    groups = [f"g{i}" for i in range(10)]
    ws = bound_member_source(workspace_factory(ldif(
        user_entry("ann", anchor="ann-1"), user_entry("bob"),
        *(group_entry(g, ["ann", "bob"]) for g in groups))))
    ws.initial_cycle()
    assert target_dn("ann") in {m.lower() for m in
                                ws.target_entries()[target_group_dn("g0")]["member"]}
    # Ann is deleted; the directory drops her from her groups without a logged change.
    ws.change_source(f"dn: {user('ann')}\nchangetype: delete\n")
    unlogged(ws, "\n".join(f"dn: {group(g)}\nchangetype: modify\ndelete: member\n"
                           f"member: {user('ann')}\n-\n" for g in groups))
    ws.delta_cycle()
    # A different person is created at Ann's DN.
    ws.change_source("dn: " + user("ann") + "\nchangetype: add\n" + "\n".join(
        user_entry("ann", anchor="ann-2", given="Another").splitlines()[1:]) + "\n")
    ws.delta_cycle()
    ws.delta_cycle()
    entries = ws.target_entries()
    assert target_dn("ann") in entries
    for g in groups:
        members = {m.lower() for m in entries[target_group_dn(g)].get("member", [])}
        assert members == {target_dn("bob")}, g
    assert staged(ws.initial_cycle()) == {}


def test_a_renamed_manager_without_integrity_is_nobodys_manager(workspace_factory) -> None:
    ws = bound_member_source(workspace_factory(ldif(
        user_entry("boss"), user_entry("ann", manager="boss"), user_entry("bob", manager="boss"),
        group_entry("staff", ["ann", "boss"]))))
    ws.initial_cycle()
    assert ws.target_entries()[target_dn("ann")]["manager"][0].lower() == target_dn("boss")
    # The manager is renamed; the reports' manager values still name the old DN. The group's
    # member value follows (bound), unseen by the delta import.
    ws.change_source(f"dn: {user('boss')}\nchangetype: modrdn\nnewrdn: uid=chief\n"
                     "deleteoldrdn: 1\n")
    unlogged(ws, f"dn: {group('staff')}\nchangetype: modify\ndelete: member\n"
                 f"member: {user('boss')}\n-\nadd: member\nmember: {user('chief')}\n-\n")
    ws.delta_cycle()
    ws.delta_cycle()
    entries = ws.target_entries()
    assert "manager" not in entries[target_dn("ann")]
    assert "manager" not in entries[target_dn("bob")]
    assert {m.lower() for m in entries[target_group_dn("staff")]["member"]} == {
        target_dn("ann"), target_dn("chief")}
    assert staged(ws.initial_cycle()) == {}
    # A new person at the old DN is the manager the reports' values name.
    ws.change_source("dn: " + user("boss") + "\nchangetype: add\n" + "\n".join(
        user_entry("boss", anchor="boss-2").splitlines()[1:]) + "\n")
    ws.delta_cycle()
    ws.delta_cycle()
    assert ws.target_entries()[target_dn("ann")]["manager"][0].lower() == target_dn("boss")
    assert staged(ws.initial_cycle()) == {}


def test_each_connector_says_which_references_its_directory_keeps_bound(tmp_path) -> None:
    from idsync.connectors.file import create_connector as file_connector
    from idsync.connectors.ldap import create_connector as ldap_connector
    from idsync.engine.reference_integrity import back_links, bound_attributes
    from idsync.errors import ConfigurationError

    def ldap(**settings: Any) -> frozenset[str]:
        connector = ldap_connector("corp", {"uri": "ldap://127.0.0.1:1", "bind_dn": "",
                                            "base": "dc=x", **settings}, {}, str(tmp_path))
        return bound_attributes(connector, connector.reference_attributes())

    # Active Directory: linked attributes; OpenLDAP: what the memberof overlay keeps.
    assert ldap(directory_type="ad") >= {"member", "manager", "memberOf"}
    assert ldap(directory_type="openldap") == {"member", "memberOf"}
    assert ldap(directory_type="generic") == frozenset()
    openldap = ldap_connector("corp", {"uri": "ldap://127.0.0.1:1", "bind_dn": "", "base": "dc=x",
                                       "directory_type": "openldap"}, {}, str(tmp_path))
    assert back_links(openldap, openldap.reference_attributes()) == {"member": "memberOf"}
    # refint on manager too: the administrator says so
    assert ldap(directory_type="openldap", integrity_attributes=["member", "Manager"]) == {
        "member", "manager"}
    files = file_connector("src", {"path": "d.ldif"}, {}, str(tmp_path))
    assert bound_attributes(files, files.reference_attributes()) == frozenset()
    files = file_connector("src", SOURCE_SETTINGS, {}, str(tmp_path))
    assert bound_attributes(files, files.reference_attributes()) == {"member"}
    with pytest.raises(ConfigurationError, match=r"integrity_attributes.* is not a list"):
        file_connector("src", {"path": "d.ldif", "integrity_attributes": "member"}, {},
                       str(tmp_path))
    with pytest.raises(ConfigurationError, match=r"'integrity_attributes': .* is not a list"):
        ldap(integrity_attributes={"member": 1})
