"""Connector secrets are sealed at rest under a key kept apart from the database; a workspace
without that key says which secrets it cannot open and how to get them back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.secrets.helpers import cli, enter_again_and_run, file_workspace, idsync, raw_secrets

from idsync.secrets.keys import KEY_FILE, new_key
from idsync.store import Store

SECRET = "Zq7-unique-secret-value-4711"


def test_a_secret_is_stored_sealed_and_opens_with_the_workspace_key(tmp_path: Path) -> None:
    ws = file_workspace(tmp_path, SECRET)
    stored = raw_secrets(ws)
    assert SECRET not in stored and json.loads(stored)["password"].startswith("fernet:")
    assert (ws / KEY_FILE).is_file()  # the key: beside the database, never in it
    store = Store.open(ws)
    try:
        assert store.connectors.get("src").secrets == {"password": SECRET}
    finally:
        store.close()


def test_clear_secrets_of_an_older_workspace_are_sealed_on_first_open(tmp_path: Path) -> None:
    ws = tmp_path / "old"
    store = Store.open(ws)
    try:
        store.connectors.add("src", "file", {"path": "src.ldif"})
        # What an idsync before sealing wrote: the value in clear.
        store.db.execute("UPDATE connectors SET secrets = ? WHERE name = 'src'",
                         (json.dumps({"password": SECRET}),))
        assert SECRET in store.db.scalar("SELECT secrets FROM connectors")
    finally:
        store.close()
    store = Store.open(ws)  # the upgrade: the first open seals it
    try:
        stored = store.db.scalar("SELECT secrets FROM connectors WHERE name = 'src'")
        assert SECRET not in stored and "fernet:" in stored
        assert store.connectors.get("src").secrets == {"password": SECRET}
    finally:
        store.close()


def test_without_its_key_a_secret_is_named_and_the_run_stops_saying_why(tmp_path: Path) -> None:
    ws = file_workspace(tmp_path, SECRET)
    (ws / KEY_FILE).rename(tmp_path / "kept.key")

    listed = cli(ws, "secrets", "list", "--json")
    assert listed.exit_code == 0
    assert json.loads(listed.stdout)["secrets"] == [
        {"connector": "src", "name": "password", "decryptable": False}]
    shown = json.loads(cli(ws, "connector", "show", "src", "--json").stdout)
    assert shown["secrets"] == {"password": "(cannot be decrypted)"}

    run = idsync(ws, "run", "src", "full-import", check=False)
    assert "Traceback" not in run.stderr + run.stdout
    assert "stopped-configuration" in run.stdout
    history = json.loads(idsync(ws, "runs", "list", "--json").stdout)
    message = history[0]["message"]
    assert "secret(s) password cannot be decrypted" in message
    assert "idsync connector set src --secret password" in message

    # Entering it again is enough: the connector works again (the source file is empty).
    (ws / "src.ldif").write_text("version: 1\n")
    enter_again_and_run(ws, SECRET, tmp_path)


def test_the_key_from_the_environment_keeps_the_workspace_free_of_it(tmp_path: Path) -> None:
    key = new_key().decode()
    ws = tmp_path / "ws"
    idsync(ws, "init", env={"IDSYNC_KEY": key})
    idsync(ws, "connector", "add", "src", "--type", "file", "--set", "path=src.ldif",
           "--secret-env", "password=SRC_PASSWORD",
           env={"IDSYNC_KEY": key, "SRC_PASSWORD": SECRET})
    assert not (ws / KEY_FILE).exists()
    ok = json.loads(idsync(ws, "secrets", "list", "--json", env={"IDSYNC_KEY": key}).stdout)
    assert ok["secrets"][0]["decryptable"] is True and "IDSYNC_KEY" in ok["key"]
    other = new_key().decode()
    wrong = json.loads(idsync(ws, "secrets", "list", "--json",
                              env={"IDSYNC_KEY": other}).stdout)
    assert wrong["secrets"][0]["decryptable"] is False
    # The same key in a file named by IDSYNC_KEY_FILE (a mounted secret in a container).
    key_file = tmp_path / "mounted.key"
    key_file.write_text(key + "\n")
    named = json.loads(idsync(ws, "secrets", "list", "--json",
                              env={"IDSYNC_KEY_FILE": str(key_file)}).stdout)
    assert named["secrets"][0]["decryptable"] is True


@pytest.mark.parametrize("how", ["prompt", "stdin", "file", "env"])
def test_each_way_of_giving_a_secret_stores_it(tmp_path: Path, how: str) -> None:
    ws = tmp_path / "ws"
    idsync(ws, "init")
    base = ["connector", "add", "src", "--type", "file", "--set", "path=src.ldif"]
    given = tmp_path / "password.txt"
    given.write_text(SECRET + "\n")
    result = {
        "prompt": lambda: cli(ws, *base, "--secret", "password", input=SECRET + "\n"),
        "stdin": lambda: cli(ws, *base, "--secret-stdin", "password", input=SECRET + "\n"),
        "file": lambda: cli(ws, *base, "--secret-file", f"password={given}"),
        "env": lambda: cli(ws, *base, "--secret-env", "password=P", env={"P": SECRET}),
    }[how]()
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output  # the prompt does not echo it
    store = Store.open(ws)
    try:
        assert store.connectors.get("src").secrets == {"password": SECRET}
    finally:
        store.close()


def test_a_secret_on_the_command_line_is_refused_and_not_stored(tmp_path: Path) -> None:
    ws = file_workspace(tmp_path, SECRET)
    result = idsync(ws, "connector", "set", "src", "--secret", "password=other-value-123",
                    check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "a secret on the command line is visible" in result.stderr
    assert "--secret-stdin password" in result.stderr and "other-value-123" not in result.stderr
    store = Store.open(ws)
    try:
        assert store.connectors.get("src").secrets == {"password": SECRET}
    finally:
        store.close()
