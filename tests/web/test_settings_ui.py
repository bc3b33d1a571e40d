"""Server settings in a real browser (issue 17 section 7): the scheduler's settings as a form,
staging mode with its confirmation, the export deletion threshold, doctor's checks, the cloud
API version switch whose rollback list shows the large groups before anything changes, and a
read-only administrator refused every change on the server. Each change is seen where an
administrator checks it: ``idsync scheduler show`` and the audit log."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.harness.browser import READ_ONLY_ADMIN, add_test_admins
from tests.harness.clouddir_server import clouddir_factory, clouddir_shared
from tests.harness.commands import idsync
from tests.harness.hybrid import (
    make_hybrid,
    ok,
    small_and_large_group_on_v2,
)
from tests.harness.slapd import slapd, slapd_factory
from tests.scheduler.test_swing_back_writeback import (
    V1_LIMIT,
    v1_server,
    v2_server_with_a_written_back_group,
)
from tests.scheduler.test_swing_migration import cycle

from idsync.administration.preview import pending_changes
from idsync.audit_log import Via, acting_as
from idsync.errors import ConfigurationError
from idsync.largegroups.api_versions import api_versions_of
from idsync.scheduler.changes import SchedulerChange, change_scheduler
from idsync.scheduler.settings import load_settings
from idsync.store import Store

__all__ = ["clouddir_factory", "clouddir_shared", "slapd", "slapd_factory"]


def _quiet(path: Path) -> None:
    """No scheduled cycle: these tests look at the settings only."""
    idsync(path, "scheduler", "set", "--sync-cycle-enabled", "false")


def _show(path: Path) -> dict[str, Any]:
    return json.loads(idsync(path, "scheduler", "show", "--json").stdout)


def _settled(path: Path) -> dict[str, Any]:
    """``scheduler show`` without the next start, which is "now" while no cycle has run."""
    shown = _show(path)
    shown.pop("next_sync_cycle_start_time_in_utc")
    return shown


def _audit(path: Path) -> list[dict[str, Any]]:
    return json.loads(idsync(path, "audit", "list", "--json").stdout)


def test_scheduler_interval_changed_and_audited_bad_interval_refused(
        small_workspace, serve_factory, ui_factory):  # type: ignore[no-untyped-def]
    _quiet(small_workspace.path)
    add_test_admins(small_workspace.store)
    ui = ui_factory(serve_factory(small_workspace.path))
    ui.sign_in()
    page = ui.visit("/settings", "settings overview")
    expect(page.locator("#scheduler-fields")).to_contain_text("currently_effective_sync_cycle_interval")

    page.get_by_label("Customized sync cycle interval").fill("45m")
    page.get_by_role("button", name="Save scheduler settings").click()
    expect(page.locator(".flash")).to_contain_text("Scheduler: interval 45m")
    ui.shot("interval saved")
    assert _show(small_workspace.path)["customized_sync_cycle_interval"] == "00:45:00"
    entry = next(e for e in _audit(small_workspace.path) if e["action"] == "scheduler.set")
    assert (entry["admin"], entry["via"]) == ("ann", "ui")
    assert entry["old"] == {"customized_interval": None}
    assert entry["new"] == {"customized_interval": 2700}
    page = ui.visit("/audit", "audit log with the interval change")
    expect(page.locator("body")).to_contain_text("scheduler.set")

    # A bad interval: the CLI's own one-line message, and nothing changed.
    entries = len(_audit(small_workspace.path))
    page = ui.visit("/settings")
    page.get_by_label("Customized sync cycle interval").fill("every hour")
    page.get_by_role("button", name="Save scheduler settings").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("interval 'every hour': use d.HH:mm:ss")
    ui.shot("bad interval refused")
    cli = idsync(small_workspace.path, "scheduler", "set", "--interval", "every hour",
                 check=False)
    assert cli.returncode != 0
    assert "interval 'every hour': use d.HH:mm:ss, HH:mm:ss, or a number with s, m, h or d" \
        in cli.stdout + cli.stderr
    assert alert.inner_text().strip() in (cli.stdout + cli.stderr).replace("\n", " ")
    assert _show(small_workspace.path)["customized_sync_cycle_interval"] == "00:45:00"
    assert len(_audit(small_workspace.path)) == entries


def test_staging_mode_threshold_and_doctor(small_workspace, serve_factory, ui_factory):  # type: ignore[no-untyped-def]
    _quiet(small_workspace.path)
    add_test_admins(small_workspace.store)
    ui = ui_factory(serve_factory(small_workspace.path))
    ui.sign_in()

    # Staging mode: the confirmation says what it does before anything changes.
    page = ui.visit("/settings")
    page.get_by_role("link", name="Turn staging mode on…").click()
    expect(page.locator("#staging-effect")).to_contain_text("exports nothing")
    ui.shot("staging mode confirmation")
    assert _show(small_workspace.path)["staging_mode_enabled"] is False
    page.get_by_role("button", name="Yes, turn staging mode on").click()
    expect(page.locator("#staging-state")).to_contain_text("Staging mode is on")
    ui.shot("staging mode on")
    assert _show(small_workspace.path)["staging_mode_enabled"] is True
    staging = next(e for e in _audit(small_workspace.path) if e["action"] == "staging-mode")
    assert (staging["admin"], staging["via"]) == ("ann", "ui")
    assert (staging["old"], staging["new"]) == ({"staging_mode": False}, {"staging_mode": True})

    # The export deletion threshold.
    page = ui.visit("/settings/limits", "deletion threshold and limits")
    page.get_by_label("Deletes that stop an export").fill("120")
    page.get_by_role("button", name="Save threshold").click()
    expect(page.locator("#threshold-state")).to_contain_text("120")
    ui.shot("threshold changed")
    shown = json.loads(idsync(small_workspace.path, "export-deletion-threshold", "show",
                              "--json").stdout)
    assert shown == {"enabled": True, "count": 120}
    threshold = next(e for e in _audit(small_workspace.path)
                     if e["action"] == "export-deletion-threshold")
    assert (threshold["admin"], threshold["via"], threshold["old"], threshold["new"]) == \
        ("ann", "ui", {"count": 500}, {"count": 120})

    # A connector's deletion limit and the default's percentage.
    page.get_by_label("target: object type (empty: each type)").fill("user")
    page.get_by_label("Deletes", exact=True).last.fill("3")
    page.get_by_role("button", name="Set the deletion limit of target", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Deletion limit of target user: 3 deletes")
    expect(page.locator("#deletion-limits")).to_contain_text("3 deletes")
    page.get_by_label("Default: percent of a type's objects").fill("30")
    page.get_by_role("button", name="Save the default").click()
    expect(page.locator(".flash")).to_contain_text("Default deletion limit: 30%")
    ui.shot("deletion limits changed")
    limits = json.loads(idsync(small_workspace.path, "deletion-limit", "show", "--json").stdout)
    assert limits["default"]["percent"] == 30
    assert [r["limit"]["count"] for r in limits["limits"]
            if r["connector"] == "target" and r["object_type"] == "user"] == [3]
    assert {(e["admin"], e["via"], e["target"]) for e in _audit(small_workspace.path)
            if e["action"] == "deletion-limit"} == {("ann", "ui", "target user"),
                                                    ("ann", "ui", "default")}

    # Doctor's checks, run on request.
    page = ui.visit("/settings/doctor", "doctor before running")
    expect(page.locator("#doctor-checks")).to_have_count(0)
    page.get_by_role("button", name="Run the checks").click()
    expect(page.locator("#doctor-checks")).to_contain_text("database")
    expect(page.locator("#doctor-summary")).to_contain_text("OK")
    ui.shot("doctor checks")

    # The export preview of the file connector, and its CSV.
    page = ui.visit("/settings/exports", "export preview connectors")
    expect(page.locator("#export-connectors")).to_contain_text("Pending exports")


def test_export_preview_diff_paged_and_csv(small_workspace, serve_factory, ui_factory):  # type: ignore[no-untyped-def]
    """Staging mode holds a change and a delete (tests/administration/test_preview.py's
    recipe); the export preview shows old -> new per attribute, pages by connector space id,
    and downloads as CSV."""
    ws = small_workspace
    _quiet(ws.path)
    ws.stage_held_changes()
    changes = list(pending_changes(ws.store, "target"))
    assert len(changes) >= 2
    # Keyset pages: after the first object's id, the rest, read a page at a time.
    rest = list(pending_changes(ws.store, "target", after=changes[0].cs_id, page=1))
    assert [c.cs_id for c in rest] == [c.cs_id for c in changes[1:]]

    add_test_admins(ws.store)
    ui = ui_factory(serve_factory(ws.path))
    ui.sign_in()
    page = ui.visit("/settings/exports", "export preview: connectors")
    page.get_by_role("link", name="Preview target").click()
    ui.shot("export preview of target")
    ann = page.locator(".export-object", has_text="uid=ann")
    expect(ann).to_contain_text("update")
    mail = ann.locator("tr", has_text="mail")
    expect(mail.locator(".removed")).to_have_text("ann@contoso.com")
    expect(mail.locator(".added")).to_have_text("ann.new@contoso.com")
    expect(page.locator(".export-object h2", has_text="uid=bob")).to_contain_text("delete")
    # The group's member removal, by DN.
    staff = page.locator(".export-object", has_text="cn=staff")
    expect(staff.locator("tr", has_text="member")).to_contain_text("remove")
    expect(staff.locator("tr", has_text="member").locator(".removed")).to_contain_text("uid=bob")
    answer = page.request.get(ui.url + "/settings/exports/target/csv")
    assert answer.status == 200
    assert "attachment" in answer.headers["content-disposition"]
    rows = answer.text().splitlines()
    assert rows[0] == ("dn,object_type,operation,new_dn,attribute,attribute_operation,"
                       "old_value,new_value")
    assert any("ann@contoso.com,ann.new@contoso.com" in r for r in rows)


def test_read_only_admin_sees_settings_and_is_refused_every_change(
        small_workspace, serve_factory, ui_factory):  # type: ignore[no-untyped-def]
    _quiet(small_workspace.path)
    add_test_admins(small_workspace.store)
    served = serve_factory(small_workspace.path)
    ui = ui_factory(served)
    ui.sign_in(READ_ONLY_ADMIN)
    page = ui.visit("/settings", "settings as read-only")
    expect(page.get_by_role("button", name="Save scheduler settings")).to_be_disabled()
    page = ui.visit("/settings/writeback", "writeback as read-only")
    expect(page.locator("#writeback-config")).to_contain_text("disabled")
    expect(page.get_by_role("button", name="Enable writeback")).to_be_disabled()
    page = ui.visit("/settings/api-versions", "API versions as read-only")
    expect(page.locator("main")).to_contain_text("No cloud connector")
    page = ui.visit("/settings/exports/target", "export preview as read-only")
    expect(page.locator("main")).to_contain_text("pending export")
    page = ui.visit("/settings/limits", "limits as read-only")
    expect(page.get_by_role("button", name="Save threshold")).to_be_disabled()
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    before_show = _settled(small_workspace.path)
    before_audit = len(_audit(small_workspace.path))
    for path, form in (("/settings/scheduler", {"interval": "2h"}),
                       ("/settings/staging-mode", {"staging_mode": "true", "confirm": "yes"}),
                       ("/settings/deletion-threshold", {"count": "7", "enabled": "true"}),
                       ("/settings/limits/member-removal/target", {"percent": "10"}),
                       ("/settings/writeback/disable", {"confirm": "yes"}),
                       ("/settings/writeback/enable", {"onprem": "source", "cloud": "target",
                                                       "ou": "ou=x"}),
                       ("/settings/api-versions/target", {"export": "1", "import": "1",
                                                          "confirm": "yes"})):
        answer = page.request.post(served.url + path, form={"csrf": token or "", **form})
        assert answer.status == 403, (path, answer.status)
        assert "read-only" in answer.text()
    assert _settled(small_workspace.path) == before_show
    assert len(_audit(small_workspace.path)) == before_audit
    shown = json.loads(idsync(small_workspace.path, "export-deletion-threshold", "show",
                              "--json").stdout)
    assert shown["count"] == 500

    # A narrow window: the settings still read (tables wrap, forms stack).
    narrow = ui_factory(served, width=420, height=800)
    narrow.sign_in(READ_ONLY_ADMIN)
    narrow.visit("/settings/limits", "limits in a narrow window")
    page = narrow.visit("/settings", "settings in a narrow window")
    assert page.evaluate("document.documentElement.scrollWidth") <= 440


def test_scheduler_change_is_audited_as_the_acting_admin_and_refused_whole(small_workspace):  # type: ignore[no-untyped-def]
    """Without a browser: the operation both the CLI and the UI call records the change as
    whoever acts (the UI's admin here), and a bad field refuses the whole change."""
    store = small_workspace.store
    entries = len(store.audit.list(limit=100))
    with acting_as("ann", Via.UI):
        done = change_scheduler(store, SchedulerChange(interval="1.00:00:00",
                                                       maintenance_enabled=False))
    assert done.changes == ["interval 1.00:00:00", "maintenance enabled False"]
    entry = store.audit.list(limit=1)[0]
    assert (entry.admin, entry.via, entry.action) == ("ann", "ui", "scheduler.set")
    assert entry.old == {"customized_interval": None, "maintenance_enabled": True}
    assert entry.new == {"customized_interval": 86400, "maintenance_enabled": False}
    with acting_as("ann", Via.UI), pytest.raises(ConfigurationError, match="interval 'soon'"):
        change_scheduler(store, SchedulerChange(suspended=True, interval="soon"))
    assert load_settings(store).suspended is False
    assert len(store.audit.list(limit=100)) == entries + 1


USERS = [f"u{i:02d}" for i in range(10)]


@pytest.mark.slapd
def test_rollback_to_api_v1_lists_the_large_groups_before_anything_changes(
        slapd, clouddir_factory, tmp_path: Path, serve_factory, ui_factory):  # type: ignore[no-untyped-def]
    # Scaled down as in tests/largegroups: API v1 limit 5 stands for 50,000 members.
    tenant = clouddir_factory(v1_member_limit=5, v2_member_limit=25)
    h = make_hybrid(tmp_path, slapd, tenant, USERS, group_limit=5)
    try:
        small_and_large_group_on_v2(h, USERS)
        ok(h, "scheduler", "set", "--sync-cycle-enabled", "false")
        add_test_admins(h.store)
        cloud_id = h.store.connectors.get("cloud").id
        assert h.store.exports.count(cloud_id) == 0

        ui = ui_factory(serve_factory(tmp_path))
        ui.sign_in()
        page = ui.visit("/settings/api-versions", "cloud API versions")
        expect(page.locator("#versions-cloud")).to_contain_text("Export API v2, import API v2")
        page.get_by_label("Export API version").select_option("1")
        page.get_by_label("Import API version").select_option("1")
        page.get_by_role("button", name="Preview the switch").click()
        groups = page.locator("#rollback-groups")
        expect(groups).to_contain_text("g8")
        expect(groups).to_contain_text("deleted in the cloud")
        expect(groups).not_to_contain_text("small")
        ui.shot("rollback list before the switch")
        # Listed, and nothing changed: still v2, no delete staged, no audit entry.
        assert api_versions_of(h.store, "cloud") == {"export_api_version": 2,
                                                     "import_api_version": 2}
        assert h.store.exports.count(cloud_id) == 0
        assert not [e for e in _audit(tmp_path) if e["action"] == "api-version"]

        page.get_by_role("button", name="Switch and stage these deletes").click()
        expect(page.locator(".flash")).to_contain_text("1 cloud delete(s) staged")
        ui.shot("switched to v1")
        assert api_versions_of(h.store, "cloud") == {"export_api_version": 1,
                                                     "import_api_version": 1}
        entry = next(e for e in _audit(tmp_path) if e["action"] == "api-version")
        assert (entry["admin"], entry["via"], entry["target"]) == ("ann", "ui", "cloud")
        assert entry["old"] == {"export_api_version": 2, "import_api_version": 2}
        assert entry["new"] == {"export_api_version": 1, "import_api_version": 1}

        # The staged delete in the export preview, and in its CSV.
        page = ui.visit("/settings/exports/cloud", "export preview of the rollback")
        expect(page.locator(".export-object").first).to_contain_text("delete")
        expect(page.locator("main")).to_contain_text("g8")
        answer = page.request.get(ui.url + "/settings/exports/cloud/csv")
        assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
        rows = answer.text().splitlines()
        assert rows[0].startswith("dn,object_type,operation")
        assert any(re.search(r",delete,", r) for r in rows[1:])
        page = ui.visit("/audit", "audit log with the API version switch")
        expect(page.locator("body")).to_contain_text("api-version")
    finally:
        h.store.close()


@pytest.mark.slapd
def test_leaving_staging_mode_lists_the_large_groups_a_swing_back_deletes(
        tmp_path: Path, slapd, clouddir_factory, serve_factory, ui_factory):  # type: ignore[no-untyped-def]
    """The CLI's ``scheduler set --staging-mode false --confirm`` in the UI (the scenario of
    tests/scheduler/test_swing_back_writeback.py): a v2 server wrote a large Microsoft 365
    group back on-premises; the v1 server built from its configuration lists the copy before
    leaving staging mode, and stages its on-premises delete only when confirmed."""
    tenant = clouddir_factory(v1_member_limit=V1_LIMIT)
    b, written_back, config = v2_server_with_a_written_back_group(tmp_path, slapd, tenant)
    a = v1_server(tmp_path / "a", config, slapd, tenant)
    for _ in range(2):
        cycle(a)
    idsync(b, "scheduler", "set", "--staging-mode", "true")
    _quiet(a)
    store = Store.open(a)
    try:
        add_test_admins(store)
    finally:
        store.close()

    ui = ui_factory(serve_factory(a))
    ui.sign_in()
    page = ui.visit("/settings/writeback", "writeback on the v1 server")
    expect(page.locator("#writeback-config")).to_contain_text("enabled")
    page = ui.visit("/settings")
    page.get_by_role("link", name="Turn staging mode off…").click()
    groups = page.locator("#swing-groups")
    expect(groups).to_contain_text("Everyone")
    expect(groups).to_contain_text("written back on-premises: deleted")
    ui.shot("leaving staging mode: the large groups first")
    assert _show(a)["staging_mode_enabled"] is True, "nothing changes before the confirmation"
    assert not json.loads(idsync(a, "export", "preview", "corp", "--json").stdout)["objects"]

    page.get_by_role("button", name="Leave staging mode and delete these 1 group(s)").click()
    expect(page.locator(".flash")).to_contain_text("1 large group delete(s) staged")
    ui.shot("staging mode off, the delete staged")
    assert _show(a)["staging_mode_enabled"] is False
    entry = next(e for e in _audit(a) if e["action"] == "staging-mode")
    assert (entry["admin"], entry["via"], entry["new"]) == ("ann", "ui", {"staging_mode": False})
    page = ui.visit("/settings/exports/corp", "export preview of the swing back")
    expect(page.locator(".export-object h2").first).to_contain_text("delete")
    group_id = written_back.split(",")[0].split("_", 1)[1]
    expect(page.locator(".export-object h2").first).to_contain_text(group_id)
