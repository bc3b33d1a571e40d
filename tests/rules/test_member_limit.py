"""The group member limit on "Out to AAD - Group Join", lowered and raised on an editable copy
the way the reference's V2 procedure describes, against a real clouddir."""

from __future__ import annotations

from click.testing import CliRunner
from tests.rules.conftest import ad_group, ad_user, ldif
from tests.rules.test_outofbox_cloud import anchor

from idsync.administration.rule_editing import edit_rule
from idsync.cli.main import build
from idsync.rules.edits import RuleEdit
from idsync.rules.outofbox import GROUP_JOIN_RULE

COPY = GROUP_JOIN_RULE + " (copy)"


def limit_expression(limit: int) -> str:
    return (f'IIF(ValueCount("member")> {limit},Error("Maximum Group member count exceeded"),'
            "IgnoreThisFlow)")


def set_limit(ws, limit: int) -> None:  # type: ignore[no-untyped-def]
    edit_rule(ws.store, COPY, RuleEdit(expressions={"member": limit_expression(limit)},
                                       scope_values={"memberCount": str(limit)}))


def idsync(ws, *args: str) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(build(), ["--workspace", str(ws.path), *args])
    assert result.exit_code == 0, result.output


def export_errors(ws) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Export-stage errors of cloud connector space objects: DN -> (code, detail). (The
    outbound sync records them in the history of the run that computed them.)"""
    return {e.dn: (e.code, e.detail) for e in ws.store.errors.list(stage="export")}


def test_group_above_the_limit_fails_then_syncs_once_raised(hybrid_factory, clouddir) -> None:  # type: ignore[no-untyped-def]
    users = [f"u{i}" for i in range(6)]
    ws = hybrid_factory(ldif(*(ad_user(u) for u in users), ad_group("small", users[:2]),
                             ad_group("big", users)), clouddir)
    idsync(ws, "rules", "copy", GROUP_JOIN_RULE, "--precedence", "50")
    assert ws.store.rules.get(GROUP_JOIN_RULE).disabled
    set_limit(ws, 3)
    ws.cycle()
    cloud = ws.cloud_objects()
    # A new group above the limit is never provisioned; the small one is.
    assert anchor("group-big") not in cloud
    assert len(cloud[anchor("group-small")]["member_ids"]) == 2

    # The existing group grows past the limit: it stays in scope and fails.
    ws.write_source(ldif(*(ad_user(u) for u in users), ad_group("small", users[:5]),
                         ad_group("big", users)))
    ws.cycle()
    errors = export_errors(ws)
    small_dn = cloud[anchor("group-small")]["dn"]
    assert errors[small_dn] == ("sync-rule-error-function-triggered",
                                "Maximum Group member count exceeded")
    assert len(ws.cloud_objects()[anchor("group-small")]["member_ids"]) == 2

    # Raise the limit on the copy as the README says: the change needs a full sync, and both
    # groups flow.
    idsync(ws, "rules", "edit", COPY, "--transformation", f"member={limit_expression(10)}",
           "--scope-value", "memberCount=10")
    assert ws.store.connectors.get("AAD").full_sync_required
    ws.cycle()
    cloud = ws.cloud_objects()
    assert len(cloud[anchor("group-small")]["member_ids"]) == 5
    assert len(cloud[anchor("group-big")]["member_ids"]) == 6
    assert small_dn not in export_errors(ws)
