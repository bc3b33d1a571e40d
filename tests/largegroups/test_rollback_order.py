"""The rollback's cloud deletes, run in the scheduler's order (imports and syncs before the
export), still reach the cloud: the v1 full import no longer returns the large group, yet the
staged delete is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.harness.hybrid import (
    cloud_groups,
    make_hybrid,
    ok,
    small_and_large_group_on_v2,
)

pytestmark = pytest.mark.slapd

USERS = [f"u{i:02d}" for i in range(10)]


def test_rollback_deletes_reach_the_cloud_in_cycle_order(slapd, clouddir_factory,  # type: ignore[no-untyped-def]
                                                        tmp_path: Path) -> None:
    tenant = clouddir_factory(v1_member_limit=5, v2_member_limit=25)
    h = make_hybrid(tmp_path, slapd, tenant, USERS, group_limit=5)
    try:
        small_and_large_group_on_v2(h, USERS)
        out = json.loads(ok(h, "connector", "set-api-version", "cloud", "--export", "1",
                            "--import", "1", "--confirm", "--json"))
        assert [(d["name"], d["member_count"]) for d in out["deletions"]] == [("g8", 8)]
        ok(h, "rules", "delete", "Out to AAD - Group Join (copy)")
        ok(h, "rules", "enable", "Out to AAD - Group Join")
        # the scheduler's order: import, sync, then export
        h.steps("corp:fi", "corp:fs", "cloud:fi", "cloud:fs", "cloud:e", "cloud:fi",
                "cloud:fs")
        assert cloud_groups(h) == {"small": 3}
        assert not h.store.exports.count(h.store.connectors.get("cloud").id)
    finally:
        h.store.close()
