"""Signing in to the web UI in a real browser: sessions, wrong passwords and their growing
delays, sign-out, the read-only role and the CSRF token, all enforced by the server."""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys

import httpx
from playwright.sync_api import expect
from tests.harness.browser import FULL_ADMIN, READ_ONLY_ADMIN, add_test_admins
from tests.harness.commands import FAST_ENV, idsync

from idsync.administration.admin_accounts import AdminAccount, change_password, list_admins
from idsync.lab.tls import make_tls_material


def _quiet(ws) -> None:
    """No scheduled cycle: these tests look at the UI only."""
    idsync(ws.path, "scheduler", "set", "--sync-cycle-enabled", "false")


def test_sign_in_wrong_password_and_sign_out(small_workspace, serve_factory, ui_factory):
    _quiet(small_workspace)
    add_test_admins(small_workspace.store)
    served = serve_factory(small_workspace.path)
    ui = ui_factory(served)

    page = ui.visit("/audit", "signed out: audit redirects to sign-in")
    assert "/signin" in page.url

    page.get_by_label("Name").fill(FULL_ADMIN[0])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong name or password")
    ui.shot("wrong password")
    # Straight away again, even with the right password: the delay after a failure refuses it
    # before the password is looked at.
    page.get_by_label("Password").fill(FULL_ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("too many failed sign-ins for ann")

    page.wait_for_timeout(1100)  # the first delay is one second
    page.get_by_label("Password").fill(FULL_ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/audit$"))  # back where the admin was going
    expect(page.locator(".admin-name")).to_have_text("ann")
    ui.shot("signed in")

    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["idsync_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert not session["secure"]  # plain HTTP on loopback; HTTPS sets it (test below)

    ui.sign_out()
    ui.shot("signed out")
    # The old cookie is dead on the server, not only forgotten by the browser.
    stale = httpx.get(served.url + "/audit", cookies={"idsync_session": session["value"]},
                      follow_redirects=False)
    assert stale.status_code == 303 and "/signin" in stale.headers["location"]


def test_read_only_admin_sees_everything_and_changes_nothing(small_workspace, serve_factory,
                                                             ui_factory):
    _quiet(small_workspace)
    add_test_admins(small_workspace.store)
    served = serve_factory(small_workspace.path)
    ui = ui_factory(served)
    ui.sign_in(READ_ONLY_ADMIN)
    page = ui.visit("/admins", "administrators as read-only")
    expect(page.locator(".badge.readonly")).to_have_text("read-only")
    expect(page.get_by_role("button", name="Remove ann")).to_be_disabled()

    # The buttons are disabled, but the server is what refuses: send the form anyway, with
    # this session's own CSRF token.
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    answer = page.request.post(served.url + "/admins/add", form={
        "csrf": token, "name": "mallory", "role": "full",
        "password": "a long enough password", "password_again": "a long enough password"})
    assert answer.status == 403
    assert "read-only administrator" in answer.text()
    answer = page.request.post(served.url + "/admins/ann/remove", form={"csrf": token})
    assert answer.status == 403
    assert [a.name for a in _admins(small_workspace)] == ["ann", "rita"]


def test_a_change_without_the_csrf_token_is_refused(small_workspace, serve_factory, ui_factory):
    _quiet(small_workspace)
    add_test_admins(small_workspace.store)
    served = serve_factory(small_workspace.path)
    ui = ui_factory(served)
    ui.sign_in()
    answer = ui.post_without_csrf("/admins/rita/remove")
    assert answer.status == 403
    assert "security token" in answer.text()
    answer = ui.page.request.post(served.url + "/admins/rita/remove",
                                  form={"csrf": "a guessed token"})
    assert answer.status == 403
    assert [a.name for a in _admins(small_workspace)] == ["ann", "rita"]

    # With the token, through the page, the same change goes through and is audited.
    page = ui.visit("/admins")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Remove rita").click()
    expect(page.locator(".flash")).to_contain_text("Administrator rita removed")
    assert [a.name for a in _admins(small_workspace)] == ["ann"]
    page = ui.visit("/audit", "audit log after a removal")
    row = page.locator("#audit-entries tbody tr").first
    expect(row).to_contain_text("admin.remove")
    expect(row).to_contain_text("rita")
    expect(row.locator("td").nth(1)).to_have_text("ann")
    expect(row.locator("td").nth(2)).to_have_text("ui")


def test_adding_an_admin_in_the_ui_and_a_new_password_ending_sessions(
        small_workspace, serve_factory, ui_factory):
    _quiet(small_workspace)
    add_test_admins(small_workspace.store)
    served = serve_factory(small_workspace.path)
    ui = ui_factory(served)
    ui.sign_in()
    page = ui.visit("/admins")
    form = page.locator("#add-admin")
    form.get_by_label("Name").fill("Olga")
    form.get_by_label("Role").select_option("read-only")
    form.get_by_label("Password (at least 12 characters)").fill("short")
    form.get_by_label("Password again").fill("short")
    # the browser lets it through; the server says what is wrong and adds nobody
    form.get_by_role("button", name="Add administrator").click()
    expect(page.get_by_role("alert")).to_contain_text("at least 12")
    ui.shot("password too short")
    assert [a.name for a in _admins(small_workspace)] == ["ann", "rita"]

    page = ui.visit("/admins")
    form = page.locator("#add-admin")
    form.get_by_label("Name").fill("Olga")
    form.get_by_label("Role").select_option("read-only")
    form.get_by_label("Password (at least 12 characters)").fill("olga's long password")
    form.get_by_label("Password again").fill("olga's long password")
    form.get_by_role("button", name="Add administrator").click()
    expect(page.locator(".flash")).to_contain_text("Administrator olga added (read-only)")

    # A new password set on the server signs ann's browser out.
    change_password(small_workspace.store, "ann", "ann's newer password")
    ui.page.goto(served.url + "/admins")
    assert "/signin" in ui.page.url


def test_first_start_says_how_to_create_an_admin(small_workspace, serve_factory, ui_factory):
    _quiet(small_workspace)
    served = serve_factory(small_workspace.path)
    ui = ui_factory(served)
    page = ui.visit("/signin", "first start")
    expect(page.get_by_role("alert")).to_contain_text("idsync admin add NAME")
    printed = served.stdout()
    assert f"web UI: {served.url}/" in printed
    assert "idsync admin add NAME" in printed


def test_https_sets_a_secure_cookie(small_workspace, serve_factory, tmp_path):
    _quiet(small_workspace)
    add_test_admins(small_workspace.store)
    tls = make_tls_material(tmp_path / "tls", ["127.0.0.1"])
    served = serve_factory(small_workspace.path, "--tls-cert", str(tls.cert_file),
                           "--tls-key", str(tls.key_file))
    assert served.url.startswith("https://127.0.0.1:")
    with httpx.Client(verify=ssl.create_default_context(cafile=str(tls.ca_file)),
                      trust_env=False) as client:
        answer = client.post(served.url + "/signin", data={"name": FULL_ADMIN[0],
                                                           "password": FULL_ADMIN[1]})
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_bad_tls_files_are_refused_in_one_line(small_workspace, tmp_path):
    bad = tmp_path / "cert.pem"
    bad.write_text("not a certificate")
    result = subprocess.run(
        [sys.executable, "-m", "idsync", "--workspace", str(small_workspace.path), "serve",
         "--port", "0", "--tls-cert", str(bad), "--tls-key", str(bad)],
        capture_output=True, text=True, timeout=60, env={**os.environ, **FAST_ENV})
    assert result.returncode == 2
    assert "cannot serve HTTPS" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _admins(ws) -> list[AdminAccount]:
    return list_admins(ws.store)
