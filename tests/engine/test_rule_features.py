"""Every sync rule feature, asserted on the metaverse, the connector spaces and the pending
exports: scoping, join, projection, precedence, NULL / AuthoritativeNull / IgnoreThisFlow, apply
once, merge types, reference translation, Error(), dn-attributes-failure."""

from __future__ import annotations

from pathlib import Path

from tests.harness.workspace import group_entry, ldif, target_dn, target_group_dn, user_entry

from idsync.administration.rule_changes import save_rules, set_disabled
from idsync.rules.files import load_rules_text
from idsync.store import Store


def add_phonebook(ws, text: str) -> None:
    """A second source directory: the phone book, joined to people by employeeID."""
    (ws.path / "phonebook").mkdir()
    (ws.path / "phonebook" / "directory.ldif").write_text(text)
    ws.store.connectors.add("phonebook", "file", {"path": "phonebook/directory.ldif",
                                                  "changes_path": "phonebook/changes.ldif"})


def phone_entry(uid: str, employee_id: str, phone: str | None, *, mobile: str | None = None,
                extra: dict | None = None) -> str:
    lines = [f"dn: cn={uid},ou=Phones,dc=phonebook", "objectClass: inetOrgPerson", f"cn: {uid}",
             f"sn: {uid}", f"employeeNumber: {employee_id}", f"entryUUID: phone-{uid}"]
    if phone:
        lines.append(f"telephoneNumber: {phone}")
    if mobile:
        lines.append(f"mobile: {mobile}")
    for k, vs in (extra or {}).items():
        lines += [f"{k}: {v}" for v in vs]
    return "\n".join(lines) + "\n"


PHONEBOOK_RULE = """
rules:
  - name: In from phonebook - Join
    direction: inbound
    connector: phonebook
    cs_object_type: user
    mv_object_type: person
    link_type: Join
    precedence: 50
    join:
      - - {cs_attribute: employeeNumber, mv_attribute: employeeID}
    transformations:
      - {target: telephoneNumber, flow_type: Direct, source: telephoneNumber}
"""


def people(*users: str) -> str:
    return ldif(*users)


def mv_person(store: Store, uid: str):
    [found] = store.mv.search(object_type="person", attribute="accountName", value=uid)
    return found


def test_join_by_attribute_and_precedence_between_connectors(workspace_factory) -> None:
    ws = workspace_factory(people(
        user_entry("ann", extra={"employeeID": ["E1"], "telephoneNumber": ["111"]}),
        user_entry("bob", extra={"employeeID": ["E2"], "telephoneNumber": ["222"]})))
    add_phonebook(ws, ldif(phone_entry("ann", "E1", "999"), phone_entry("bob", "E2", None),
                           phone_entry("zed", "E9", "555")))
    save_rules(ws.store, load_rules_text(PHONEBOOK_RULE))
    ws.run("source", "fi"), ws.run("source", "fs")
    ws.run("phonebook", "fi")
    sync = ws.run("phonebook", "fs")
    assert sync.counters["joins"] == 2 and "projections" not in sync.counters
    # the phone book (precedence 50) wins over the HR source (100) ...
    ann = mv_person(ws.store, "ann")
    assert ann.attributes["telephoneNumber"] == ["999"]
    assert ann.lineage["telephoneNumber"]["precedence"] == 50
    # ... and where it contributes NULL, the lower-precedence source still flows
    assert mv_person(ws.store, "bob").attributes["telephoneNumber"] == ["222"]
    # zed matches nobody and the rule cannot project: a disconnector
    pb = ws.store.connectors.get("phonebook")
    [zed] = ws.store.cs.search(pb.id, dn="cn=zed,ou=Phones,dc=phonebook")
    assert zed.mv_id is None
    assert ws.store.mv.count("person") == 2
    # the winner leaving (rule disabled, full sync) restores the next contributor
    set_disabled(ws.store, "In from phonebook - Join", True)
    ws.run("phonebook", "fs")
    assert mv_person(ws.store, "ann").attributes["telephoneNumber"] == ["111"]


def test_two_objects_of_one_batch_never_join_the_same_metaverse_object(
        workspace_factory) -> None:
    """The connect pass writes a batch's links together at its end: a second object of the
    same batch matching the same metaverse object must still see the first one's link."""
    ws = workspace_factory(people(user_entry("ann", extra={"employeeID": ["E1"]})))
    add_phonebook(ws, ldif(phone_entry("ann", "E1", "999"), phone_entry("ann2", "E1", "888")))
    save_rules(ws.store, load_rules_text(PHONEBOOK_RULE))
    ws.run("source", "fi"), ws.run("source", "fs")
    ws.run("phonebook", "fi")
    sync = ws.run("phonebook", "fs")
    assert sync.counters["joins"] == 1
    pb = ws.store.connectors.get("phonebook")
    linked = [o for o in ws.store.cs.search(pb.id) if o.mv_id is not None]
    assert len(linked) == 1 and linked[0].mv_id == mv_person(ws.store, "ann").id


def test_authoritative_null_ignore_this_flow_and_apply_once(workspace_factory) -> None:
    ws = workspace_factory(people(
        user_entry("ann", extra={"employeeID": ["E1"], "telephoneNumber": ["111"],
                                 "title": ["Boss"]})))
    add_phonebook(ws, ldif(phone_entry("ann", "E1", None,
                                       extra={"description": ["secret"]})))
    save_rules(ws.store, load_rules_text("""
rules:
  - name: In from phonebook - Join
    direction: inbound
    connector: phonebook
    cs_object_type: user
    mv_object_type: person
    precedence: 50
    join:
      - - {cs_attribute: employeeNumber, mv_attribute: employeeID}
    transformations:
      - {target: telephoneNumber, flow_type: Expression,
         source: 'IIF(IsPresent([telephoneNumber]), [telephoneNumber], AuthoritativeNull)'}
      - {target: title, flow_type: Expression, source: 'IgnoreThisFlow'}
      - {target: firstSeenPhonebook, flow_type: Expression, source: '[cn] & "-" & [sn]',
         apply_once: true}
"""))
    for c, p in (("source", "fi"), ("source", "fs"), ("phonebook", "fi"), ("phonebook", "fs")):
        assert ws.run(c, p).ok
    ann = mv_person(ws.store, "ann")
    assert "telephoneNumber" not in ann.attributes      # AuthoritativeNull beat the source
    assert ann.attributes["title"] == ["Boss"]           # IgnoreThisFlow kept it
    assert ann.attributes["firstSeenPhonebook"] == ["ann-ann"]
    (ws.path / "phonebook" / "directory.ldif").write_text(
        ldif(phone_entry("ann", "E1", "777").replace("sn: ann", "sn: changed")))
    ws.run("phonebook", "fi"), ws.run("phonebook", "ds")
    ann = mv_person(ws.store, "ann")
    assert ann.attributes["telephoneNumber"] == ["777"]
    assert ann.attributes["firstSeenPhonebook"] == ["ann-ann"]   # applied once, not again


def test_merge_types_union_values_from_two_connectors(workspace_factory) -> None:
    ws = workspace_factory(people(
        user_entry("ann", extra={"employeeID": ["E1"], "otherPhone": ["1", "2"]})))
    add_phonebook(ws, ldif(phone_entry("ann", "E1", None, extra={"otherPhone": ["2", "3"],
                                                                "mobile": ["ABC"]})))
    save_rules(ws.store, load_rules_text("""
rules:
  - name: In from source - phones
    direction: inbound
    connector: source
    cs_object_type: user
    mv_object_type: person
    precedence: 60
    transformations:
      - {target: otherPhone, flow_type: Direct, source: otherPhone, merge_type: Merge}
      - {target: tags, flow_type: Constant, source: abc, merge_type: MergeCaseInsensitive}
  - name: In from phonebook - Join
    direction: inbound
    connector: phonebook
    cs_object_type: user
    mv_object_type: person
    precedence: 50
    join:
      - - {cs_attribute: employeeNumber, mv_attribute: employeeID}
    transformations:
      - {target: otherPhone, flow_type: Direct, source: otherPhone, merge_type: Merge}
      - {target: tags, flow_type: Direct, source: mobile, merge_type: MergeCaseInsensitive}
"""))
    for c, p in (("source", "fi"), ("source", "fs"), ("phonebook", "fi"), ("phonebook", "fs")):
        assert ws.run(c, p).ok
    ann = mv_person(ws.store, "ann")
    assert sorted(ann.attributes["otherPhone"]) == ["1", "2", "3"]
    assert ann.attributes["tags"] == ["ABC"]             # "abc" is a case-insensitive duplicate


def test_scope_change_deprovisions_and_deletes_the_metaverse_object(workspace_factory) -> None:
    ws = workspace_factory(people(
        user_entry("ann", extra={"department": ["Sales"]}),
        user_entry("bob", extra={"department": ["Temp"]}),
        group_entry("staff", ["ann", "bob"])), builtin=True)
    rule = ws.store.rules.get("In from source - User Join")
    from idsync.rules.model import ScopeOperator, ScopingClause, ScopingGroup
    rule.scoping = [ScopingGroup([ScopingClause("department", ScopeOperator.NOTEQUAL,
                                                "Temp")])]
    save_rules(ws.store, [rule], installing_builtin=True)
    ws.initial_cycle()
    assert ws.store.mv.count("person") == 1
    assert target_dn("bob") not in ws.target_entries()
    # bob's reference is left out of the group, recorded as informational
    assert ws.target_entries()[target_group_dn("staff")]["member"] == [
        "uid=ann,ou=People,dc=fabrikam,dc=com"]
    # ann moves to Temp: out of scope of the joining rule -> disconnect -> the metaverse
    # object goes -> the object provisioned into the target is deleted, the group follows
    ws.change_source("""dn: uid=ann,ou=Users,dc=contoso,dc=com
changetype: modify
replace: department
department: Temp
-
""")
    results = ws.delta_cycle()
    assert results[1].counters.get("disconnectors") == 1
    assert results[1].counters.get("mv-deletes") == 1
    assert ws.store.mv.count("person") == 0
    assert target_dn("ann") not in ws.target_entries()
    assert "member" not in ws.target_entries()[target_group_dn("staff")]


def test_ismemberof_scopes_by_group_membership(workspace_factory) -> None:
    ws = workspace_factory(people(user_entry("ann"), user_entry("bob"),
                                  group_entry("vip", ["ann"])), builtin=True)
    rule = ws.store.rules.get("In from source - User Join")
    from idsync.rules.model import ScopeOperator, ScopingClause, ScopingGroup
    rule.scoping = [ScopingGroup([ScopingClause("", ScopeOperator.ISMEMBEROF,
                                                "cn=vip,ou=Groups,dc=contoso,dc=com")])]
    save_rules(ws.store, [rule], installing_builtin=True)
    ws.initial_cycle()
    assert [m.attributes["accountName"] for m in ws.store.mv.search(object_type="person")] == [
        ["ann"]]


def test_error_function_fails_only_that_object(workspace_factory) -> None:
    ws = workspace_factory(people(user_entry("ann", mail="ann@contoso.com"), user_entry("bob")))
    save_rules(ws.store, load_rules_text("""
rules:
  - name: In from source - mail required
    direction: inbound
    connector: source
    cs_object_type: user
    mv_object_type: person
    precedence: 10
    transformations:
      - {target: mailCheck, flow_type: Expression,
         source: 'IIF(IsPresent([mail]), [mail], Error("mail is required"))'}
"""))
    ws.run("source", "fi")
    sync = ws.run("source", "fs")
    assert sync.status == "completed-sync-errors"
    [error] = ws.store.errors.list(stage="sync")
    assert error.code == "sync-rule-error-function-triggered"
    assert error.detail == "mail is required" and "uid=bob" in error.dn
    assert mv_person(ws.store, "ann").attributes["mailCheck"] == ["ann@contoso.com"]
    assert ws.store.events.list(event_id=6110)
    # fix the object: the error clears
    ws.change_source("""dn: uid=bob,ou=Users,dc=contoso,dc=com
changetype: modify
add: mail
mail: bob@contoso.com
-
""")
    ws.run("source", "di")
    assert ws.run("source", "ds").status == "success"
    assert ws.store.errors.list(stage="sync") == []


def test_dn_attributes_failure_is_informational(workspace_factory) -> None:
    ws = workspace_factory(people(user_entry("ann"), user_entry("bob", extra={"title": ["x"]}),
                                  group_entry("staff", ["ann", "bob"])))
    rule = ws.store.rules.get("Out to target - User Join")
    from idsync.rules.model import ScopeOperator, ScopingClause, ScopingGroup
    rule.scoping = [ScopingGroup([ScopingClause("title", ScopeOperator.ISNULL)])]
    save_rules(ws.store, [rule], installing_builtin=True)
    ws.run("source", "fi")
    sync = ws.run("source", "fs")
    assert sync.status == "completed-warnings"
    [error] = ws.store.errors.list(code="dn-attributes-failure")
    assert "cn=staff" in error.dn and "member: 1 value" in error.detail
    assert ws.store.events.list(event_id=6949)
    assert ws.run("target", "e").ok
    assert ws.target_entries()[target_group_dn("staff")]["member"] == [
        "uid=ann,ou=People,dc=fabrikam,dc=com"]


def add_ann_by_hand(target_file: Path) -> None:
    """The target directory already holds ann, made by hand (not by idsync)."""
    target_file.write_text(target_file.read_text() + """
dn: uid=ann,ou=People,dc=fabrikam,dc=com
objectClass: inetOrgPerson
uid: ann
cn: ann
sn: Old
entryUUID: 11111111-2222-3333-4444-555555555555
""")


def test_outbound_provisioning_joins_an_existing_object_by_dn(workspace_factory,
                                                              tmp_path: Path) -> None:
    ws = workspace_factory(people(user_entry("ann", sn="Smith")))
    # the target already holds ann (made by hand): provisioning joins it, no duplicate
    add_ann_by_hand(ws.target_file)
    ws.initial_cycle()
    target = ws.target_entries()
    assert target[target_dn("ann")]["sn"] == ["Smith"]
    tcs = ws.store.cs.search(ws.store.connectors.get("target").id)
    assert len(tcs) == 1 and tcs[0].anchor == "11111111-2222-3333-4444-555555555555"
    assert tcs[0].link_type == "Join"


def test_two_objects_of_one_batch_never_claim_the_same_existing_object(workspace_factory
                                                                       ) -> None:
    """Provisioning looks a batch's DNs up together and links at the batch's end: when two
    metaverse objects want the DN of one unclaimed object, only the first joins it."""
    twin = user_entry("ann2", sn="Twin").replace("uid: ann2", "uid: ann")  # same target DN
    ws = workspace_factory(people(user_entry("ann", sn="Smith"), twin))
    add_ann_by_hand(ws.target_file)
    ws.run("source", "fi"), ws.run("target", "fi"), ws.run("source", "fs")
    tcs = ws.store.cs.search(ws.store.connectors.get("target").id)
    links = sorted((o.link_type, o.anchor is not None) for o in tcs)
    assert links == [("Join", True), ("Provision", False)]
    assert len({o.mv_id for o in tcs}) == 2


def test_an_editable_copy_takes_over_the_links_of_the_rule_it_replaces(workspace_factory
                                                                        ) -> None:
    ws = workspace_factory(people(user_entry("ann"), user_entry("bob")))
    ws.initial_cycle()
    before = {o.id: o.mv_id for o in ws.store.cs.search(ws.store.connectors.get("source").id)}
    original = ws.store.rules.get("In from source - User Join")
    copy = load_rules_text(
        __import__("yaml").safe_dump({**original.to_dict(), "name": "My User Join",
                                      "precedence": 50, "reserved": False}))[0]
    save_rules(ws.store, [copy])
    set_disabled(ws.store, "In from source - User Join", True)
    sync = ws.run("source", "fs")
    assert "disconnectors" not in sync.counters and "mv-deletes" not in sync.counters
    after = ws.store.cs.search(ws.store.connectors.get("source").id)
    assert {o.id: o.mv_id for o in after} == before
    copy_id = ws.store.rules.get("My User Join").id
    assert {o.link_rule_id for o in after if o.object_type == "user"} == {copy_id}
    # and back: deleting the copy and enabling the default hands the links back again
    set_disabled(ws.store, "In from source - User Join", False)
    from idsync.administration.rule_changes import delete_rule
    delete_rule(ws.store, "My User Join")
    sync = ws.run("source", "fs")
    assert "disconnectors" not in sync.counters and ws.store.mv.count("person") == 2


def test_an_outbound_error_holds_the_object_export(workspace_factory) -> None:
    ws = workspace_factory(people(user_entry("ann"), user_entry("bob", extra={"title": ["X"]})))
    save_rules(ws.store, load_rules_text("""
rules:
  - name: Out to target - title check
    direction: outbound
    connector: target
    cs_object_type: user
    mv_object_type: person
    precedence: 10
    transformations:
      - {target: title, flow_type: Expression,
         source: 'IIF([title] = "X", Error("title X is not allowed"), [title])'}
"""))
    ws.run("source", "fi")
    assert ws.run("source", "fs").status == "completed-sync-errors"
    export = ws.run("target", "e")
    assert export.counters == {"adds": 1}               # ann only: bob's add is held
    assert target_dn("bob") not in ws.target_entries()
    ws.change_source("""dn: uid=bob,ou=Users,dc=contoso,dc=com
changetype: modify
replace: title
title: Y
-
""")
    ws.run("source", "di")
    assert ws.run("source", "ds").ok
    assert ws.run("target", "e").counters == {"adds": 1}
    assert ws.target_entries()[target_dn("bob")]["title"] == ["Y"]
