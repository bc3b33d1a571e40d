"""Issue 14, observation 2, end to end against a real clouddir: a scoping mistake stages the
delete of every cloud user (and a rule disabled by mistake, of the groups), the deletion
threshold holds them; the operator fixes the filter and enables the rule again. A delta and a
full synchronization cancel every delete, the export sends nothing destructive, and every
cloud object keeps its object id and its memberships."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.harness.clouddir_server import clouddir, clouddir_shared  # noqa: F401
from tests.harness.workspace import group_entry, ldif, make_workspace, user_entry

from idsync.administration.rule_changes import save_rules, set_disabled
from idsync.events import EventId
from idsync.rules.files import load_rules_text
from idsync.rules.model import ScopeOperator, ScopingClause, ScopingGroup

RULES = """
rules:
  - name: In from source - users
    direction: inbound
    connector: source
    cs_object_type: user
    mv_object_type: person
    link_type: Provision
    precedence: 100
    join:
      - - {cs_attribute: entryUUID, mv_attribute: sourceAnchor}
    transformations:
      - {target: sourceAnchor, flow_type: Direct, source: entryUUID}
      - {target: displayName, flow_type: Direct, source: cn}
      - {target: accountName, flow_type: Direct, source: uid}
  - name: In from source - groups
    direction: inbound
    connector: source
    cs_object_type: group
    mv_object_type: group
    link_type: Provision
    precedence: 101
    join:
      - - {cs_attribute: entryUUID, mv_attribute: sourceAnchor}
    transformations:
      - {target: sourceAnchor, flow_type: Direct, source: entryUUID}
      - {target: displayName, flow_type: Direct, source: cn}
      - {target: member, flow_type: Direct, source: member}
  - name: In from cloud - user join
    direction: inbound
    connector: cloud
    cs_object_type: user
    mv_object_type: person
    link_type: Join
    precedence: 110
    join:
      - - {cs_attribute: sourceAnchor, mv_attribute: sourceAnchor}
    transformations:
      - {target: cloudSourceAnchor, flow_type: Direct, source: sourceAnchor}
  - name: In from cloud - group join
    direction: inbound
    connector: cloud
    cs_object_type: group
    mv_object_type: group
    link_type: Join
    precedence: 111
    join:
      - - {cs_attribute: sourceAnchor, mv_attribute: sourceAnchor}
    transformations:
      - {target: cloudSourceAnchor, flow_type: Direct, source: sourceAnchor}
  - name: Out to cloud - users
    direction: outbound
    connector: cloud
    cs_object_type: user
    mv_object_type: person
    link_type: Provision
    precedence: 120
    transformations:
      - {target: dn, flow_type: Expression, source: '"CN={" & [sourceAnchor] & "}"'}
      - {target: sourceAnchor, flow_type: Direct, source: sourceAnchor}
      - {target: displayName, flow_type: Direct, source: displayName}
      - {target: userPrincipalName, flow_type: Expression,
         source: '[accountName] & "@contoso.com"'}
      - {target: mailNickname, flow_type: Direct, source: accountName}
  - name: Out to cloud - groups
    direction: outbound
    connector: cloud
    cs_object_type: group
    mv_object_type: group
    link_type: Provision
    precedence: 121
    transformations:
      - {target: dn, flow_type: Expression, source: '"CN={" & [sourceAnchor] & "}"'}
      - {target: sourceAnchor, flow_type: Direct, source: sourceAnchor}
      - {target: displayName, flow_type: Direct, source: displayName}
      - {target: mailNickname, flow_type: Direct, source: displayName}
      - {target: securityEnabled, flow_type: Constant, source: "true"}
      - {target: member, flow_type: Direct, source: member}
"""

USERS = [f"u{i:02d}" for i in range(30)]


def cloud_state(tenant: Any) -> tuple[dict[str, str], dict[str, set[str]]]:
    """source anchor -> cloud object id, and group source anchor -> member DNs."""
    entries, _token, _pages = tenant.import_all(2)
    ids: dict[str, str] = {}
    members: dict[str, set[str]] = {}
    for entry in entries:
        if entry["op"] != "upsert":
            continue
        ids[entry["source_anchor"]] = entry["id"]
        if entry["object_type"] == "group":
            members.setdefault(entry["source_anchor"], set()).update(
                entry["members"]["add"])
    return ids, members


def test_a_fixed_scoping_mistake_deletes_nothing_in_the_cloud(clouddir, tmp_path: Path  # noqa: F811
                                                              ) -> None:
    ws = make_workspace(
        tmp_path / "ws",
        ldif(*(user_entry(u, extra={"department": ["Sales"]}) for u in USERS),
             group_entry("sales", USERS[:15]), group_entry("everyone", USERS)),
        builtin=False)
    ws.store.connectors.add("cloud", "cloud", clouddir.connector_settings(), clouddir.secrets())
    save_rules(ws.store, load_rules_text(RULES))

    def run(connector: str, profile: str) -> Any:
        result = ws.run(connector, profile)
        assert result.ok or result.status == "stopped-deletion-threshold-exceeded", result
        return result

    for connector, profile in (("source", "fi"), ("source", "fs"), ("cloud", "e"),
                               ("cloud", "fi"), ("cloud", "fs")):
        run(connector, profile)
    ids, members = cloud_state(clouddir)
    assert len(ids) == 32 and {len(m) for m in members.values()} == {15, 30}
    with ws.store.transaction():
        ws.store.settings.set("export_deletion_threshold", {"enabled": True, "count": 10})

    # The mistakes: the users' filter names a department nobody is in, and the group rule
    # is disabled. The cycle stages 32 deletes; the threshold holds them.
    rule = ws.store.rules.get("In from source - users")
    rule.scoping = [ScopingGroup([ScopingClause("department", ScopeOperator.EQUAL, "Slaes")])]
    save_rules(ws.store, [rule])
    set_disabled(ws.store, "Out to cloud - groups", True)
    run("source", "fs")
    cloud = ws.store.connectors.get("cloud").id
    assert ws.store.exports.count(cloud, kind="delete") == 32
    assert run("cloud", "e").status == "stopped-deletion-threshold-exceeded"
    # the cycle goes on meanwhile: the cloud's own import and full synchronization (its join
    # rules link the groups' cloud objects to their metaverse groups again)
    run("cloud", "fi")
    run("cloud", "fs")
    assert ws.store.exports.count(cloud, kind="delete") == 32
    assert {(o.object_type, o.link_direction) for o in ws.store.cs.search(cloud, limit=0)} == {
        ("user", None), ("group", "inbound")}

    # Fixed: the rule enabled again (a delta synchronization), the filter corrected (a full
    # synchronization, as the rule change requires).
    set_disabled(ws.store, "Out to cloud - groups", False)
    delta = run("source", "ds")
    assert delta.counters["cancelled-deletes"] == 2
    rule.scoping = [ScopingGroup([ScopingClause("department", ScopeOperator.EQUAL, "Sales")])]
    save_rules(ws.store, [rule])
    full = run("source", "fs")
    assert full.counters["cancelled-deletes"] == 30
    assert "provisioned" not in full.counters
    assert ws.store.exports.counts_by_kind(cloud) == {}

    export = run("cloud", "e")
    assert export.status == "success"
    assert not export.counters.get("deletes") and not export.counters.get("adds")
    assert cloud_state(clouddir) == (ids, members)
    events = ws.store.events.list(event_id=int(EventId.EXPORT_CANCELLED), limit=0)
    assert len([e for e in events if e.data["kind"] == "delete"]) == 32

    # and the next cycle agrees: nothing to send, every object id kept
    for connector, profile in (("cloud", "fi"), ("cloud", "fs"), ("source", "fi"),
                               ("source", "fs")):
        run(connector, profile)
    assert ws.store.exports.counts_by_kind(cloud) == {}
    assert cloud_state(clouddir) == (ids, members)
    ws.store.close()
