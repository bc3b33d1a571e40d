"""Pending exports are the current truth (issue 14, observation 2): a staged delete, disconnect
or attribute change whose cause is gone is cancelled by the next synchronization, delta or
full, recorded as cancelled, and the object keeps its identity in the target directory."""

from __future__ import annotations

from typing import Any

from tests.harness.workspace import (
    Workspace,
    group_entry,
    ldif,
    target_dn,
    target_group_dn,
    user_entry,
)

from idsync.administration.rule_changes import save_rules, set_disabled
from idsync.events import EventId
from idsync.rules.model import ScopeOperator, ScopingClause, ScopingGroup

USERS = [f"u{i:02d}" for i in range(12)]


def directory() -> str:
    return ldif(*(user_entry(u, extra={"department": ["Sales"]}) for u in USERS),
                group_entry("staff", USERS[:6]), group_entry("all", USERS))


def identities(ws: Workspace) -> dict[str, tuple[int, str | None]]:
    """Target DN -> (connector space id, anchor): what must survive a cancelled delete."""
    target = ws.store.connectors.get("target").id
    return {o.dn.lower(): (o.id, o.anchor) for o in ws.store.cs.search(target, limit=0)}


def pending_kinds(ws: Workspace) -> dict[str, int]:
    return ws.store.exports.counts_by_kind(ws.store.connectors.get("target").id)


def cancel_events(ws: Workspace) -> list[Any]:
    return ws.store.events.list(event_id=int(EventId.EXPORT_CANCELLED), limit=0)


def set_threshold(ws: Workspace, count: int) -> None:
    with ws.store.transaction():
        ws.store.settings.set("export_deletion_threshold", {"enabled": True, "count": count})


def scope_users(ws: Workspace, rule_name: str, department: str | None) -> None:
    rule = ws.store.rules.get(rule_name)
    rule.scoping = [] if department is None else [
        ScopingGroup([ScopingClause("department", ScopeOperator.EQUAL, department)])]
    save_rules(ws.store, [rule], installing_builtin=True)


def test_an_outbound_rule_disabled_then_enabled_cancels_its_deletes_in_a_delta_sync(
        workspace_factory) -> None:
    ws = workspace_factory(directory())
    ws.initial_cycle()
    before, entries = identities(ws), ws.target_entries()
    set_threshold(ws, 5)
    set_disabled(ws.store, "Out to target - User Join", True)
    staged = ws.run("source", "ds")
    assert staged.counters["export-deletes-staged"] == 12
    held = ws.run("target", "e")
    assert held.status == "stopped-deletion-threshold-exceeded"
    set_disabled(ws.store, "Out to target - User Join", False)
    sync = ws.run("source", "ds")
    assert sync.counters["cancelled-deletes"] == 12
    assert "provisioned" not in sync.counters and "export-adds-staged" not in sync.counters
    # nothing is left to send: the member removals the unlinking staged went too
    assert pending_kinds(ws) == {}
    assert identities(ws) == before
    export = ws.run("target", "e")
    assert export.ok and not export.counters.get("deletes")
    assert ws.target_entries() == entries
    events = cancel_events(ws)
    assert {e.data["dn"].lower() for e in events if e.data["kind"] == "delete"} == {
        target_dn(u) for u in USERS}
    assert all(e.data["cause"] == "back-in-scope" for e in events if e.data["kind"] == "delete")
    # a further cycle keeps everything as it is
    ws.delta_cycle()
    assert identities(ws) == before and pending_kinds(ws) == {}


def test_an_inbound_scoping_mistake_fixed_is_cancelled_by_a_full_sync(workspace_factory) -> None:
    ws = workspace_factory(directory())
    ws.initial_cycle()
    before, entries = identities(ws), ws.target_entries()
    set_threshold(ws, 5)
    # the mistake: the projecting rule scoped to a department nobody is in
    scope_users(ws, "In from source - User Join", "Salse")
    staged = ws.run("source", "fs")
    assert staged.counters["mv-deletes"] == 12
    assert pending_kinds(ws).get("delete") == 12
    assert ws.run("target", "e").status == "stopped-deletion-threshold-exceeded"
    # fixed: the people come back as new metaverse objects from the same source objects,
    # and take back their target objects
    scope_users(ws, "In from source - User Join", "Sales")
    sync = ws.run("source", "fs")
    assert sync.counters["cancelled-deletes"] == 12
    assert "provisioned" not in sync.counters
    assert pending_kinds(ws) == {}
    assert identities(ws) == before
    target = ws.store.connectors.get("target").id
    links = {o.link_type for o in ws.store.cs.search(target, limit=0) if o.object_type == "user"}
    assert links == {"Provision"}  # still idsync's: leaving scope again deletes them again
    export = ws.run("target", "e")
    assert export.ok and not export.counters.get("deletes")
    assert ws.target_entries() == entries
    assert ws.run("target", "fi").ok and ws.run("target", "fs").ok
    assert pending_kinds(ws) == {} and identities(ws) == before


def test_a_full_sync_of_the_target_alone_cancels_deletes_whose_cause_is_gone(
        workspace_factory) -> None:
    ws = workspace_factory(directory())
    ws.initial_cycle()
    before = identities(ws)
    set_threshold(ws, 5)
    scope_users(ws, "Out to target - User Join", "Salse")
    ws.run("source", "ds")
    assert pending_kinds(ws).get("delete") == 12
    scope_users(ws, "Out to target - User Join", None)
    # nothing queued by the fix (a crash, a queue lost): the target's full synchronization
    # still finds the deletes whose metaverse objects are in scope again
    ws.store.db.execute("DELETE FROM mv_dirty")
    sync = ws.run("target", "fs")
    assert sync.counters["cancelled-deletes"] == 12
    assert pending_kinds(ws) == {} and identities(ws) == before


def test_a_delete_whose_cause_stays_is_kept(workspace_factory) -> None:
    ws = workspace_factory(directory())
    ws.initial_cycle()
    set_threshold(ws, 50)
    scope_users(ws, "Out to target - User Join", "Salse")
    ws.run("source", "ds")
    for connector in ("source", "target"):
        sync = ws.run(connector, "fs")
        assert "cancelled-deletes" not in sync.counters
    assert pending_kinds(ws).get("delete") == 12
    export = ws.run("target", "e")
    assert export.counters["deletes"] == 12
    assert not any(target_dn(u) in ws.target_entries() for u in USERS)


def test_an_attribute_change_reverted_before_export_is_cancelled(workspace_factory) -> None:
    ws = workspace_factory(directory())
    ws.initial_cycle()
    entries = ws.target_entries()
    ws.change_source("dn: uid=u01,ou=Users,dc=contoso,dc=com\nchangetype: modify\n"
                     "replace: title\ntitle: Boss\n-\n")
    ws.run("source", "di")
    assert ws.run("source", "ds").counters["export-modifys-staged"] == 1
    ws.change_source("dn: uid=u01,ou=Users,dc=contoso,dc=com\nchangetype: modify\n"
                     "delete: title\n-\n")
    ws.run("source", "di")
    sync = ws.run("source", "ds")
    assert sync.counters["cancelled-exports"] == 1
    assert pending_kinds(ws) == {}
    [event] = cancel_events(ws)
    assert event.data == {"cs_id": event.data["cs_id"], "dn": event.data["dn"],
                          "kind": "modify", "cause": "nothing-to-change"}
    assert event.data["dn"].lower() == target_dn("u01")
    assert ws.run("target", "e").counters.get("updates") is None
    assert ws.target_entries() == entries


def test_a_source_object_deleted_and_restored_before_export_keeps_its_target(
        workspace_factory) -> None:
    ws = workspace_factory(directory())
    ws.initial_cycle()
    before, entries = identities(ws), ws.target_entries()
    restored = user_entry("u03", extra={"department": ["Sales"]})
    ws.change_source("dn: uid=u03,ou=Users,dc=contoso,dc=com\nchangetype: delete\n")
    ws.run("source", "di")
    sync = ws.run("source", "ds")
    assert sync.counters["export-deletes-staged"] == 1
    # back with the same anchor (a restore from the recycle bin, an undone mistake)
    ws.change_source(restored.replace("\n", "\nchangetype: add\n", 1))
    ws.run("source", "di")
    sync = ws.run("source", "ds")
    assert sync.counters["cancelled-deletes"] == 1
    assert "provisioned" not in sync.counters
    assert identities(ws) == before
    assert ws.run("target", "e").ok
    assert ws.target_entries() == entries
    assert target_group_dn("staff") in entries


def test_a_disconnectors_pending_change_is_cancelled(workspace_factory) -> None:
    """An object joined (not provisioned) that leaves scope becomes a disconnector: the change
    staged for it before goes with the link."""
    ws = workspace_factory(directory())
    ws.initial_cycle()
    target = ws.store.connectors.get("target").id
    u05 = next(o for o in ws.store.cs.search(target, limit=0)
               if o.dn.lower() == target_dn("u05"))
    ws.store.cs.set_link(u05.id, u05.mv_id, "Join", u05.link_rule_id, "outbound")
    ws.change_source("dn: uid=u05,ou=Users,dc=contoso,dc=com\nchangetype: modify\n"
                     "replace: title\ntitle: Boss\n-\n")
    ws.run("source", "di")
    ws.run("source", "ds")
    assert pending_kinds(ws) == {"modify": 1}
    scope_users(ws, "Out to target - User Join", "Salse")
    sync = ws.run("source", "ds")
    assert sync.counters["cancelled-exports"] >= 1
    assert ws.store.exports.get_many([u05.id]) == {}


def test_a_delete_staged_on_a_linked_object_by_a_rollback_stays(workspace_factory) -> None:
    """The rollback to sync API v1 stages deletes on groups it keeps linked: a
    synchronization must not take them for deletes whose cause is gone, even when an older
    deprovisioning record of the same object is still around."""
    ws = workspace_factory(directory())
    ws.initial_cycle()
    target = ws.store.connectors.get("target").id
    staff = next(o for o in ws.store.cs.search(target, limit=0)
                 if o.dn.lower() == target_group_dn("staff"))
    # an old deprovisioning of the group, cancelled by hand (its record left behind)
    set_disabled(ws.store, "Out to target - Group Join", True)
    ws.run("source", "ds")
    ws.store.exports.drop(staff.id)
    set_disabled(ws.store, "Out to target - Group Join", False)
    ws.run("source", "ds")
    linked = ws.store.cs.get(staff.id)
    assert linked.mv_id is not None and ws.store.exports.get_many([staff.id]) == {}
    # the rollback's delete, link kept
    from idsync.model import ExportKind, ExportState, PendingExport
    with ws.store.transaction():
        ws.store.exports.stage(PendingExport(cs_id=staff.id, connector_id=target,
                                             kind=ExportKind.DELETE, new_dn=None, attributes={},
                                             state=ExportState.PENDING, attempts=0))
    for connector, profile in (("source", "fs"), ("target", "fs"), ("source", "ds")):
        assert "cancelled-deletes" not in ws.run(connector, profile).counters
    assert ws.store.exports.get_many([staff.id])[staff.id].kind == "delete"


def test_a_delete_staged_before_the_upgrade_is_cancelled_by_the_join(workspace_factory) -> None:
    """A delete staged before deprovisioning kept records (no record): the reverse join on the
    DN that links the object back cancels it."""
    ws = workspace_factory(directory())
    ws.initial_cycle()
    before = identities(ws)
    scope_users(ws, "Out to target - User Join", "Salse")
    ws.run("source", "ds")
    ws.store.db.execute("DELETE FROM deprovisioned")
    ws.store.db.execute("DELETE FROM deprovisioned_sources")
    scope_users(ws, "Out to target - User Join", None)
    sync = ws.run("source", "ds")
    assert sync.counters["cancelled-deletes"] == 12
    assert "provisioned" not in sync.counters
    assert pending_kinds(ws) == {} and identities(ws) == before


def test_an_editable_copy_of_the_disabled_rule_takes_the_objects_back(workspace_factory) -> None:
    """The operator answers a disabled rule with an editable copy instead of enabling it: the
    copy takes the same objects back, and they are linked under the copy."""
    import yaml

    from idsync.rules.files import load_rules_text

    ws = workspace_factory(directory())
    ws.initial_cycle()
    before = identities(ws)
    set_disabled(ws.store, "Out to target - User Join", True)
    ws.run("source", "ds")
    original = ws.store.rules.get("Out to target - User Join")
    copy = load_rules_text(yaml.safe_dump({"rules": [{
        **original.to_dict(), "name": "My User Join", "disabled": False, "reserved": False}]}))
    save_rules(ws.store, copy)
    sync = ws.run("source", "ds")
    assert sync.counters["cancelled-deletes"] == 12
    assert pending_kinds(ws) == {} and identities(ws) == before
    target = ws.store.connectors.get("target").id
    copy_id = ws.store.rules.get("My User Join").id
    assert {o.link_rule_id for o in ws.store.cs.search(target, limit=0)
            if o.object_type == "user"} == {copy_id}
