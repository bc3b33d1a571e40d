"""The sync API v2 document from start to finish on a real slapd and a real clouddir, scaled
down by configuration (1 member here stands for 10,000: API v1 limit 5 ~ 50,000, API v2 limit
25 ~ 250,000, the rule limit raised 7 ~ 75,000, 10 ~ 100,000, 25 ~ 250,000).

Phase 1 (API v1), phase 2 (API v2: large Microsoft 365 groups are read and written back),
phase 3 (the editable copy of Out to AAD - Group Join raised step by step with the full sync
suppressed; a group over the limit shows "Maximum Group member count exceeded" and syncs once the
limit is raised), then the rollback: set-api-version lists the groups that will be deleted and
changes nothing without --confirm, the deletes show in export preview and count against the
deletion threshold, and after the full sync they are gone, in the cloud and on-premises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.harness.hybrid import (
    DELTA,
    FULL,
    LIMIT_ERROR,
    Hybrid,
    cloud_groups,
    limit_expression,
    make_hybrid,
    ok,
    onprem_group,
)

pytestmark = pytest.mark.slapd

USERS = [f"u{i:02d}" for i in range(30)]
COPY = "Out to AAD - Group Join (copy)"


def test_the_v2_endpoint_document_end_to_end(slapd, clouddir_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tenant = clouddir_factory(v1_member_limit=5, v2_member_limit=25)
    h = make_hybrid(tmp_path, slapd, tenant, USERS, group_limit=5)
    try:
        _story(h)
    finally:
        h.store.close()


def _story(h: Hybrid) -> None:
    onprem_group(h, "small", USERS[:3])
    onprem_group(h, "g6", USERS[:6])
    onprem_group(h, "g8", USERS[:8])
    onprem_group(h, "g20", USERS[:20])
    allow = {LIMIT_ERROR}

    # --- before: API v1, the default member limit -------------------------------------------
    ok(h, "connector", "set-api-version", "cloud", "--export", "1", "--import", "1")
    h.steps(*FULL)
    assert cloud_groups(h) == {"small": 3}
    ids = h.cloud_ids()
    big = h.unified_group("Big M365", [ids[u.title()] for u in USERS[:8]])
    ok(h, "writeback", "enable", "--onprem", "corp", "--cloud", "cloud",
       "--ou", f"ou=Writeback,{h.base}")
    h.steps(*FULL)
    big_dn = f"CN=Group_{big},ou=Writeback,{h.base}"
    assert h.ldap_group(big_dn) is None, "v1 import reads no group above the v1 limit"

    # --- phase 2: the V2 endpoint ----------------------------------------------------------
    ok(h, "connector", "set-api-version", "cloud", "--export", "2", "--import", "2")
    settings = h.store.connectors.get("cloud").settings
    assert (settings["export_api_version"], settings["import_api_version"]) == (2, 2)
    h.steps(*FULL)
    # Large Microsoft 365 groups are read and written back; on-prem groups still wait for
    # the limit to be raised.
    entry = h.ldap_group(big_dn)
    assert entry is not None and len(entry["member"]) == 8
    assert cloud_groups(h) == {"small": 3}

    # --- phase 3: raise the limit on an editable copy, step by step ------------------------
    def raise_limit(n: int) -> None:
        ok(h, "rules", "edit", COPY, "--transformation", limit_expression(n),
           "--scope-value", f"memberCount={n}")
        ok(h, "scheduler", "override", "cloud", "--full-sync-required", "false")
        assert not h.store.connectors.get("cloud").full_sync_required
        h.steps(*DELTA, allow=allow)

    ok(h, "rules", "copy", "Out to AAD - Group Join", "--precedence", "50")
    assert h.store.rules.get("Out to AAD - Group Join").disabled
    raise_limit(7)  # ~75,000
    assert cloud_groups(h) == {"small": 3, "g6": 6}
    raise_limit(10)  # ~100,000
    assert cloud_groups(h) == {"small": 3, "g6": 6, "g8": 8}
    # g8 grows past the limit: the export error of the document, the group is not deleted.
    h.slapd.modify(f"cn=g8,ou=Groups,{h.base}", [
        ("add", "member", [f"uid={u},ou=People,{h.base}" for u in USERS[8:11]])])
    h.steps(*DELTA, allow=allow)
    errors = [e for e in h.store.errors.list() if e.code == LIMIT_ERROR]
    assert [e.detail for e in errors] == ["Maximum Group member count exceeded"]
    assert cloud_groups(h)["g8"] == 8
    raise_limit(25)  # ~250,000: g8 syncs again, g20 arrives
    assert cloud_groups(h) == {"small": 3, "g6": 6, "g8": 11, "g20": 20}
    assert not [e for e in h.store.errors.list() if e.code == LIMIT_ERROR]

    # --- rollback ----------------------------------------------------------------------------
    out = ok(h, "connector", "set-api-version", "cloud", "--export", "1", "--import", "1",
             "--json", code=3)
    plan = json.loads(out)
    assert not plan["changed"]
    assert {(d["name"], d["member_count"], d["direction"]) for d in plan["deletions"]} == {
        ("g6", 6, "on-prem -> cloud"), ("g8", 11, "on-prem -> cloud"),
        ("g20", 20, "on-prem -> cloud"), ("Big M365", 8, "cloud -> on-prem (writeback)")}
    assert h.store.connectors.get("cloud").settings["export_api_version"] == 2, \
        "nothing changes without --confirm"
    ok(h, "connector", "set-api-version", "cloud", "--export", "1", "--import", "1", "--confirm")
    preview = json.loads(ok(h, "export", "preview", "cloud", "--json"))
    assert sorted(o["operation"] for o in preview["objects"]) == ["delete"] * 3
    ok(h, "rules", "delete", COPY)
    ok(h, "rules", "enable", "Out to AAD - Group Join")

    # The deletes count against the accidental-delete threshold.
    ok(h, "export-deletion-threshold", "set", "3")
    stopped = h.run("cloud", "e")
    assert not stopped.ok
    assert set(cloud_groups(h)) == {"small", "g6", "g8", "g20"}
    ok(h, "export-deletion-threshold", "set", "500")

    # The order of the procedure: export the cloud deletes, then the full import and full sync.
    h.steps("cloud:e", "cloud:fi", "cloud:fs", "corp:fi", "corp:fs")
    # The written-back group: the v1 import no longer reads it; its delete is staged.
    preview = json.loads(ok(h, "export", "preview", "corp", "--json"))
    assert [(o["operation"], o["dn"].lower()) for o in preview["objects"]] == [
        ("delete", big_dn.lower())]
    h.steps(*FULL)
    assert cloud_groups(h) == {"small": 3}
    assert h.ldap_group(big_dn) is None
    h.steps(*FULL)  # stable: nothing comes back
    assert cloud_groups(h) == {"small": 3}
