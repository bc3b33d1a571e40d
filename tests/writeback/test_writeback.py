"""Group writeback on a real slapd and a real clouddir: a Microsoft 365 group created in the
cloud is written to the on-premises OU with on-premises member DNs; membership changes flow as
value adds and removes; disable lists the groups first and deletes them only when confirmed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.harness.hybrid import Hybrid, make_hybrid

pytestmark = pytest.mark.slapd

USERS = ["ann", "bob", "cat", "dan"]


@pytest.fixture
def hybrid(slapd, clouddir, tmp_path: Path):  # type: ignore[no-untyped-def]
    h = make_hybrid(tmp_path, slapd, clouddir, USERS)
    h.steps("corp:fi", "cloud:fi", "corp:fs", "cloud:fs", "cloud:e", "cloud:fi", "cloud:fs")
    yield h
    h.store.close()


def _writeback_dn(h: Hybrid, group_id: str) -> str:
    return f"CN=Group_{group_id},ou=Writeback,{h.base}"


def test_unified_group_is_written_back_and_membership_flows_as_deltas(hybrid: Hybrid) -> None:
    h = hybrid
    ids = h.cloud_ids()
    group_id = h.unified_group("Project X", [ids["Ann"], ids["Bob"]])
    enabled = h.cli("writeback", "enable", "--onprem", "corp", "--cloud", "cloud",
                    "--ou", f"ou=Writeback,{h.base}")
    assert enabled.exit_code == 0, enabled.output
    # A rule change like any other: previewed before it is kept (the full import of the cloud
    # it needs has not run, so the groups to write back show up only after it).
    assert "preview of the next synchronization" in enabled.output
    h.steps("cloud:fi", "cloud:fs", "corp:fs", "corp:e", "corp:di", "corp:ds")

    entry = h.ldap_group(_writeback_dn(h, group_id))
    assert entry is not None, "the Unified group was not written back"
    people = f"ou=People,{h.base}".lower()
    assert {m.lower() for m in entry["member"]} == {f"uid=ann,{people}", f"uid=bob,{people}"}
    assert entry["description"] == ["Project X"]

    # The cloud changes membership: one add, one remove. The export to LDAP carries exactly
    # those two values (never a rewrite of the whole member attribute).
    h.add_members(group_id, [ids["Cat"]])
    h.graph("DELETE", f"groups/{group_id}/members/{ids['Ann']}/$ref")
    h.steps("cloud:di", "cloud:ds")
    preview = h.cli("export", "preview", "corp", "--json")
    assert preview.exit_code == 0, preview.output
    changes = json.loads(preview.output)
    member_changes = [c for o in changes["objects"] for c in o["changes"]
                      if c["attribute"] == "member"]
    assert {c["operation"] for c in member_changes} == {"add", "remove"}, member_changes
    assert all(len(c["new"]) + len(c["old"]) <= 1 for c in member_changes), member_changes
    h.steps("corp:e", "corp:di", "corp:ds")
    entry = h.ldap_group(_writeback_dn(h, group_id))
    assert entry is not None
    assert {m.lower() for m in entry["member"]} == {f"uid=bob,{people}", f"uid=cat,{people}"}

    # Disable: a preview first, nothing changes; then the confirmed disable deletes it.
    dry = h.cli("writeback", "disable")
    assert dry.exit_code == 3, dry.output
    assert "Project X" in dry.output
    assert h.store.rules.find("Out to AD - Group Writeback") is not None
    done = h.cli("writeback", "disable", "--confirm")
    assert done.exit_code == 0, done.output
    h.steps("cloud:fi", "cloud:fs", "corp:fs")
    preview = json.loads(h.cli("export", "preview", "corp", "--json").output)
    assert [o["operation"] for o in preview["objects"]] == ["delete"], preview
    h.steps("corp:e", "corp:di", "corp:ds")
    assert h.ldap_group(_writeback_dn(h, group_id)) is None


def test_member_limit_rule_refuses_a_group_above_it(hybrid: Hybrid) -> None:
    h = hybrid
    ids = h.cloud_ids()
    small = h.unified_group("Small", [ids["Ann"], ids["Bob"]])
    big = h.unified_group("Big", [ids[n] for n in ("Ann", "Bob", "Cat", "Dan")])
    enabled = h.cli("writeback", "enable", "--onprem", "corp", "--cloud", "cloud",
                    "--ou", f"ou=Writeback,{h.base}", "--member-limit", "3",
                    "--naming", "displayname")
    assert enabled.exit_code == 0, enabled.output
    allow = {"sync-rule-error-function-triggered"}
    h.steps("cloud:fi", "cloud:fs", "corp:fs", "corp:e", "corp:di", "corp:ds", allow=allow)
    # A new group above the limit is never provisioned (as Out to AAD - Group Join does).
    assert h.ldap_group(f"CN=Small_{small[-12:]},ou=Writeback,{h.base}") is not None
    assert h.ldap_group(f"CN=Big_{big[-12:]},ou=Writeback,{h.base}") is None
    assert not h.store.errors.list()
    # A written-back group that grows past the limit fails with the reference's error and
    # is not deleted; its membership stops flowing.
    h.add_members(small, [ids["Cat"], ids["Dan"]])
    h.steps("cloud:di", "cloud:ds", "corp:e", allow=allow)
    errors = [e for e in h.store.errors.list() if e.code in allow]
    assert errors and "Maximum Group member count exceeded" in errors[0].detail
    entry = h.ldap_group(f"CN=Small_{small[-12:]},ou=Writeback,{h.base}")
    assert entry is not None and len(entry["member"]) == 2
