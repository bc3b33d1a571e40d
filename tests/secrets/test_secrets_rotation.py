"""``idsync secrets rotate-key``: every secret sealed again under a new key, the old key
retired; a process killed after any step loses no secret, and the next rotation finishes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.secrets.helpers import file_workspace, idsync, raw_secrets

from idsync.secrets.keys import KEY_FILE, KeyRing, new_key
from idsync.secrets.rotation import RotationStep
from idsync.store import Store

SECRET = "rotate-me-secret-9931"

# Runs the rotation in a process of its own and kills it (os._exit: no cleanup, no
# finally, as a power cut or SIGKILL would) right after the named step.
CRASHING_ROTATION = """
import os, sys
from pathlib import Path
from idsync.secrets.keys import KeyRing
from idsync.secrets.rotation import rotate_key
from idsync.store import Store

ws, crash_at = Path(sys.argv[1]), sys.argv[2]
store = Store.open(ws)
def after(step):
    if step.value == crash_at:
        os._exit(137)
rotate_key(store, KeyRing(ws), after=after)
"""


def opened(ws: Path) -> dict[str, str]:
    store = Store.open(ws)
    try:
        record = store.connectors.get("src")
        assert not record.unreadable_secrets
        return record.secrets
    finally:
        store.close()


def test_rotation_seals_again_under_a_new_key_and_retires_the_old(tmp_path: Path) -> None:
    ws = file_workspace(tmp_path, SECRET)
    old_keys = KeyRing(ws).load()
    old_stored = raw_secrets(ws)
    done = idsync(ws, "secrets", "rotate-key")
    assert "1 secret(s) sealed again" in done.stdout
    new_keys = KeyRing(ws).load()
    assert len(new_keys) == 1 and new_keys != old_keys
    assert raw_secrets(ws) != old_stored and SECRET not in raw_secrets(ws)
    assert opened(ws) == {"password": SECRET}
    assert (ws / KEY_FILE).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("step", [s.value for s in RotationStep])
def test_a_crash_after_any_step_of_a_rotation_loses_no_secret(tmp_path: Path, step: str) -> None:
    ws = file_workspace(tmp_path, SECRET)
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    crashed = subprocess.run([sys.executable, "-c", CRASHING_ROTATION, str(ws), step],
                             env=env, capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 137, crashed.stderr
    assert opened(ws) == {"password": SECRET}
    # The next rotation finishes the job: one key again, the secret under it.
    idsync(ws, "secrets", "rotate-key")
    assert len(KeyRing(ws).load()) == 1
    assert opened(ws) == {"password": SECRET}


def test_with_the_key_in_the_environment_the_operator_puts_the_new_key_first(
        tmp_path: Path) -> None:
    old, new = new_key().decode(), new_key().decode()
    ws = tmp_path / "ws"
    idsync(ws, "init", env={"IDSYNC_KEY": old})
    idsync(ws, "connector", "add", "src", "--type", "file", "--set", "path=src.ldif",
           "--secret-env", "password=P", env={"IDSYNC_KEY": old, "P": SECRET})
    alone = idsync(ws, "secrets", "rotate-key", check=False, env={"IDSYNC_KEY": old})
    assert alone.returncode == 2
    assert "put a new key in front of the old one (IDSYNC_KEY=NEW,OLD" in alone.stderr
    idsync(ws, "secrets", "rotate-key", env={"IDSYNC_KEY": f"{new},{old}"})
    listed = json.loads(idsync(ws, "secrets", "list", "--json", env={"IDSYNC_KEY": new}).stdout)
    assert listed["secrets"][0]["decryptable"] is True
    assert not (ws / KEY_FILE).exists()


def test_a_rotation_leaves_a_secret_no_key_opens_as_it_was(tmp_path: Path) -> None:
    ws = file_workspace(tmp_path, SECRET)
    (ws / KEY_FILE).unlink()  # the key that sealed it is gone
    before = raw_secrets(ws)
    done = idsync(ws, "secrets", "rotate-key")
    assert "src.password could not be decrypted" in done.stderr
    assert raw_secrets(ws) == before  # still there, should its key turn up
