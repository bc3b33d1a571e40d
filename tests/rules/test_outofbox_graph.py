"""The out-of-box rule set for Microsoft Graph (`rules install-outofbox --graph`): it installs
and validates, an on-premises user with a manager and a group with members reach Graph's
attribute names through the dry run, groups above the member limit and distribution groups
are left out, the editable copy works, and a wrong or missing target is one clear line."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from idsync.administration.outofbox import install_outofbox
from idsync.administration.rule_dry_run import dry_run
from idsync.administration.rule_editing import copy_rule, edit_rule
from idsync.cli.main import build
from idsync.errors import ConfigurationError
from idsync.rules.edits import RuleEdit
from idsync.rules.model import SyncRule
from idsync.rules.outofbox import GRAPH_GROUP_JOIN_RULE, Target, outofbox_rules
from idsync.rules.validation import validate_rule
from idsync.store import Store

GRAPH_NAMES = {
    "In from Graph - User Join": 150, "In from Graph - Group Join": 151,
    "Out to Graph - User Join": 153, "Out to Graph - User Identity": 154,
    "Out to Graph - Group Join": 160, "Out to Graph - Group Identity": 161,
}
ONPREM_NAMES = {
    "In from AD - User Join": 100, "In from AD - User AccountEnabled": 102,
    "In from AD - User Common": 106, "In from AD - Group Join": 112,
    "In from AD - Group Common": 114, "In from AD - Contact Join": 115,
    "In from AD - Contact Common": 116,
}
BASE = "DC=contoso,DC=com"


def _rules(flavour: str = "ad") -> dict[str, SyncRule]:
    return {r.name: r for r in outofbox_rules("AD", "entra", flavour, Target.GRAPH)}


def _values(rule: SyncRule, attributes: dict[str, Any], dn: str | None = None
            ) -> dict[str, Any]:
    """What ``rule`` flows for one object: target -> value (the flows that give one)."""
    report = dry_run(rule, attributes, dn=dn)
    assert report.in_scope, rule.name
    failed = [(f.target, f.message) for f in report.flows if f.outcome in ("error", "failed")]
    assert not failed, failed
    return {f.target: f.value for f in report.flows if f.outcome == "value"}


def _metaverse(rules: dict[str, SyncRule], kind: str, cs: dict[str, Any], dn: str
               ) -> dict[str, Any]:
    """The metaverse object the In from AD rules make of one on-premises object."""
    mv: dict[str, Any] = {}
    for name in ONPREM_NAMES:
        if name.startswith(f"In from AD - {kind}"):
            report = dry_run(rules[name], cs, dn=dn)
            if report.in_scope:
                mv.update({f.target: f.value for f in report.flows if f.outcome == "value"})
    return mv


def _ad_user(sam: str, **extra: Any) -> dict[str, Any]:
    return {"objectGUID": uuid.uuid5(uuid.NAMESPACE_DNS, sam).bytes_le,
            "sAMAccountName": sam, "userPrincipalName": f"{sam}@contoso.test",
            "givenName": sam.title(), "sn": "Tester", "mail": f"{sam}@contoso.test",
            "userAccountControl": "512", "cn": sam, **extra}


@pytest.mark.parametrize("flavour", ["ad", "openldap"])
def test_graph_rule_set_validates_beside_the_in_from_ad_rules(flavour: str) -> None:
    rules = outofbox_rules("corp", "entra", flavour, Target.GRAPH)
    assert {r.name: r.precedence for r in rules} == {**ONPREM_NAMES, **GRAPH_NAMES}
    for rule in rules:
        validate_rule(rule, ["corp", "entra"])
        assert rule.reserved and rule.tag
        assert rule.connector == ("corp" if rule.name.startswith("In from AD") else "entra")
    # The same on-premises rules as the sync API's set: both sets can be installed at once.
    cloud = {r.name: r for r in outofbox_rules("corp", "aad", flavour)}
    assert all(r.to_dict() == cloud[r.name].to_dict() for r in rules if r.connector == "corp")
    group_join = next(r for r in rules if r.name == GRAPH_GROUP_JOIN_RULE)
    members = next(t for t in group_join.transformations if t.target == "members")
    assert members.source == ('IIF(ValueCount("member")> 50000,Error("Maximum Group member '
                              'count exceeded"),IgnoreThisFlow)')
    assert next(t for t in group_join.transformations if t.target == "dn").apply_once
    assert not any(r.cs_object_type == "contact" for r in rules if r.connector == "entra")


def test_a_user_with_a_manager_reaches_graphs_attributes() -> None:
    rules = _rules()
    boss_dn, ann_dn = f"CN=boss,OU=Users,{BASE}", f"CN=ann,OU=Users,{BASE}"
    ann = _ad_user("ann", manager=boss_dn, employeeID="E-17", title="Engineer",
                   department="R&D", c="FR")
    mv = _metaverse(rules, "User", ann, ann_dn)
    anchor = base64.b64encode(ann["objectGUID"]).decode()
    assert mv["sourceAnchor"] == anchor and mv["manager"] == boss_dn and mv["c"] == "FR"
    join = _values(rules["Out to Graph - User Join"], mv)
    assert join == {"dn": "CN={" + anchor.encode().hex().upper() + "},OU=Users",
                    "onPremisesImmutableId": anchor}
    identity = _values(rules["Out to Graph - User Identity"], mv)
    assert identity == {
        "userPrincipalName": "ann@contoso.test", "displayName": "ann", "givenName": "Ann",
        "surname": "Tester", "accountEnabled": "true", "mail": "ann@contoso.test",
        "mailNickname": "ann", "employeeId": "E-17", "department": "R&D",
        "jobTitle": "Engineer", "usageLocation": "FR", "manager": boss_dn}
    # proxyAddresses is read-only in Graph: never flowed.
    assert not any(t.target == "proxyAddresses" for t in
                   rules["Out to Graph - User Identity"].transformations)
    # Excluded on premises (cloudFiltered), out of every Out to Graph rule's scope.
    service = _metaverse(rules, "User", _ad_user("MSOL_1a2b"), f"CN=msol,OU=Users,{BASE}")
    assert service["cloudFiltered"] is True
    assert not dry_run(rules["Out to Graph - User Join"], service).in_scope


def test_joining_back_from_graph_and_a_changed_source_anchor() -> None:
    rules = _rules()
    object_id = "7d6a4c1e-9b8f-4d2a-a1b3-0c5e6f7a8b9c"
    graph_user = {"onPremisesImmutableId": "Zm9v", "userPrincipalName": "ann@contoso.test"}
    report = dry_run(rules["In from Graph - User Join"], graph_user,
                     dn=f"CN={object_id},OU=Users")
    assert report.in_scope
    assert report.joins[0].values == {"onPremisesImmutableId": ["Zm9v"]}
    flows = {f.target: f.value for f in report.flows}
    assert flows == {"entraObjectId": object_id, "entraImmutableId": "Zm9v"}
    # A cloud-only user (no immutable id) is never joined.
    assert not dry_run(rules["In from Graph - User Join"], {"userPrincipalName": "x@y"},
                       dn=f"CN={object_id},OU=Users").in_scope
    group = dry_run(rules["In from Graph - Group Join"], {"displayName": "Staff"},
                    dn=f"CN={object_id},OU=Groups")
    assert not group.joins and group.flows[0].value == object_id
    changed = dry_run(rules["Out to Graph - User Join"],
                      {"sourceAnchor": "YmFy", "entraImmutableId": "Zm9v"})
    flow = next(f for f in changed.flows if f.target == "onPremisesImmutableId")
    assert (flow.outcome, flow.message) == ("error", "SourceAnchor attribute has changed.")


def _ad_group(name: str, members: list[str], **extra: Any) -> dict[str, Any]:
    return {"objectGUID": uuid.uuid5(uuid.NAMESPACE_DNS, "group-" + name).bytes_le,
            "sAMAccountName": name, "cn": name, "groupType": "-2147483646",
            "member": members, **extra}


def test_security_groups_and_the_member_limit() -> None:
    rules = _rules()
    members = [f"CN=u{i},OU=Users,{BASE}" for i in range(3)]
    mv = _metaverse(rules, "Group", _ad_group("Sales Team (EU)", members),
                    f"CN=Sales Team (EU),OU=Groups,{BASE}")
    assert mv["securityEnabled"] == "true" and mv["mailEnabled"] == "false"
    assert mv["memberCount"] == 3
    join = dry_run(rules[GRAPH_GROUP_JOIN_RULE], mv)
    assert join.in_scope
    flows = {f.target: f for f in join.flows}
    assert flows["members"].outcome == "ignore_this_flow"
    anchor = mv["sourceAnchor"]
    assert flows["dn"].value == "CN={" + anchor.encode().hex().upper() + "},OU=Groups"
    identity = _values(rules["Out to Graph - Group Identity"], mv)
    assert identity == {"displayName": "Sales Team (EU)", "mailNickname": "Sales_Team_EU",
                        "securityEnabled": "true", "mailEnabled": "false",
                        "members": members}
    # Graph cannot create a mail-enabled security group: it becomes a security group (its
    # mailNickname from the address), without the mail.
    mail = _metaverse(rules, "Group", _ad_group("News", members, mail="news-desk@contoso.test"),
                      f"CN=News,OU=Groups,{BASE}")
    assert mail["mailEnabled"] == "true"
    assert dry_run(rules[GRAPH_GROUP_JOIN_RULE], mail).in_scope
    assert _values(rules["Out to Graph - Group Identity"], mail) == {
        "displayName": "News", "mailNickname": "news-desk", "securityEnabled": "true",
        "mailEnabled": "false", "members": members}
    # Nor a distribution group: not provisioned.
    distribution = _metaverse(rules, "Group", _ad_group("Dist", members, groupType="8",
                                                        mail="dist@contoso.test"),
                              f"CN=Dist,OU=Groups,{BASE}")
    assert distribution["securityEnabled"] == "false"
    assert not dry_run(rules[GRAPH_GROUP_JOIN_RULE], distribution).in_scope
    big = {**mv, "memberCount": 50001, "member": [f"CN=u{i}" for i in range(50001)]}
    report = dry_run(rules[GRAPH_GROUP_JOIN_RULE], big)
    assert not report.in_scope  # new and above the limit: never provisioned
    report = dry_run(rules[GRAPH_GROUP_JOIN_RULE], {**big, "entraObjectId": "x"})
    assert report.in_scope  # already in Entra: keeps flowing, and fails
    flow = next(f for f in report.flows if f.target == "members")
    assert (flow.outcome, flow.message) == ("error", "Maximum Group member count exceeded")


@pytest.fixture
def workspace(tmp_path: Path) -> Any:
    store = Store.open(tmp_path)
    store.connectors.add("AD", "file", {"path": "onprem.ldif", "anchor_attribute": "objectGUID"})
    # A record only: the rules and their dry runs never contact the connector.
    store.connectors.add("entra", "graph", {"tenant_id": "t", "client_id": "c"},
                         {"client_secret": "none"})
    store.connectors.add("AAD", "cloud", {"url": "http://127.0.0.1:9", "tenant_id": "none"},
                         {"token": "none"})
    runner = CliRunner()
    cli = build()

    def idsync(*args: str) -> Result:
        return runner.invoke(cli, ["--workspace", str(tmp_path), *args])

    yield store, idsync
    store.close()


def test_install_from_the_cli_and_reinstall(workspace: Any) -> None:
    store, idsync = workspace
    done = idsync("rules", "install-outofbox", "--onprem", "AD", "--graph", "entra")
    assert done.exit_code == 0, done.output
    assert "13 out-of-box rule(s) installed (precedence 100-161)" in done.output
    assert {r.name for r in store.rules.list()} == {*ONPREM_NAMES, *GRAPH_NAMES}
    assert store.connectors.get("entra").full_sync_required
    assert store.connectors.get("AD").full_sync_required
    idsync("rules", "disable", "Out to Graph - Group Identity")
    install_outofbox(store, "AD", "entra", "ad", target=Target.GRAPH)
    assert store.rules.get("Out to Graph - Group Identity").disabled
    # The sync API's set beside it (a tenant moving between the two): 13 + 8 rules.
    both = idsync("rules", "install-outofbox", "--onprem", "AD", "--cloud", "AAD")
    assert both.exit_code == 0, both.output
    assert len(store.rules.list()) == 21


@pytest.mark.parametrize(("args", "message"), [
    (["--graph", "entra", "--cloud", "AAD"], "give exactly one of --cloud"),
    ([], "give exactly one of --cloud"),
    (["--graph", "AAD"], "connector 'AAD' is of type 'cloud', expected 'graph' (name a cloud "
                         "connector with --cloud)"),
    (["--cloud", "entra"], "connector 'entra' is of type 'graph', expected 'cloud' (name a "
                           "graph connector with --graph)"),
    (["--graph", "AD"], "connector 'AD' is of type 'file', expected 'graph'"),
    (["--graph", "nope"], "no connector named 'nope'"),
])
def test_wrong_or_missing_target_is_one_line(workspace: Any, args: list[str],
                                             message: str) -> None:
    store, idsync = workspace
    refused = idsync("rules", "install-outofbox", "--onprem", "AD", *args)
    assert refused.exit_code == 2, refused.output
    assert message in refused.output
    assert "Traceback" not in refused.output and "flavour" not in refused.output
    assert store.rules.list() == []
    with pytest.raises(ConfigurationError, match="expected 'graph'"):
        install_outofbox(store, "AD", "AAD", "ad", target=Target.GRAPH)


def test_editable_copy_raises_the_member_limit(workspace: Any, tmp_path: Path) -> None:
    store, idsync = workspace
    install_outofbox(store, "AD", "entra", "ad", target=Target.GRAPH)
    copy = copy_rule(store, GRAPH_GROUP_JOIN_RULE, 40)
    assert store.rules.get(GRAPH_GROUP_JOIN_RULE).disabled
    limit = ('IIF(ValueCount("member")> 100000,Error("Maximum Group member count exceeded"),'
             'IgnoreThisFlow)')
    edit_rule(store, copy.name, RuleEdit(expressions={"members": limit},
                                         scope_values={"memberCount": "100000"}))
    group = tmp_path / "group.json"
    group.write_text(json.dumps({"sourceAnchor": "Zm9v", "securityEnabled": "true",
                                 "mailEnabled": "false", "memberCount": 60000,
                                 "member": [f"CN=u{i}" for i in range(60000)]}))
    shown = idsync("rules", "test", copy.name, "--object", str(group), "--json")
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.output)
    assert report["in_scope"] is True
    flows = {f["target"]: f for f in report["transformations"]}
    assert flows["members"]["outcome"] == "ignore_this_flow"
    assert flows["dn"]["value"] == "CN={" + b"Zm9v".hex().upper() + "},OU=Groups"
    # The shipped rule, still installed (disabled), leaves the same group out.
    shipped = idsync("rules", "test", GRAPH_GROUP_JOIN_RULE, "--object", str(group), "--json")
    assert json.loads(shipped.output)["in_scope"] is False


def test_rules_test_of_the_user_identity_from_the_cli(workspace: Any, tmp_path: Path) -> None:
    store, idsync = workspace
    install_outofbox(store, "AD", "entra", "ad", target=Target.GRAPH)
    person = tmp_path / "person.json"
    person.write_text(json.dumps({
        "sourceAnchor": "Zm9v", "userPrincipalName": "ann@contoso.test", "displayName": "Ann",
        "accountEnabled": "false", "mailNickname": "ann", "title": "Engineer",
        "employeeID": "E-17", "manager": {"ref": f"CN=boss,OU=Users,{BASE}"}}))
    shown = idsync("rules", "test", "Out to Graph - User Identity", "--object", str(person),
                   "--json")
    assert shown.exit_code == 0, shown.output
    flows = {f["target"]: f for f in json.loads(shown.output)["transformations"]}
    assert {t: f["value"] for t, f in flows.items() if f["outcome"] == "value"} == {
        "userPrincipalName": "ann@contoso.test", "displayName": "Ann",
        "accountEnabled": "false", "mailNickname": "ann", "employeeId": "E-17",
        "jobTitle": "Engineer", "manager": f"CN=boss,OU=Users,{BASE}"}
