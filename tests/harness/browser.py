"""The web UI in a real browser: Debian's ``chromium`` driven headless by Playwright (installed
by ``scripts/setup.sh --all``; Playwright downloads no browser here), and ``idsync serve`` as a
real process on a loopback port.

Fixtures: ``browser`` (one Chromium per test worker), ``ui`` (a served workspace with two
administrators, ``ann`` who can change things and ``rita`` who is read-only, and a page to
drive). Every page a test visits through ``UiDriver.visit`` (or ``shot``) is saved as a PNG
under ``test-artifacts/screenshots/`` (the run prints the folder).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from tests.harness.commands import Served

from idsync.administration.admin_accounts import AdminRole, add_admin
from idsync.store import Store

CHROMIUM = os.environ.get("IDSYNC_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

FULL_ADMIN = ("ann", "ann's long password 1")
READ_ONLY_ADMIN = ("rita", "rita's long password 2")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `bash scripts/setup.sh --all` (it installs "
                    "Debian's chromium package)", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


def add_test_admins(store: Store) -> None:
    add_admin(store, *FULL_ADMIN)
    add_admin(store, *READ_ONLY_ADMIN, role=AdminRole.READ_ONLY)


def _slug(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]+", "-", text).strip("-")[:80] or "page"


@dataclass
class UiDriver:
    """A browser page on a served workspace, and the screenshots it takes."""

    served: Served
    page: Page
    test_name: str
    shots: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.served.url

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{_slug(self.test_name)}--{len(self.shots):02d}-{_slug(name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path

    def visit(self, path: str, name: str | None = None) -> Page:
        self.page.goto(self.url + path)
        self.page.wait_for_load_state("networkidle")
        self.shot(name or path)
        return self.page

    def sign_in(self, who: tuple[str, str] = FULL_ADMIN) -> Page:
        self.page.goto(self.url + "/signin")
        self.page.get_by_label("Name").fill(who[0])
        self.page.get_by_label("Password").fill(who[1])
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state("networkidle")
        assert "/signin" not in self.page.url, self.page.content()
        return self.page

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        self.page.wait_for_url("**/signin**")

    def post_without_csrf(self, path: str, data: dict[str, Any] | None = None) -> Any:
        """A change request from this signed-in browser that leaves out the CSRF token: what a
        forged cross-site form would send (the cookie goes along through the page's context)."""
        return self.page.request.post(self.url + path, form=data or {})


@pytest.fixture
def ui_factory(browser: Browser, request: pytest.FixtureRequest
               ) -> Iterator[Callable[[Served], UiDriver]]:
    """A new browser context (its own cookies) on a served workspace, at 1280x800."""
    contexts = []

    def open_ui(served: Served, *, width: int = 1280, height: int = 800) -> UiDriver:
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(20_000)
        contexts.append(context)
        return UiDriver(served, context.new_page(), request.node.name)

    yield open_ui
    for context in contexts:
        context.close()
