"""The local administrators from the command line (issue 17, sign-in and roles): ``idsync admin
add|list|passwd|remove``, driven as an administrator does, on SQLite and (the PostgreSQL pass)
on PostgreSQL. What is stored is an argon2id hash that verifies; the password shows nowhere."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result
from tests.harness.commands import idsync as idsync_process

from idsync.administration.admin_accounts import (
    MIN_PASSWORD_LENGTH,
    AdminAccountError,
    AdminRole,
    add_admin,
    password_matches,
    remove_admin,
    set_role,
    signin_delay,
    verify_signin,
)
from idsync.cli.main import cli
from idsync.store import Store

PASSWORD = "correct horse battery staple"
OTHER = "tr0ubadour & a longer tail"


class Idsync:
    """The command line in process (CliRunner): output, exit code, and no traceback ever."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.runner = CliRunner()
        self.outputs: list[str] = []

    def __call__(self, *args: str, input: str | None = None, ok: bool = True,
                 one_line: bool = True) -> Result:
        result = self.runner.invoke(cli, ["--workspace", str(self.workspace), *args],
                                    input=input)
        self.outputs.append(result.output + result.stderr)
        assert "Traceback" not in result.output + result.stderr
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        else:
            assert result.exit_code != 0, result.output
            assert isinstance(result.exception, SystemExit), result.exception
            # One line saying what is wrong (Click's own usage block under --debug).
            assert not one_line or len(result.stderr.strip().splitlines()) == 1, result.stderr
        return result

    def admins(self) -> list[dict]:
        return json.loads(self("admin", "list", "--json").stdout)


@pytest.fixture
def run(tmp_path: Path) -> Idsync:
    idsync = Idsync(tmp_path / "ws")
    idsync("init")
    return idsync


def stored(run: Idsync) -> dict[str, str]:
    """name -> the stored password hash."""
    store = Store.open(run.workspace)
    try:
        return {row.name: row.password_hash for row in store.admins.all()}
    finally:
        store.close()


def test_add_list_passwd_remove(run: Idsync) -> None:
    added = run("admin", "add", "Ann", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert "administrator ann added (full)" in added.stdout
    run("admin", "add", "bob", "--read-only", "--password-stdin", input=f"{OTHER}\n")

    listed = run("admin", "list").stdout
    assert "ann" in listed and "bob" in listed and "read-only" in listed
    assert "$argon2" not in listed
    admins = run.admins()
    assert [(a["name"], a["role"]) for a in admins] == [("ann", "full"), ("bob", "read-only")]
    assert set(admins[0]) == {"name", "role", "created_at", "password_changed_at"}
    assert admins[0]["created_at"] == admins[0]["password_changed_at"]

    hashes = stored(run)
    assert hashes["ann"].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert password_matches(hashes["ann"], PASSWORD)
    assert not password_matches(hashes["ann"], OTHER)
    assert not password_matches(hashes["ann"], PASSWORD.upper())
    assert password_matches(hashes["bob"], OTHER)

    new = "a completely new passphrase"
    changed = run("admin", "passwd", "ann", input=f"{new}\n{new}\n")
    assert "password of ann changed" in changed.stdout
    after = stored(run)["ann"]
    assert after != hashes["ann"]
    assert password_matches(after, new) and not password_matches(after, PASSWORD)
    ann = run.admins()[0]
    assert ann["password_changed_at"] > ann["created_at"]

    assert "administrator bob removed" in run("admin", "remove", "bob").stdout
    assert [a["name"] for a in run.admins()] == ["ann"]
    assert "no administrator named 'bob'" in run("admin", "remove", "bob", ok=False).stderr
    assert "no administrator named 'carl'" in run(
        "admin", "passwd", "carl", "--password-stdin", input=f"{new}\n", ok=False).stderr


def test_the_prompt_asks_twice_and_refuses_a_mismatch(run: Idsync) -> None:
    result = run("admin", "add", "ann", input=f"{PASSWORD}\n{OTHER}\n", ok=False,
                 one_line=False)  # Click asks again, then gives up at the end of the input
    assert "do not match" in result.output + result.stderr
    assert stored(run) == {}


def test_short_password_and_bad_name_are_refused_and_nothing_is_stored(run: Idsync) -> None:
    short = "x" * (MIN_PASSWORD_LENGTH - 1)
    refused = run("admin", "add", "ann", "--password-stdin", input=f"{short}\n", ok=False)
    assert f"at least {MIN_PASSWORD_LENGTH} characters" in refused.stderr
    assert short not in refused.stderr
    for bad in ("an n", "-ann", "9ann", "ann/x", "a" * 65, ""):
        refused = run("admin", "add", "--password-stdin", "--", bad, input=f"{PASSWORD}\n",
                      ok=False)
        assert "is not valid" in refused.stderr
    assert run("admin", "add", "ann", "--password-stdin", input="\n", ok=False).stderr
    assert stored(run) == {}
    assert run.admins() == []
    assert "no administrators" in run("admin", "list").stdout

    run("admin", "add", "ann", "--password-stdin", input=f"{PASSWORD}\n")
    taken = run("admin", "add", "ANN", "--password-stdin", input=f"{OTHER}\n", ok=False)
    assert "exists already" in taken.stderr
    run("admin", "passwd", "ann", "--password-stdin", input=f"{short}\n", ok=False)
    assert password_matches(stored(run)["ann"], PASSWORD)


def test_a_password_on_the_command_line_is_refused(run: Idsync) -> None:
    for args in (["--password", PASSWORD], [f"--password={PASSWORD}"], ["--password"]):
        refused = run("admin", "add", "ann", *args, ok=False)
        assert "--password-stdin" in refused.stderr and "hidden prompt" in refused.stderr
        assert PASSWORD not in refused.output + refused.stderr
        run("admin", "passwd", "ann", *args, ok=False)
    assert stored(run) == {}
    assert "--password " not in run("admin", "add", "--help").stdout


def test_the_last_full_admin_stays(run: Idsync) -> None:
    run("admin", "add", "ann", "--password-stdin", input=f"{PASSWORD}\n")
    first_read_only = run("admin", "add", "carl", "--read-only", "--password-stdin",
                          input=f"{OTHER}\n")
    assert "read-only" in first_read_only.stdout
    refused = run("admin", "remove", "ann", ok=False)
    assert "last administrator who can change things" in refused.stderr
    assert [a["name"] for a in run.admins()] == ["ann", "carl"]

    store = Store.open(run.workspace)
    try:
        with pytest.raises(AdminAccountError, match="cannot be made read-only"):
            set_role(store, "ann", AdminRole.READ_ONLY)
        set_role(store, "carl", AdminRole.FULL)
        set_role(store, "ann", AdminRole.READ_ONLY)  # carl can change things now
        remove_admin(store, "ann")
        with pytest.raises(AdminAccountError, match="cannot be removed"):
            remove_admin(store, "carl")
    finally:
        store.close()
    assert [(a["name"], a["role"]) for a in run.admins()] == [("carl", "full")]


def test_the_first_admin_cannot_be_read_only(run: Idsync) -> None:
    refused = run("admin", "add", "ann", "--read-only", "--password-stdin",
                  input=f"{PASSWORD}\n", ok=False)
    assert "first administrator" in refused.stderr
    assert stored(run) == {}


def test_a_signin_verifies_counts_failures_and_rehashes_weak_hashes(run: Idsync) -> None:
    store = Store.open(run.workspace)
    try:
        add_admin(store, "ann", PASSWORD)
        assert verify_signin(store, "nobody", PASSWORD) is None
        assert verify_signin(store, "ann", OTHER) is None
        assert verify_signin(store, "ann", OTHER) is None
        failed = store.admins.get("ann")
        assert failed is not None and failed.failed_signins == 2 and failed.last_failed_at
        assert signin_delay(failed.failed_signins) == 2.0
        assert signin_delay(0) == 0.0 and signin_delay(50) == 60.0

        signed_in = verify_signin(store, "ANN", PASSWORD)
        assert signed_in is not None and signed_in.name == "ann" and not signed_in.read_only
        row = store.admins.get("ann")
        assert row is not None and row.failed_signins == 0 and row.last_failed_at is None

        # A hash made with weaker parameters (an older idsync) is replaced at sign-in.
        weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
        with store.transaction():
            store.admins.replace_hash("ann", row.password_hash, weak)
        assert verify_signin(store, "ann", PASSWORD) is not None
        rehashed = store.admins.get("ann")
        assert rehashed is not None and rehashed.password_hash.startswith(
            "$argon2id$v=19$m=65536,t=3,p=4$")
        assert rehashed.password_changed_at == row.password_changed_at
    finally:
        store.close()


def test_the_password_shows_in_no_output_event_or_log(run: Idsync,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    new = "the second secret passphrase"
    run("--debug", "admin", "add", "ann", input=f"{PASSWORD}\n{PASSWORD}\n")
    run("--debug", "admin", "add", "bob", "--password-stdin", input=f"{OTHER}\n")
    run("--debug", "admin", "passwd", "ann", input=f"{new}\n{new}\n")
    run("--debug", "admin", "passwd", "ann", "--password", new, ok=False, one_line=False)
    run("--debug", "admin", "list")
    run("--debug", "admin", "list", "--json")
    run("--debug", "admin", "remove", "bob")
    # A real process too: what it prints and whatever it logs to stderr.
    process = idsync_process(run.workspace, "--debug", "admin", "list", "--json")
    outputs = [*run.outputs, process.stdout, process.stderr, caplog.text]

    store = Store.open(run.workspace)
    try:
        events = [f"{e.message} {e.data}" for e in store.events.list(limit=0)]
    finally:
        store.close()
    # The workspace's files (the SQLite database and its journal on SQLite; the config and key
    # on PostgreSQL) hold no password either.
    files = [p.read_bytes() for p in run.workspace.rglob("*") if p.is_file()]
    for password in (PASSWORD, OTHER, new):
        assert not any(password in text for text in outputs + events)
        assert not any(password.encode() in data for data in files)


def test_a_script_sets_a_password_through_a_real_process(run: Idsync) -> None:
    result = subprocess.run(
        [*_command(run.workspace), "admin", "add", "ann", "--password-stdin"],
        input=f"{PASSWORD}\n", capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert password_matches(stored(run)["ann"], PASSWORD)
    refused = idsync_process(run.workspace, "admin", "remove", "ann", check=False)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("error: ") and len(refused.stderr.splitlines()) == 1


def _command(workspace: Path) -> list[str]:
    return [sys.executable, "-m", "idsync", "--workspace", str(workspace)]


def test_two_concurrent_removals_cannot_remove_both_full_admins(run: Idsync) -> None:
    first = Store.open(run.workspace)
    try:
        add_admin(first, "ann", PASSWORD)
        add_admin(first, "bob", OTHER)
        outcome: list[str] = []
        second = Store.open(run.workspace)

        def remove_bob() -> None:
            try:
                remove_admin(second, "bob")
                outcome.append("removed")
            except AdminAccountError as exc:
                outcome.append(str(exc))

        with first.transaction():
            remove_admin(first, "ann")  # holds its locks until this block ends
            other = threading.Thread(target=remove_bob)
            other.start()
            time.sleep(1)  # the other removal is waiting for them now
        other.join(timeout=30)
        second.close()
        assert len(outcome) == 1 and "cannot be removed" in outcome[0], outcome
        assert [row.name for row in first.admins.all()] == ["bob"]
    finally:
        first.close()


def test_every_account_change_is_in_the_audit_log_without_its_password(run: Idsync) -> None:
    """Adding, re-passwording, demoting and removing administrators each leave an audit entry
    naming the account and the role change; no entry carries a password or its hash."""
    run("admin", "add", "ann", "--password-stdin", input=f"{PASSWORD}\n")
    run("admin", "add", "bob", "--password-stdin", input=f"{OTHER}\n")
    run("admin", "passwd", "bob", "--password-stdin", input=f"{PASSWORD}!\n")
    store = Store.open(run.workspace)
    try:
        set_role(store, "bob", AdminRole.READ_ONLY)
        with pytest.raises(AdminAccountError):  # refused: no entry
            set_role(store, "ann", AdminRole.READ_ONLY)
    finally:
        store.close()
    run("admin", "remove", "bob")
    audit = run("audit", "list", "--json")
    entries = [(e["action"], e["target"], e["old"], e["new"])
               for e in reversed(json.loads(audit.stdout))]
    assert entries == [
        ("admin.add", "ann", None, {"role": "full"}),
        ("admin.add", "bob", None, {"role": "full"}),
        ("admin.passwd", "bob", None, {"password": "(changed)"}),
        ("admin.role", "bob", {"role": "full"}, {"role": "read-only"}),
        ("admin.remove", "bob", {"role": "read-only"}, None),
    ]
    shown = audit.stdout + run("audit", "list").stdout
    assert PASSWORD not in shown and OTHER not in shown and "$argon2" not in shown
