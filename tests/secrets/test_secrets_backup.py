"""Backups carry secrets sealed and never the key unless asked; a restore without the key
restores the rest and names the secrets to enter again, after which the connector works."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.secrets.helpers import enter_again_and_run, file_workspace, idsync

from idsync.secrets.keys import KEY_FILE

SECRET = "backup-secret-value-7730"

pytestmark = pytest.mark.sqlite_only  # reason: `db backup` / `db restore` copy SQLite files


def test_a_backup_holds_the_secret_sealed_and_no_key(tmp_path: Path) -> None:
    ws = file_workspace(tmp_path, SECRET)
    idsync(ws, "db", "backup", str(tmp_path / "b.db"))
    assert SECRET.encode() not in (tmp_path / "b.db").read_bytes()
    assert not (tmp_path / "b.db.key").exists()
    key = (ws / KEY_FILE).read_text().splitlines()[-1].encode()
    assert key not in (tmp_path / "b.db").read_bytes()


def test_a_restore_without_the_key_names_the_secrets_to_enter_again(tmp_path: Path) -> None:
    ws = file_workspace(tmp_path, SECRET)
    (ws / "src.ldif").write_text("version: 1\n")
    idsync(ws, "db", "backup", str(tmp_path / "b.db"))
    other = tmp_path / "other"  # a new server: its own key, not the backup's
    idsync(other, "init")
    (other / "src.ldif").write_text("version: 1\n")
    restored = idsync(other, "db", "restore", str(tmp_path / "b.db"))
    assert ("connector src: secret(s) password cannot be decrypted" in restored.stderr
            and "idsync connector set src --secret password" in restored.stderr)
    assert [c["name"] for c in json.loads(idsync(other, "connector", "list", "--json").stdout)] \
        == ["src"]  # everything else came back
    stopped = idsync(other, "run", "src", "full-import", check=False)
    assert "stopped-configuration" in stopped.stdout
    enter_again_and_run(other, SECRET, tmp_path)


def test_a_backup_with_its_key_restores_the_secrets_too(tmp_path: Path) -> None:
    ws = file_workspace(tmp_path, SECRET)
    made = idsync(ws, "db", "backup", str(tmp_path / "b.db"), "--include-key")
    assert "keep it apart from the backup" in made.stderr
    other = tmp_path / "other"
    idsync(other, "init")
    restored = idsync(other, "db", "restore", str(tmp_path / "b.db"),
                      "--key-file", str(tmp_path / "b.db.key"))
    assert "cannot be decrypted" not in restored.stderr
    listed = json.loads(idsync(other, "secrets", "list", "--json").stdout)
    assert listed["secrets"] == [{"connector": "src", "name": "password", "decryptable": True}]
