"""``idsync export preview``: every pending object and attribute change, old and new values."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.harness.commands import idsync
from tests.harness.workspace import Workspace, group_entry, ldif, make_workspace, user_entry

from idsync.administration.preview import pending_changes


def test_preview_lists_adds_updates_and_deletes_with_old_and_new_values(
        small_workspace: Workspace, tmp_path: Path):
    ws = small_workspace
    ws.stage_held_changes()
    assert "dn: uid=bob,ou=People" in ws.target_file.read_text()

    data = json.loads(idsync(ws.path, "export", "preview", "target", "--json").stdout)
    by_dn = {o["dn"].lower(): o for o in data["objects"]}
    ann = by_dn["uid=ann,ou=people,dc=fabrikam,dc=com"]
    assert ann["operation"] == "update"
    mail = next(c for c in ann["changes"] if c["attribute"] == "mail")
    assert mail == {"attribute": "mail", "operation": "replace",
                    "old": ["ann@contoso.com"], "new": ["ann.new@contoso.com"]}
    bob = by_dn["uid=bob,ou=people,dc=fabrikam,dc=com"]
    assert bob["operation"] == "delete"
    assert {"attribute": "sn", "operation": "delete", "old": ["Jones"], "new": []} \
        in bob["changes"]
    staff = by_dn["cn=staff,ou=groups,dc=fabrikam,dc=com"]
    member = next(c for c in staff["changes"] if c["attribute"] == "member")
    assert member["operation"] == "remove"
    assert [v.lower() for v in member["old"]] == ["uid=bob,ou=people,dc=fabrikam,dc=com"]
    assert data["summary"] == {"update": 2, "delete": 1}

    out = tmp_path / "preview.csv"
    assert "3 pending object change(s)" in idsync(
        ws.path, "export", "preview", "target", "--csv", str(out)).stdout
    rows = list(csv.DictReader(out.open()))
    assert {"dn": "uid=ann,ou=People,dc=fabrikam,dc=com", "object_type": "user",
            "operation": "update", "new_dn": "", "attribute": "mail",
            "attribute_operation": "replace", "old_value": "ann@contoso.com",
            "new_value": "ann.new@contoso.com"} in rows
    assert {r["operation"] for r in rows} == {"update", "delete"}

    text = idsync(ws.path, "export", "preview", "target").stdout
    assert "pending exports: delete 1, update 2" in text


def test_a_page_of_the_preview_lists_a_large_member_change_by_its_first_values(tmp_path: Path):
    """The web UI's export preview pages (``values_shown``): a group added with 60 members
    lists its first 20 members by id with the count, never the whole list; the CSV and the
    command line still hold every member."""
    uids = [f"u{i:02d}" for i in range(60)]
    ws = make_workspace(tmp_path / "ws", ldif(*(user_entry(u) for u in uids),
                                              group_entry("crowd", uids)))
    try:
        for step in ("source:fi", "source:fs", "target:fi", "target:fs"):
            connector, profile = step.split(":")
            ws.run(connector, profile)
        group = "cn=crowd,ou=groups,dc=fabrikam,dc=com"
        whole = {o.dn.lower(): o for o in pending_changes(ws.store, "target")}[group]
        paged = {o.dn.lower(): o for o in pending_changes(ws.store, "target",
                                                          values_shown=20)}[group]
        [all_members] = [c for c in whole.changes if c.attribute == "member"]
        [first] = [c for c in paged.changes if c.attribute == "member"]
        assert len(all_members.new) == 60 and all_members.total is None
        assert first.operation == "add" and first.total == 60 and len(first.new) == 20
        assert set(first.new) < set(all_members.new)
        assert first.to_dict()["total"] == 60 and "total" not in all_members.to_dict()
        # the other attributes are the same either way
        assert [c for c in paged.changes if c.attribute != "member"] == \
            [c for c in whole.changes if c.attribute != "member"]
    finally:
        ws.store.close()
