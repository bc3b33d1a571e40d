"""A DN freed and taken again in one cycle (issue 14): the source deletes a person, or renames
her away, and a different person is created at her old DN before the next delta cycle. The
new person never takes over the old person's target object (no attributes, memberships or
object id of hers); the old object's delete is exported; the new person is provisioned as a
new object in the same cycle; an initial cycle afterwards stages nothing."""

from __future__ import annotations

from test_reference_integrity import staged
from tests.harness.workspace import (
    SOURCE_BASE,
    Workspace,
    group_entry,
    ldif,
    target_dn,
    target_group_dn,
    user_entry,
)


def user(uid: str) -> str:
    return f"uid={uid},ou=Users,{SOURCE_BASE}"


def group(cn: str) -> str:
    return f"cn={cn},ou=Groups,{SOURCE_BASE}"


def added(uid: str, anchor: str, **kwargs) -> str:
    """A change record adding ``uid`` (a new person: her own anchor)."""
    return f"dn: {user(uid)}\nchangetype: add\n" + "\n".join(
        user_entry(uid, anchor=anchor, **kwargs).splitlines()[1:]) + "\n"


def start(workspace_factory) -> tuple[Workspace, str]:
    """Ann (with a mail and two groups) and Bob; the target anchor of Ann's object."""
    ws = workspace_factory(ldif(
        user_entry("ann", anchor="ann-1", sn="Old", mail="ann.old@contoso.com"),
        user_entry("bob"), group_entry("g0", ["ann", "bob"]), group_entry("g1", ["ann"])))
    ws.initial_cycle()
    entry = ws.target_entries()[target_dn("ann")]
    assert entry["mail"] == ["ann.old@contoso.com"]
    return ws, entry["entryuuid"][0]


def members(ws: Workspace, cn: str) -> set[str]:
    return {m.lower() for m in ws.target_entries()[target_group_dn(cn)].get("member", [])}


def assert_new_person(ws: Workspace, old_anchor: str) -> None:
    entries = ws.target_entries()
    entry = entries[target_dn("ann")]
    assert entry["entryuuid"][0] != old_anchor  # a new object, not the old one
    assert entry["sn"] == ["New"]
    assert "mail" not in entry  # nothing of the old person's
    assert target_dn("ann") not in members(ws, "g0") | members(ws, "g1")
    assert ws.pending_exports() == 0


def test_delete_and_add_at_the_same_dn_in_one_delta_cycle(workspace_factory) -> None:
    ws, old = start(workspace_factory)
    ws.change_source(f"dn: {user('ann')}\nchangetype: delete\n")
    ws.change_source(f"dn: {group('g0')}\nchangetype: modify\ndelete: member\n"
                     f"member: {user('ann')}\n-\n")
    ws.change_source(f"dn: {group('g1')}\nchangetype: modify\ndelete: member\n"
                     f"member: {user('ann')}\n-\n")
    ws.change_source(added("ann", "ann-2", sn="New"))
    ws.delta_cycle()
    assert_new_person(ws, old)
    assert staged(ws.initial_cycle()) == {}
    assert_new_person(ws, old)


def test_rename_away_and_add_at_the_old_dn_in_one_delta_cycle(workspace_factory) -> None:
    ws, old = start(workspace_factory)
    ws.change_source(f"dn: {user('ann')}\nchangetype: modrdn\nnewrdn: uid=anna\n"
                     "deleteoldrdn: 1\n")
    for cn in ("g0", "g1"):  # the groups follow her (a directory with referential integrity)
        ws.change_source(f"dn: {group(cn)}\nchangetype: modify\ndelete: member\n"
                         f"member: {user('ann')}\n-\nadd: member\nmember: {user('anna')}\n-\n")
    ws.change_source(added("ann", "ann-2", sn="New"))
    ws.delta_cycle()
    # The new person was added in the same cycle, after the rename freed her DN.
    entry = ws.target_entries()[target_dn("ann")]
    assert entry["entryuuid"][0] != old and entry["sn"] == ["New"] and "mail" not in entry
    # The file target keeps member values as names (no referential integrity of its own, as
    # after any rename idsync exports there): its groups name the old DN until the next
    # cycle writes them again.
    ws.delta_cycle()
    entries = ws.target_entries()
    # The renamed person keeps her object (and its id, attributes, groups) at her new DN.
    assert entries[target_dn("anna")]["entryuuid"][0] == old
    assert entries[target_dn("anna")]["mail"] == ["ann.old@contoso.com"]
    assert target_dn("anna") in members(ws, "g0") & members(ws, "g1")
    entry = entries[target_dn("ann")]
    assert entry["entryuuid"][0] != old and entry["sn"] == ["New"] and "mail" not in entry
    assert target_dn("ann") not in members(ws, "g0") | members(ws, "g1")
    assert ws.pending_exports() == 0
    assert staged(ws.initial_cycle()) == {}
