"""What the export stage keeps from a directory's answers, against a real clouddir: a success
that carries a warning (a quarantined duplicate value) is recorded on the object and the run
completes with warnings."""

from __future__ import annotations

from pathlib import Path

from tests.harness.clouddir_server import clouddir, clouddir_shared  # noqa: F401
from tests.harness.workspace import ldif, make_workspace, user_entry

from idsync.administration.rule_changes import save_rules
from idsync.rules.files import load_rules_text

RULES = """
rules:
  - name: In from source - users
    direction: inbound
    connector: source
    cs_object_type: user
    mv_object_type: person
    link_type: Provision
    precedence: 100
    transformations:
      - {target: sourceAnchor, flow_type: Direct, source: entryUUID}
      - {target: displayName, flow_type: Direct, source: cn}
      - {target: userPrincipalName, flow_type: Direct, source: mail}
  - name: Out to cloud - users
    direction: outbound
    connector: cloud
    cs_object_type: user
    mv_object_type: person
    link_type: Provision
    precedence: 100
    transformations:
      - {target: dn, flow_type: Expression, source: '"CN={" & [sourceAnchor] & "}"'}
      - {target: sourceAnchor, flow_type: Direct, source: sourceAnchor}
      - {target: displayName, flow_type: Direct, source: displayName}
      - {target: userPrincipalName, flow_type: Direct, source: userPrincipalName}
      - {target: mailNickname, flow_type: Constant, source: helpdesk}
"""


def test_a_quarantined_duplicate_is_a_recorded_warning(clouddir, tmp_path: Path) -> None:  # noqa: F811
    ws = make_workspace(tmp_path / "ws", ldif(user_entry("ann", mail="ann@contoso.com"),
                                              user_entry("bob", mail="bob@contoso.com")),
                        builtin=False)
    ws.store.connectors.add("cloud", "cloud", clouddir.connector_settings(), clouddir.secrets())
    save_rules(ws.store, load_rules_text(RULES))
    for connector, profile in (("source", "fi"), ("source", "fs")):
        assert ws.run(connector, profile).ok
    export = ws.run("cloud", "e")
    assert export.counters["adds"] == 2
    assert export.status == "completed-warnings"
    [warning] = ws.store.errors.list(stage="export")
    assert warning.code == "AttributeValueMustBeUnique"
    # both objects exist in the cloud, and both got their anchors
    cloud = ws.store.connectors.get("cloud")
    assert all(o.anchor for o in ws.store.cs.search(cloud.id))
    assert "mailNickname" in warning.detail or "helpdesk" in warning.detail
    ws.store.close()
