"""Preview one object, then commit it, in a real browser: a user added to the source directory
after the last cycle is previewed (its step trace: new in the connector space, projected, the
add it would stage in the target), nothing changes until Commit, and Commit exports that user
alone (in the target directory, in the run history and in the audit log), while another
object's pending export stays pending. A read-only administrator previews but cannot commit."""

from __future__ import annotations

from playwright.sync_api import expect
from tests.harness.browser import READ_ONLY_ADMIN, add_test_admins
from tests.harness.commands import idsync
from tests.harness.workspace import SOURCE_BASE, target_dn, user_entry

from idsync.model import ExportState

CAROL = f"uid=carol,ou=Users,{SOURCE_BASE}"


def test_preview_one_object_then_commit_it_and_see_it_exported(small_workspace, serve_factory,
                                                              ui_factory):
    ws = small_workspace
    ws.initial_cycle()
    idsync(ws.path, "scheduler", "set", "--sync-cycle-enabled", "false")
    add_test_admins(ws.store)
    # Another object's change is staged and waits for the next export.
    ws.change_source(f"dn: uid=bob,ou=Users,{SOURCE_BASE}\nchangetype: modify\n"
                     "replace: sn\nsn: Brown\n-\n")
    assert ws.run("source", "di").ok and ws.run("source", "ds").ok
    target = ws.store.connectors.get("target").id
    assert ws.store.exports.count(target, state=ExportState.PENDING) == 1
    # A user added to the source directory after the last cycle.
    ws.change_source(user_entry("carol", cn="Carol Smith", given="Carol").replace(
        "\nobjectClass:", "\nchangetype: add\nobjectClass:", 1))
    runs_before = len(ws.store.runs.list(limit=0))

    served = serve_factory(ws.path)
    ui = ui_factory(served)
    ui.sign_in()
    page = ui.visit("/preview", "the preview form")
    page.get_by_label("Connector").select_option("source")
    page.get_by_label("Distinguished name (DN)").fill(CAROL)
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state("networkidle")
    trace = page.locator("#trace")
    expect(trace).to_contain_text("new in the connector space")
    expect(trace).to_contain_text("projected as metaverse object")
    expect(trace).to_contain_text("add uid=carol,ou=People,dc=fabrikam,dc=com (staged now)")
    expect(page.get_by_role("row", name="givenName").first).to_contain_text("Carol")
    expect(trace).to_contain_text("preview: nothing was changed")
    ui.shot("the trace of a new user")
    # The preview changed nothing: no run, not in the connector space, not in the target.
    assert len(ws.store.runs.list(limit=0)) == runs_before
    assert ws.store.cs.find_dn(ws.store.connectors.get("source").id, CAROL) is None
    assert target_dn("carol") not in ws.target_entries()

    page.get_by_role("button", name="Commit this object").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Committed: " + CAROL)).to_be_visible()
    expect(page.locator("#commit-runs")).to_contain_text("Export")
    expect(page.locator("#trace")).to_contain_text(
        "uid=carol,ou=People,dc=fabrikam,dc=com: exported")
    ui.shot("committed and exported")

    entries = ws.target_entries()
    assert entries[target_dn("carol")]["givenname"] == ["Carol"]
    assert entries[target_dn("bob")]["sn"] == ["Jones"]  # bob's change was not exported
    assert ws.store.exports.count(target, state=ExportState.PENDING) == 1
    runs = ws.store.runs.list(limit=3)
    assert [(r.connector, r.profile, r.status) for r in reversed(runs)] == [
        ("source", "Delta Import", "success"), ("source", "Delta Synchronization", "success"),
        ("target", "Export", "success")]
    page = ui.visit("/audit", "the commit in the audit log")
    expect(page.locator("main")).to_contain_text("object.commit")
    expect(page.locator("main")).to_contain_text(CAROL)

    reader = ui_factory(served, width=420)  # a narrow window
    reader.sign_in(READ_ONLY_ADMIN)
    page = reader.visit(f"/preview?connector=source&dn={CAROL}", "read-only preview")
    expect(page.locator("#trace")).to_contain_text("stays joined")
    expect(page.get_by_role("button", name="Commit this object")).to_have_count(0)
    expect(page.locator("#trace")).to_contain_text("can preview but not commit")
    page = reader.visit("/preview?connector=nope&dn=uid%3Dx", "an unknown connector")
    expect(page.locator("main")).to_contain_text("no connector named 'nope'")
