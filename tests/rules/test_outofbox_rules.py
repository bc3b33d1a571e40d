"""The out-of-box rule set: installs, validates, is reserved; editing by copy; dry runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from idsync.administration.outofbox import install_outofbox
from idsync.administration.rule_changes import delete_rule, save_rules, set_disabled
from idsync.administration.rule_dry_run import dry_run
from idsync.administration.rule_editing import copy_rule, edit_rule
from idsync.cli.main import build
from idsync.errors import ConfigurationError
from idsync.rules.edits import RuleEdit, parse_scope_group
from idsync.rules.model import FlowType, ScopeOperator
from idsync.rules.outofbox import GROUP_JOIN_RULE, outofbox_rules
from idsync.rules.validation import validate_rule

NAMES = {
    "In from AD - User Join": 100, "In from AD - User AccountEnabled": 102,
    "In from AD - User Common": 106, "In from AD - Group Join": 112,
    "In from AD - Group Common": 114, "In from AD - Contact Join": 115,
    "In from AD - Contact Common": 116, "In from AAD - User Join": 119,
    "In from AAD - Contact Join": 120, "In from AAD - Group Join": 121,
    "Out to AAD - User Join": 123, "Out to AAD - User Identity": 124,
    "Out to AAD - Contact Join": 131, "Out to AAD - Group Join": 139,
    "Out to AAD - Group Identity": 140,
}


@pytest.mark.parametrize("flavour", ["ad", "openldap"])
def test_rule_set_validates_with_reference_names_and_precedences(flavour: str) -> None:
    rules = outofbox_rules("corp", "cloud", flavour)
    assert {r.name: r.precedence for r in rules} == NAMES
    for rule in rules:
        validate_rule(rule, ["corp", "cloud"])
        assert rule.reserved and rule.tag
        assert rule.connector == ("corp" if " AD " in rule.name else "cloud")
    group_join = next(r for r in rules if r.name == GROUP_JOIN_RULE)
    member = next(t for t in group_join.transformations if t.target == "member")
    assert member.source == ('IIF(ValueCount("member")> 50000,Error("Maximum Group member '
                             'count exceeded"),IgnoreThisFlow)')
    assert len(group_join.scoping) == 4


def test_unknown_flavour_and_wrong_connector_type_are_refused(hybrid_factory) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationError, match="flavour"):
        outofbox_rules("a", "b", "novell")
    ws = hybrid_factory("version: 1\n", install=False)
    with pytest.raises(ConfigurationError, match="expected 'cloud'"):
        install_outofbox(ws.store, "AAD", "AD")


def test_install_marks_full_sync_and_reinstall_keeps_disabled_state(hybrid_factory) -> None:  # type: ignore[no-untyped-def]
    ws = hybrid_factory("version: 1\n")
    assert len(ws.store.rules.list()) == 15
    assert ws.store.connectors.get("AD").full_sync_required
    assert ws.store.connectors.get("AAD").full_sync_required
    set_disabled(ws.store, "In from AD - Contact Join", True)
    install_outofbox(ws.store, "AD", "AAD", "ad")
    assert ws.store.rules.get("In from AD - Contact Join").disabled
    assert len(ws.store.rules.list()) == 15


def test_reserved_rules_can_be_disabled_not_edited_or_deleted(hybrid_factory) -> None:  # type: ignore[no-untyped-def]
    ws = hybrid_factory("version: 1\n")
    rule = ws.store.rules.get(GROUP_JOIN_RULE)
    rule.precedence = 50
    with pytest.raises(ConfigurationError, match="reserved"):
        save_rules(ws.store, [rule])
    with pytest.raises(ConfigurationError, match="rules copy"):
        edit_rule(ws.store, GROUP_JOIN_RULE, RuleEdit(precedence=50))
    with pytest.raises(ConfigurationError, match="disable it instead"):
        delete_rule(ws.store, GROUP_JOIN_RULE)
    set_disabled(ws.store, GROUP_JOIN_RULE, True)
    stored = ws.store.rules.get(GROUP_JOIN_RULE)
    assert stored.disabled and stored.precedence == 139


def test_copy_disables_the_original_and_checks_the_precedence(hybrid_factory) -> None:  # type: ignore[no-untyped-def]
    ws = hybrid_factory("version: 1\n")
    with pytest.raises(ConfigurationError, match="between 1 and 99"):
        copy_rule(ws.store, GROUP_JOIN_RULE, 100)
    copy = copy_rule(ws.store, GROUP_JOIN_RULE, 40)
    original = ws.store.rules.get(GROUP_JOIN_RULE)
    assert original.disabled and original.reserved
    assert not copy.reserved and not copy.disabled and copy.precedence == 40
    assert copy.transformations == original.transformations
    assert copy.scoping == original.scoping
    with pytest.raises(ConfigurationError, match="taken by rule"):
        copy_rule(ws.store, "Out to AAD - User Join", 40, "mine")
    with pytest.raises(ConfigurationError, match="exists already"):
        copy_rule(ws.store, GROUP_JOIN_RULE, 41)


def test_edit_validates_before_saving(hybrid_factory) -> None:  # type: ignore[no-untyped-def]
    ws = hybrid_factory("version: 1\n")
    copy = copy_rule(ws.store, GROUP_JOIN_RULE, 40)
    before = ws.store.rules.get(copy.name).to_dict()
    with pytest.raises(ConfigurationError, match="column"):
        edit_rule(ws.store, copy.name, RuleEdit(expressions={"member": 'IIF(ValueCount("m"'}))
    with pytest.raises(ConfigurationError, match=r"Valuecount|ValueCount"):
        edit_rule(ws.store, copy.name, RuleEdit(expressions={"member": 'Valuecount("member")'}))
    with pytest.raises(ConfigurationError, match="no scoping clause"):
        edit_rule(ws.store, copy.name, RuleEdit(scope_values={"nope": "1"}))
    assert ws.store.rules.get(copy.name).to_dict() == before  # nothing half-saved
    ws.store.connectors.set_required(ws.store.connectors.get("AAD").id, full_sync=False)
    edited = edit_rule(ws.store, copy.name, RuleEdit(
        expressions={"member": 'IIF(ValueCount("member")> 100000,Error("x"),IgnoreThisFlow)'},
        scope_values={"memberCount": "100000"}, precedence=45))
    assert edited.precedence == 45
    assert {c.value for g in edited.scoping for c in g.clauses
            if c.attribute == "memberCount"} == {"100000"}
    assert ws.store.connectors.get("AAD").full_sync_required
    edited = edit_rule(ws.store, copy.name, RuleEdit(
        scoping=[parse_scope_group("securityEnabled EQUAL true AND memberCount LESSTHAN 9")],
        directs={"extra": "department"}, remove_transformations=["sourceAnchor"]))
    assert len(edited.scoping) == 1 and len(edited.scoping[0].clauses) == 2
    assert edited.scoping[0].clauses[1].operator is ScopeOperator.LESSTHAN
    targets = {t.target: t.flow_type for t in edited.transformations}
    assert targets["extra"] is FlowType.DIRECT and "sourceAnchor" not in targets


def _user_join(flavour: str = "ad"):  # type: ignore[no-untyped-def]
    return next(r for r in outofbox_rules("AD", "AAD", flavour)
                if r.name == "In from AD - User Join")


def _cloud_filtered(attributes: dict, dn: str = "CN=x,DC=contoso,DC=com"):  # type: ignore[no-untyped-def, type-arg]
    report = dry_run(_user_join(), {"objectGUID": b"\x01" * 16, **attributes}, dn=dn)
    flow = next(f for f in report.flows if f.target == "cloudFiltered")
    return flow.value if flow.outcome == "value" else None


@pytest.mark.parametrize(("attributes", "dn", "filtered"), [
    ({"sAMAccountName": "ann"}, "CN=ann,DC=c", None),
    ({}, "CN=ann,DC=c", True),  # no sAMAccountName
    ({"sAMAccountName": "ann", "isCriticalSystemObject": "TRUE"}, "CN=ann,DC=c", True),
    ({"sAMAccountName": "AAD_3f2c"}, "CN=a,DC=c", True),
    ({"sAMAccountName": "MSOL_3f2c"}, "CN=a,DC=c", True),
    ({"sAMAccountName": "SUPPORT_388945a0"}, "CN=a,DC=c", True),
    ({"sAMAccountName": "sm", "mailNickname": "SystemMailbox{1f05a927}"}, "CN=a,DC=c", True),
    ({"sAMAccountName": "cas", "mailNickname": "CAS_{4a6f}"}, "CN=a,DC=c", True),
    ({"sAMAccountName": "cas", "mailNickname": "CAS_nobrace"}, "CN=a,DC=c", None),
    ({"sAMAccountName": "dm", "msExchRecipientTypeDetails": "8192"}, "CN=a,DC=c", True),
    ({"sAMAccountName": "mb", "msExchRecipientTypeDetails": "1"}, "CN=a,DC=c", None),
    ({"sAMAccountName": "dup"}, "CN=dup\\0ACNF:4a6f,DC=c", True),
])
def test_default_exclusions(attributes: dict, dn: str, filtered: bool | None) -> None:  # type: ignore[type-arg]
    assert _cloud_filtered(attributes, dn) is filtered


def test_source_anchor_per_flavour() -> None:
    guid = bytes(range(16))
    report = dry_run(_user_join("ad"), {"objectGUID": guid, "sAMAccountName": "a"})
    anchor = next(f for f in report.flows if f.target == "sourceAnchor")
    assert anchor.value == "AAECAwQFBgcICQoLDA0ODw=="
    report = dry_run(_user_join("openldap"), {"entryUUID": "6f1c-e2", "uid": "a"})
    assert next(f for f in report.flows if f.target == "sourceAnchor").value == "6f1c-e2"


def test_dry_run_of_the_member_limit() -> None:
    rule = next(r for r in outofbox_rules("AD", "AAD") if r.name == GROUP_JOIN_RULE)
    group = {"sourceAnchor": "Zm9v", "securityEnabled": "true", "memberCount": 50001,
             "member": [f"CN=u{i}" for i in range(50001)]}
    report = dry_run(rule, group)
    assert not report.in_scope  # new and oversized: never provisioned
    member = next(f for f in report.flows if f.target == "member")
    assert (member.outcome, member.message) == ("error", "Maximum Group member count exceeded")
    report = dry_run(rule, {**group, "cloudSourceAnchor": "Zm9v"})
    assert report.in_scope  # already in the cloud: keeps flowing (and fails)
    small = dry_run(rule, {**group, "memberCount": 3, "member": ["CN=a", "CN=b", "CN=c"]})
    assert small.in_scope
    assert next(f for f in small.flows if f.target == "member").outcome == "ignore_this_flow"
    dn = next(f for f in small.flows if f.target == "dn")
    assert dn.value == "CN={" + b"Zm9v".hex().upper() + "}"
    assert small.join_outcome.startswith("no single match")


def test_cli_copy_edit_test(hybrid_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = hybrid_factory("version: 1\n")
    cli = build()
    runner = CliRunner()

    def idsync(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["--workspace", str(ws.path), *args], input=input)

    refused = idsync("rules", "edit", GROUP_JOIN_RULE, "--precedence", "50")
    assert refused.exit_code == 2 and "reserved" in refused.output
    copied = idsync("rules", "copy", GROUP_JOIN_RULE, input="150\n60\n")
    assert copied.exit_code == 0, copied.output
    assert "precedence 60" in copied.output
    copy = GROUP_JOIN_RULE + " (copy)"
    bad = idsync("rules", "edit", copy, "--transformation", "member=IIF(")
    assert bad.exit_code == 2 and "expected" in bad.output
    limit = ('IIF(ValueCount("member")> 2,Error("Maximum Group member count exceeded"),'
             'IgnoreThisFlow)')
    ok = idsync("rules", "edit", copy, "--transformation", f"member={limit}",
                "--scope-value", "memberCount=2")
    assert ok.exit_code == 0, ok.output
    obj = tmp_path / "group.json"
    obj.write_text(json.dumps({"sourceAnchor": "Zm9v", "securityEnabled": "true",
                               "memberCount": 3, "cloudSourceAnchor": "Zm9v",
                               "member": ["CN=a", "CN=b", "CN=c"]}))
    shown = idsync("rules", "test", copy, "--object", str(obj), "--json")
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.output)
    assert report["in_scope"] is True
    flows = {f["target"]: f for f in report["transformations"]}
    assert flows["member"] == {"target": "member", "flow_type": "Expression", "source": limit,
                               "outcome": "error",
                               "message": "Maximum Group member count exceeded"}
    assert flows["dn"]["value"] == "CN={" + b"Zm9v".hex().upper() + "}"
    readable = idsync("rules", "test", copy, "--object", str(obj))
    assert "Error():" in readable.output  # the table wraps the message itself
    assert "Scope: in scope" in readable.output
    assert idsync("rules", "delete", copy).exit_code == 0
    assert idsync("rules", "enable", GROUP_JOIN_RULE).exit_code == 0
    assert not ws.store.rules.get(GROUP_JOIN_RULE).disabled


def test_rename_keeps_the_rule_usable_and_refuses_clashes(hybrid_factory) -> None:  # type: ignore[no-untyped-def]
    ws = hybrid_factory("version: 1\n")
    copy = copy_rule(ws.store, "In from AD - User Common", 20)
    with pytest.raises(ConfigurationError, match="exists already"):
        edit_rule(ws.store, copy.name, RuleEdit(name="In from AD - User Join"))
    renamed = edit_rule(ws.store, copy.name, RuleEdit(name="Contoso - User Common"))
    assert ws.store.rules.find(copy.name) is None
    assert ws.store.rules.get("Contoso - User Common").precedence == 20 == renamed.precedence


def test_source_anchor_change_after_export_is_an_error() -> None:
    rule = next(r for r in outofbox_rules("AD", "AAD") if r.name == "Out to AAD - User Join")
    same = dry_run(rule, {"sourceAnchor": "Zm9v", "cloudSourceAnchor": "Zm9v"})
    assert next(f for f in same.flows if f.target == "sourceAnchor").value == "Zm9v"
    changed = dry_run(rule, {"sourceAnchor": "YmFy", "cloudSourceAnchor": "Zm9v"})
    flow = next(f for f in changed.flows if f.target == "sourceAnchor")
    assert (flow.outcome, flow.message) == ("error", "SourceAnchor attribute has changed.")
