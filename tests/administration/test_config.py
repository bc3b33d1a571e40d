"""``idsync config export`` / ``import``: readable files, secrets left out or encrypted, API
versions, staging mode on import, and a rebuilt server that re-joins instead of duplicating."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from tests.harness.commands import idsync
from tests.harness.workspace import Workspace

from idsync.scheduler.cycle import CycleRunner
from idsync.scheduler.settings import is_staging_mode, load_settings
from idsync.store import Store


def add_cloud(ws: Workspace, version: int = 1) -> None:
    # Never contacted here: only its configuration travels.
    ws.store.connectors.add("aad", "cloud", {"url": "http://127.0.0.1:9", "tenant_id": "t1",
                                             "export_api_version": version,
                                             "import_api_version": version},
                            {"token": "s3cret-token"})


def test_export_writes_readable_files_without_secrets(small_workspace: Workspace,
                                                      tmp_path: Path):
    ws = small_workspace
    add_cloud(ws)
    idsync(ws.path, "scheduler", "set", "--interval", "45m")
    out = tmp_path / "config"
    assert "secrets left out" in idsync(ws.path, "config", "export", str(out)).stdout
    manifest = yaml.safe_load((out / "idsync-config.yaml").read_text())
    assert manifest["connectors"] == ["source", "target", "aad"]
    assert manifest["api_versions"] == {"aad": {"export_api_version": 1,
                                                "import_api_version": 1}}
    aad = yaml.safe_load((out / "connectors" / "aad.yaml").read_text())
    assert aad["secrets_left_out"] == ["token"]
    assert "s3cret-token" not in "".join(p.read_text() for p in out.rglob("*.yaml"))
    assert len(list((out / "rules").glob("*.yaml"))) == len(ws.store.rules.list())
    server = yaml.safe_load((out / "server.yaml").read_text())
    assert server["scheduler"]["customized_interval"] == 45 * 60

    new = tmp_path / "server-b"
    missing = idsync(new, "config", "import", str(out), check=False)
    assert missing.returncode == 2 and "--secret-env aad.KEY=VAR" in missing.stderr
    done = idsync(new, "config", "import", str(out), "--secret-env", "aad.token=AAD_TOKEN",
                  "--api-version", "2", env={"AAD_TOKEN": "s3cret-token"})
    assert "staging mode is on" in done.stdout
    store = Store.open(new)
    try:
        assert is_staging_mode(store)
        settings = load_settings(store)
        assert settings.customized_interval == 45 * 60
        assert settings.next_cycle_policy == "initial"
        b_aad = store.connectors.get("aad")
        assert b_aad.secrets == {"token": "s3cret-token"}
        assert b_aad.settings["export_api_version"] == 2  # the V2 server of a swing
        assert [r.to_dict() for r in store.rules.list()] == \
            [r.to_dict() for r in ws.store.rules.list()]
    finally:
        store.close()
    again = idsync(new, "config", "import", str(out), "--secret-env", "aad.token=AAD_TOKEN",
                   check=False, env={"AAD_TOKEN": "x"})
    assert again.returncode == 2 and "already has connectors" in again.stderr


def test_secrets_encrypted_with_a_passphrase(small_workspace: Workspace, tmp_path: Path):
    ws = small_workspace
    add_cloud(ws)
    out = tmp_path / "config"
    idsync(ws.path, "config", "export", str(out),
           env={"IDSYNC_CONFIG_PASSPHRASE": "correct horse"})
    text = (out / "connectors" / "aad.yaml").read_text()
    assert "secrets_encrypted" in text and "s3cret-token" not in text
    wrong = idsync(tmp_path / "b1", "config", "import", str(out), check=False,
                   env={"IDSYNC_CONFIG_PASSPHRASE": "not-it-at-all"})
    assert wrong.returncode == 2 and "wrong passphrase" in wrong.stderr
    idsync(tmp_path / "b2", "config", "import", str(out),
           env={"IDSYNC_CONFIG_PASSPHRASE": "correct horse"})
    typed = idsync(tmp_path / "b3", "config", "import", str(out), "--secrets-passphrase",
                   "correct horse", check=False)
    assert typed.returncode == 2 and "--secrets-passphrase takes no value" in typed.stderr
    store = Store.open(tmp_path / "b2")
    try:
        assert store.connectors.get("aad").secrets == {"token": "s3cret-token"}
    finally:
        store.close()


def test_a_rebuilt_server_rejoins_instead_of_duplicating(small_workspace: Workspace,
                                                         tmp_path: Path):
    ws = small_workspace
    assert CycleRunner(ws.store, str(ws.path)).run().status == "success"
    out = tmp_path / "config"
    idsync(ws.path, "config", "export", str(out))
    # Server B sees the same directories (the file connector's paths are workspace-relative).
    b = tmp_path / "server-b"
    b.mkdir()
    shutil.copytree(ws.path / "source", b / "source")
    shutil.copytree(ws.path / "target", b / "target")
    idsync(b, "config", "import", str(out))
    result = json.loads(idsync(b, "cycle", "start", "--json").stdout)
    assert result["policy"] == "initial" and result["status"] == "success", result
    assert all(r["profile"] != "Export" for r in result["runs"])
    preview = json.loads(idsync(b, "export", "preview", "target", "--json").stdout)
    # Everything A exported is joined: no add, no delete is waiting on B.
    assert "add" not in preview["summary"] and "delete" not in preview["summary"], preview


def test_a_server_built_from_the_export_guards_as_the_first_does(small_workspace: Workspace,
                                                                 tmp_path: Path):
    # A staging server built for a swing must stop the same mass deletes and take over the
    # same stale locks as the active one: its guards travel with the configuration.
    ws = small_workspace
    idsync(ws.path, "deletion-limit", "set", "target", "--object-type", "user",
           "--percent", "5")
    idsync(ws.path, "member-removal-limit", "set", "target", "--percent", "30",
           "--min-members", "10")
    idsync(ws.path, "scheduler", "set", "--lock-lease", "7m")
    out = tmp_path / "config"
    idsync(ws.path, "config", "export", str(out))
    new = tmp_path / "server-b"
    idsync(new, "config", "import", str(out))
    shown = idsync(new, "deletion-limit", "show", "target").stdout
    assert "target user" in shown and "5%" in shown, shown
    assert "30%" in idsync(new, "member-removal-limit", "show", "target").stdout
    assert json.loads(idsync(new, "scheduler", "show", "--json").stdout)["lock_lease"] == \
        "00:07:00"
