"""Honest import counters against a real clouddir on sync API v2 (issue 15, class 7): a
group's member list that arrives over two or more pages is one object, not a short list
followed by additions. Unchanged large groups report no updates, the confirming import confirms
every export (none "unconfirmed" because the first page showed only part of the members), and a
full import of an unchanged tenant reports 0 updates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_cancelled_cloud_deletes import RULES
from tests.harness.clouddir_server import clouddir_factory  # noqa: F401
from tests.harness.workspace import group_entry, ldif, make_workspace, user_entry

from idsync.administration.rule_changes import save_rules
from idsync.rules.files import load_rules_text

#: Members per import page the test server sends: every group here spans pages.
MEMBER_PAGE = 7


def _workspace(tmp_path: Path, tenant: Any, users: int, groups: dict[str, int]) -> Any:
    names = [f"u{i:03}" for i in range(users)]
    ws = make_workspace(tmp_path / "ws", ldif(
        *(user_entry(n) for n in names),
        *(group_entry(g, names[:size]) for g, size in groups.items())), builtin=False)
    ws.store.connectors.add("cloud", "cloud", tenant.connector_settings(), tenant.secrets())
    save_rules(ws.store, load_rules_text(RULES))
    return ws


def _run(ws: Any, connector: str, profile: str) -> dict[str, Any]:
    result = ws.run(connector, profile)
    assert result.ok, (connector, profile, result.status, result.message)
    return result.counters


@pytest.mark.parametrize("confirm", ["di", "fi"])
def test_a_confirming_import_confirms_groups_whose_members_span_pages(
        clouddir_factory, tmp_path: Path, confirm: str) -> None:  # noqa: F811
    tenant = clouddir_factory(member_page_size=MEMBER_PAGE)
    ws = _workspace(tmp_path, tenant, 30, {"big": 30, "mid": 12, "small": 3})
    for step in (("source", "fi"), ("cloud", "fi"), ("source", "fs"), ("cloud", "fs")):
        _run(ws, *step)
    exported = _run(ws, "cloud", "e")
    assert exported.get("adds") == 33
    counters = _run(ws, "cloud", confirm)
    assert counters.get("exports-unconfirmed", 0) == 0, counters
    assert counters.get("exports-confirmed") == 33, counters
    assert ws.pending_exports("cloud") == 0


def test_unchanged_tenant_imports_report_no_updates(clouddir_factory, tmp_path: Path  # noqa: F811
                                                    ) -> None:
    tenant = clouddir_factory(member_page_size=MEMBER_PAGE)
    ws = _workspace(tmp_path, tenant, 30, {"big": 30, "mid": 12, "small": 3})
    for step in (("source", "fi"), ("cloud", "fi"), ("source", "fs"), ("cloud", "fs"),
                 ("cloud", "e"), ("cloud", "di"), ("cloud", "ds")):
        _run(ws, *step)
    for profile in ("fi", "di", "fi"):
        counters = _run(ws, "cloud", profile)
        changed = {k: v for k, v in counters.items()
                   if k in ("adds", "updates", "deletes", "renames", "exports-unconfirmed")}
        assert changed == {}, (profile, counters)
    # And the next synchronization finds nothing to do.
    counters = _run(ws, "cloud", "ds")
    assert ws.pending_exports("cloud") == 0, counters
