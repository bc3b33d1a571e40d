"""The overview (/dashboard) in a real browser: after a cycle on a small workspace, each chart
is there, named for screen readers, and its data table holds the numbers the store holds:
objects by state per connector, pending exports by kind, the top export errors by code, and
each run's duration and rate per connector and run profile."""

from __future__ import annotations

from datetime import datetime

from playwright.sync_api import Page, expect
from tests.harness.browser import add_test_admins
from tests.harness.commands import idsync
from tests.harness.workspace import group_entry, ldif, user_entry

from idsync.error_codes import Stage
from idsync.web.chart_scales import format_number

EVIL = "<script>alert(1)</script>"


def table_of(page: Page, chart: str) -> list[list[str]]:
    """Open a chart's data table (keyboard: the summary is a button) and read its rows."""
    figure = page.locator(f"#chart-{chart}")
    expect(figure.locator("svg[role=img]")).to_be_visible()
    summary = figure.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    rows = figure.locator("table tbody tr")
    expect(rows.first).to_be_visible()
    return [[c.strip() for c in row.locator("th, td").all_inner_texts()]
            for row in rows.all()]


def _changed_source(ws) -> None:
    """After the initial cycle: a new user and a changed one, a member that does not exist
    (a placeholder), synchronized (exports staged for the target, not exported); then one
    more change imported only (a pending import)."""
    ws.source_file.write_text(ldif(
        user_entry("ann", mail="ann@contoso.com"), user_entry("bob", sn="Smith"),
        user_entry("cid"), group_entry("staff", ["ann", "bob", "cid", "ghost"])))
    assert ws.run("source", "fi").ok and ws.run("source", "fs").ok
    ws.source_file.write_text(ldif(
        user_entry("ann", mail="ann@contoso.com"), user_entry("bob", sn="Smith"),
        user_entry("cid", sn="Doe"), group_entry("staff", ["ann", "bob", "cid", "ghost"])))
    assert ws.run("source", "fi").ok


def _export_errors(store) -> None:
    """Export errors held by target objects, as a failed export leaves them: two objects with
    one code, one with another."""
    target = store.connectors.get("target")
    ids = store.cs_search.ids_page(target.id, 0, 3)
    with store.transaction():
        store.errors.record(ids[0], target.id, Stage.EXPORT, "dn-attributes-failure", "x", None)
        store.errors.record(ids[1], target.id, Stage.EXPORT, "dn-attributes-failure", "x", None)
        store.errors.record(ids[2], target.id, Stage.EXPORT, "constraint-violation", "x", None)


def test_the_overview_charts_show_the_stores_numbers(small_workspace, serve_factory,
                                                      ui_factory):
    ws = small_workspace
    idsync(ws.path, "scheduler", "set", "--sync-cycle-enabled", "false")
    add_test_admins(ws.store)
    ws.initial_cycle()
    _changed_source(ws)
    _export_errors(ws.store)
    # A connector whose name is markup: shown as text, never run as script.
    ws.store.connectors.add(EVIL, "file", {"path": "source/directory.ldif"})
    ui = ui_factory(serve_factory(ws.path))
    ui.sign_in()
    dialogs: list[str] = []
    ui.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page = ui.visit("/dashboard", "overview")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    for name in ("Connector space objects by state", "Pending exports by kind",
                 "Top export errors by code", "source: run duration",
                 "target: objects per second"):
        expect(page.get_by_role("img", name=name)).to_be_visible()

    assert table_of(page, "objects-by-state") == [
        [EVIL, "0", "0", "0", "0", "0"],
        ["source", "5", "1", "0", "1", "0"],  # ann, bob, cid, staff, the ghost placeholder
        ["target", "4", "0", "3", "0", "3"],
    ]
    assert table_of(page, "pending-exports") == [
        [EVIL, "0", "0", "0", "0", "0"],
        ["source", "0", "0", "0", "0", "0"],
        ["target", "1", "2", "0", "0", "3"],  # cid added; bob's sn and staff's members
    ]
    assert table_of(page, "export-errors") == [
        ["dn-attributes-failure (target)", "2"], ["constraint-violation (target)", "1"]]

    # Each run of the source, with its duration as the run history has it.
    runs = sorted((r for r in ws.store.runs.list() if r.connector == "source"),
                  key=lambda r: (r.profile, r.id))
    expected = [[r.profile, r.started_at[:19].replace("T", " "), format_number(
        (datetime.fromisoformat(r.ended_at) - datetime.fromisoformat(r.started_at))
        .total_seconds())] for r in runs]
    assert [row[0] for row in expected] == ["Full Import"] * 3 + ["Full Synchronization"] * 2
    assert table_of(page, "duration-source") == expected
    rates = table_of(page, "rate-source")
    assert [row[:2] for row in rates] == [row[:2] for row in expected]
    ui.shot("overview, data tables open")

    assert EVIL in page.locator("#chart-objects-by-state").inner_text()
    assert not dialogs

    # Bad input: a clear line, no chart.
    page = ui.visit("/dashboard?runs=lots", "overview, bad runs count")
    expect(page.get_by_role("alert")).to_contain_text(
        "runs per profile must be a whole number from 1 to 200")
    # Fewer runs per profile: the newest only.
    page = ui.visit("/dashboard?runs=1", "overview, one run per profile")
    assert [row[0] for row in table_of(page, "duration-source")] == [
        "Full Import", "Full Synchronization"]


def test_the_overview_reads_in_a_narrow_window(small_workspace, serve_factory, ui_factory):
    ws = small_workspace
    idsync(ws.path, "scheduler", "set", "--sync-cycle-enabled", "false")
    add_test_admins(ws.store)
    ws.initial_cycle()
    ui = ui_factory(serve_factory(ws.path), width=480, height=800)
    ui.sign_in()
    page = ui.visit("/dashboard", "overview, narrow window")
    chart = page.get_by_role("img", name="source: run duration")
    box = chart.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 480
    # No chart is wider than the window: nothing to scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 480
