"""Every run profile end to end through the file connector: the connector spaces, the metaverse,
the pending exports and the target directory after each step."""

from __future__ import annotations

from tests.harness.workspace import group_entry, ldif, target_dn, target_group_dn, user_entry

from idsync.model import RunProfile


def base_directory() -> str:
    return ldif(
        user_entry("ann", mail="ann@contoso.com"),
        user_entry("bob", manager="ann", extra={"title": ["Engineer"]}),
        user_entry("cid", manager="ann"),
        group_entry("staff", ["ann", "bob", "cid"], description="Everyone"),
        group_entry("leads", ["ann"]),
    )


def test_initial_cycle_provisions_users_groups_and_references(workspace_factory) -> None:
    ws = workspace_factory(base_directory())
    results = ws.initial_cycle()
    full_import = results[0]
    assert full_import.counters["adds"] == 5
    assert ws.store.mv.count("person") == 3 and ws.store.mv.count("group") == 2
    target = ws.target_entries()
    assert target[target_dn("bob")]["title"] == ["Engineer"]
    assert target[target_dn("bob")]["manager"] == ["uid=ann,ou=People,dc=fabrikam,dc=com"]
    assert sorted(m.lower() for m in target[target_group_dn("staff")]["member"]) == sorted(
        target_dn(u) for u in ("ann", "bob", "cid"))
    assert target[target_group_dn("staff")]["description"] == ["Everyone"]
    # the confirming import leaves nothing pending and every target object anchored
    assert ws.pending_exports() == 0
    target_cs = ws.store.cs.search(ws.store.connectors.get("target").id)
    assert len(target_cs) == 5 and all(o.anchor for o in target_cs)


def test_second_cycle_with_no_change_stages_nothing(workspace_factory) -> None:
    ws = workspace_factory(base_directory())
    ws.initial_cycle()
    before = ws.target_file.read_text()
    results = [ws.run("source", "fi"), ws.run("source", "fs"), ws.run("target", "e")]
    assert results[0].counters.get("updates", 0) == 0
    assert results[0].counters.get("no-change") == 5
    assert results[2].counters == {}
    assert ws.target_file.read_text() == before


def test_delta_cycle_flows_attribute_changes(workspace_factory) -> None:
    ws = workspace_factory(base_directory())
    ws.initial_cycle()
    ws.change_source("""dn: uid=bob,ou=Users,dc=contoso,dc=com
changetype: modify
replace: title
title: Architect
-
""")
    results = ws.delta_cycle()
    assert results[0].counters == {"updates": 1}
    assert results[2].counters == {"updates": 1}
    assert ws.target_entries()[target_dn("bob")]["title"] == ["Architect"]
    assert ws.pending_exports() == 0


def test_one_member_change_is_a_one_value_delta(workspace_factory) -> None:
    members = [f"u{i:03d}" for i in range(300)]
    ws = workspace_factory(ldif(*(user_entry(m) for m in members),
                                group_entry("big", members[:299])))
    ws.initial_cycle()
    ws.change_source("""dn: cn=big,ou=Groups,dc=contoso,dc=com
changetype: modify
add: member
member: uid=u299,ou=Users,dc=contoso,dc=com
-
delete: member
member: uid=u000,ou=Users,dc=contoso,dc=com
-
""")
    ws.run("source", "di")
    ws.run("source", "ds")
    target_id = ws.store.connectors.get("target").id
    [group] = ws.store.cs.search(target_id, pending_export=True)
    pe = ws.store.exports.get_many([group.id])[group.id]
    assert pe.kind == "modify" and pe.attributes == {}
    assert len(pe.ref_adds["member"]) == 1 and len(pe.ref_removes["member"]) == 1
    assert ws.run("target", "e").counters == {"updates": 1}
    members_now = ws.target_entries()[target_group_dn("big")]["member"]
    assert len(members_now) == 299
    assert "uid=u299,ou=People,dc=fabrikam,dc=com" in members_now
    assert "uid=u000,ou=People,dc=fabrikam,dc=com" not in members_now


def test_rename_and_delete_flow_to_the_target(workspace_factory) -> None:
    ws = workspace_factory(base_directory())
    ws.initial_cycle()
    ws.change_source("""dn: uid=cid,ou=Users,dc=contoso,dc=com
changetype: modify
replace: uid
uid: cyd
-

dn: uid=bob,ou=Users,dc=contoso,dc=com
changetype: delete
""")
    results = ws.delta_cycle()
    assert results[2].counters.get("renames") == 1 and results[2].counters.get("deletes") == 1
    target = ws.target_entries()
    assert target_dn("bob") not in target
    assert target_dn("cid") not in target and target_dn("cyd") in target
    # The file directory, like OpenLDAP without the refint overlay, leaves other entries'
    # references to a renamed entry alone; the confirming import shows the stale member value
    # and the next export corrects it.
    assert ws.run("target", "e").counters == {"updates": 1}
    target = ws.target_entries()
    staff = [m.lower() for m in target[target_group_dn("staff")]["member"]]
    assert sorted(staff) == sorted([target_dn("ann"), target_dn("cyd")])
    assert ws.store.mv.count("person") == 2
    ws.run("target", "fi")
    assert ws.pending_exports() == 0


def test_full_import_stages_deletes_for_missing_objects(workspace_factory) -> None:
    ws = workspace_factory(base_directory())
    ws.initial_cycle()
    ws.source_file.write_text(ldif(user_entry("ann", mail="ann@contoso.com"),
                                   user_entry("bob", manager="ann",
                                              extra={"title": ["Engineer"]}),
                                   group_entry("staff", ["ann", "bob"], description="Everyone"),
                                   group_entry("leads", ["ann"])))
    fi = ws.run("source", "fi")
    assert fi.counters["deletes"] == 1
    ws.run("source", "ds")
    assert ws.run("target", "e").counters == {"deletes": 1, "updates": 1}
    assert target_dn("cid") not in ws.target_entries()


def test_exports_not_shown_by_the_next_import_are_sent_again(workspace_factory) -> None:
    ws = workspace_factory(base_directory())
    ws.initial_cycle()
    ws.change_source("""dn: uid=bob,ou=Users,dc=contoso,dc=com
changetype: modify
replace: title
title: Architect
-
""")
    ws.run("source", "di")
    ws.run("source", "ds")
    before = ws.target_file.read_text()
    assert ws.run("target", "e").counters == {"updates": 1}
    ws.target_file.write_text(before)       # the directory lost the change
    imported = ws.run("target", "fi")
    assert imported.counters.get("exports-unconfirmed") == 1
    assert ws.run("target", "e").counters == {"updates": 1}
    assert ws.target_entries()[target_dn("bob")]["title"] == ["Architect"]
    assert ws.run("target", "fi").counters.get("exports-confirmed") == 1
    assert ws.pending_exports() == 0


def test_run_profile_names(workspace_factory) -> None:
    assert RunProfile.parse("Full Synchronization") is RunProfile.FULL_SYNC
    assert RunProfile.parse("delta-import") is RunProfile.DELTA_IMPORT
    assert RunProfile.parse("E") is RunProfile.EXPORT
