"""Operations in a real browser: start a cycle and watch it to the end, open a run and follow
a count to its objects, stop a cycle, run one profile on one connector, the read-only admin
refused on the server, and a run's errors as CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from tests.harness.browser import READ_ONLY_ADMIN, add_test_admins
from tests.harness.commands import idsync, people
from tests.harness.workspace import Workspace, ldif, make_workspace

from idsync.scheduler.service import REQUEST_KEY, RUN_REQUEST_KEY
from idsync.store.runs import RunFilter

#: Enough people for a cycle that runs several seconds (about 2 s per 3,000 on a quiet
#: machine): long enough to see the cycle box and its progress, to press Stop in it.
BUSY_PEOPLE = 15000
#: A cycle of BUSY_PEOPLE on a loaded machine (six engineers share two cores).
CYCLE_TIMEOUT_MS = 240_000


@pytest.fixture
def busy_workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = make_workspace(tmp_path / "busy", ldif(*people(BUSY_PEOPLE)))
    yield ws
    ws.store.close()


def _quiet(ws: Workspace) -> None:
    idsync(ws.path, "scheduler", "set", "--sync-cycle-enabled", "false")


def _served(ws: Workspace, serve_factory, ui_factory, who=None):
    _quiet(ws)
    add_test_admins(ws.store)
    served = serve_factory(ws.path)
    ui = ui_factory(served)
    if who:
        ui.sign_in(who)
    else:
        ui.sign_in()
    return served, ui


def test_start_a_cycle_watch_it_and_follow_a_count_to_its_objects(
        busy_workspace, serve_factory, ui_factory):
    ui = _served(busy_workspace, serve_factory, ui_factory)[1]
    page = ui.visit("/", "home is operations")
    assert page.url.endswith("/operations")
    box = page.locator("#cycle-box")
    expect(box).to_contain_text("No cycle running")

    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Start initial cycle").click()
    expect(page.locator(".flash")).to_contain_text("Initial sync cycle requested")
    # The box shows the cycle by itself (polled), with a run's connector, profile and figures.
    expect(box).to_contain_text("Initial sync cycle", timeout=CYCLE_TIMEOUT_MS)
    # The synchronization knows its total: done "of" total, a rate and the time left.
    progress = box.locator(".run-progress").filter(has_text="Full Synchronization").first
    expect(progress.locator(".rp-done")).to_contain_text(re.compile(r"[\d,]+ of [\d,]+"),
                                                         timeout=CYCLE_TIMEOUT_MS)
    expect(progress.locator(".rp-rate")).to_contain_text("objects/s")
    ui.shot("cycle running")
    # The history shows the finished steps and the run in progress while the cycle goes on.
    expect(page.locator("#runs")).to_contain_text("in-progress")
    expect(box).to_contain_text("No cycle running", timeout=CYCLE_TIMEOUT_MS)
    expect(box).to_contain_text("success")
    # The history below reloaded itself when the cycle ended: six runs, all successes.
    rows = page.locator("#runs tbody tr")
    expect(rows).to_have_count(6)
    expect(page.locator("#runs .run-status")).to_have_text(["success"] * 6)
    ui.shot("cycle ended")

    # A run's page: each count links to the objects it counts.
    page.get_by_role("row").filter(has_text="Full Synchronization").filter(
        has_text="source").get_by_role("link").first.click()
    expect(page.locator("h1")).to_contain_text("Full Synchronization on source")
    ui.shot("run page")
    page.get_by_role("link", name=f"{BUSY_PEOPLE} projections: the objects").click()
    expect(page.locator("h1")).to_contain_text(f"projections: {BUSY_PEOPLE:,} in run")
    links = page.locator("#run-objects tbody a")
    expect(links).to_have_count(50)  # paged
    assert re.fullmatch(r"/cs/\d+", links.first.get_attribute("href") or "")
    expect(links.first).to_have_text(re.compile(r"uid=user00000,"))
    ui.shot("objects of a count")
    page.get_by_role("link", name="More objects").click()
    expect(page.locator("#run-objects tbody a").first).to_have_text(re.compile(r"uid=user00050,"))

    page = ui.visit("/audit", "audit after a cycle start")
    row = page.locator("#audit-entries tbody tr").first
    expect(row).to_contain_text("cycle.start")
    expect(row.locator("td").nth(1)).to_have_text("ann")


def test_stop_a_running_cycle(busy_workspace, serve_factory, ui_factory):
    ui = _served(busy_workspace, serve_factory, ui_factory)[1]
    page = ui.visit("/operations")
    page.get_by_role("button", name="Start delta cycle").click()
    box = page.locator("#cycle-box")
    expect(box).to_contain_text("sync cycle", timeout=CYCLE_TIMEOUT_MS)
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Stop cycle").click()
    expect(page.locator(".flash")).to_contain_text("Stop requested")
    expect(box).to_contain_text("No cycle running", timeout=CYCLE_TIMEOUT_MS)
    expect(box.locator(".cycle-line")).to_contain_text("stopped")
    ui.shot("cycle stopped")
    # Some runs never started: fewer than the six of a whole cycle.
    assert len(busy_workspace.store.runs.page(RunFilter())) < 6
    page = ui.visit("/audit")
    expect(page.locator("#audit-entries tbody tr").first).to_contain_text("cycle.stop")


def test_run_one_profile_on_one_connector(small_workspace, serve_factory, ui_factory):
    ui = _served(small_workspace, serve_factory, ui_factory)[1]
    page = ui.visit("/operations")
    form = page.locator("#run-one")
    form.get_by_label("Connector").select_option("source")
    form.get_by_label("Run profile").select_option("Full Import")
    form.get_by_role("button", name="Run profile").click()
    expect(page.locator(".flash")).to_contain_text("Full Import on source requested")
    row = page.locator("#runs tbody tr").first

    def ran() -> bool:
        page.reload()
        return "success" in (row.text_content() or "")

    for _ in range(60):
        if ran():
            break
        page.wait_for_timeout(500)
    expect(row).to_contain_text("Full Import")
    expect(row).to_contain_text("source")
    expect(row).to_contain_text("success")
    ui.shot("one profile run")
    runs = small_workspace.store.runs.page(RunFilter())
    assert [(r.connector, r.profile) for r in runs] == [("source", "Full Import")]

    # Filters: by connector and outcome.
    page = ui.visit("/operations?connector=target", "history filtered")
    expect(page.locator("#runs tbody")).to_contain_text("No run with these filters")
    page = ui.visit("/operations?status=nonsense", "bad filter")
    expect(page.get_by_role("alert")).to_contain_text("unknown run status 'nonsense'")
    page = ui.visit("/audit")
    row = page.locator("#audit-entries tbody tr").first
    expect(row).to_contain_text("run.start")
    expect(row).to_contain_text("Full Import")


def test_read_only_admin_sees_the_buttons_disabled_and_is_refused(
        small_workspace, serve_factory, ui_factory):
    served, ui = _served(small_workspace, serve_factory, ui_factory, READ_ONLY_ADMIN)
    page = ui.visit("/operations", "operations as read-only")
    for name in ("Start delta cycle", "Start initial cycle", "Stop cycle", "Run profile"):
        expect(page.get_by_role("button", name=name)).to_be_disabled()
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    for path, form in (("/operations/cycle/start", {"policy": "delta"}),
                       ("/operations/cycle/stop", {}),
                       ("/operations/run", {"connector": "source", "profile": "Full Import"})):
        answer = page.request.post(served.url + path, form={"csrf": token, **form})
        assert answer.status == 403, path
        assert "read-only administrator" in answer.text()
    store = small_workspace.store
    assert store.settings.get(REQUEST_KEY) is None
    assert store.settings.get(RUN_REQUEST_KEY) is None
    assert store.runs.page(RunFilter()) == []

    # A narrow window: the same page, the controls wrapped, nothing cut off.
    narrow = ui_factory(served, width=420, height=800)
    narrow.sign_in(READ_ONLY_ADMIN)
    page = narrow.visit("/operations", "operations in a narrow window")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 420, width


def test_a_runs_errors_paged_and_as_csv(small_workspace, serve_factory, ui_factory):
    store = small_workspace.store
    target = store.connectors.get("target")
    with store.transaction():
        run_id = store.runs.start(target.id, "Export")
        for i in range(60):
            store.runs.add_error(run_id, None, f"cn=broken{i:02d},dc=fabrikam,dc=com",
                                 "export", "constraint-violation",
                                 f'value "{i}", refused, by the directory')
        store.runs.finish(run_id, "completed-export-errors", {"export-errors": 60}, None)
    ui = _served(small_workspace, serve_factory, ui_factory)[1]
    page = ui.visit(f"/runs/{run_id}", "run with errors")
    expect(page.locator("#run-errors tbody tr")).to_have_count(50)
    page.get_by_role("link", name="60 export-errors: the objects").click()
    expect(page.locator("#run-errors tbody tr").first).to_contain_text("cn=broken00")
    page.get_by_role("link", name="More errors").click()
    expect(page.locator("#run-errors tbody tr")).to_have_count(10)
    expect(page.locator("#run-errors tbody tr").first).to_contain_text("cn=broken50")
    ui.shot("errors second page")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download all errors (CSV)").click()
    assert download.value.suggested_filename == f"run-{run_id}-errors.csv"
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0] == ["run", "connector", "cs_id", "dn", "stage", "code", "detail",
                       "first_seen", "retries"]
    assert len(rows) == 61
    assert rows[1][:6] == [str(run_id), "target", "", "cn=broken00,dc=fabrikam,dc=com",
                           "export", "constraint-violation"]
    assert rows[1][6] == 'value "0", refused, by the directory'
    answer = page.request.get(ui.url + f"/runs/{run_id}/errors.csv")
    assert answer.headers["content-type"].startswith("text/csv")
    page = ui.visit("/runs/999999", "no such run")
    expect(page.get_by_role("alert")).to_contain_text("no run 999999")
