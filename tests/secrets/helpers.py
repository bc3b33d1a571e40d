"""Shared by the secrets tests: a workspace with one file connector holding a secret, and
``idsync`` run in-process (prompts and stdin) or as its own process."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from tests.harness.commands import idsync

from idsync.cli.main import build
from idsync.store import Store

__all__ = ["cli", "file_workspace", "idsync", "raw_secrets"]


def cli(workspace: Path, *args: str, input: str | None = None,
        env: dict[str, str] | None = None) -> Result:
    """``idsync`` in this process (a prompt reads ``input``)."""
    return CliRunner().invoke(build(), ["--workspace", str(workspace), *args], input=input,
                              env=env, catch_exceptions=True)


def file_workspace(tmp_path: Path, secret: str, name: str = "ws") -> Path:
    """A workspace with a file connector ``src`` whose secret ``password`` is ``secret``
    (given through a file, as an operator would)."""
    ws = tmp_path / name
    idsync(ws, "init")
    given = tmp_path / f"{name}.password"
    given.write_text(secret + "\n")
    idsync(ws, "connector", "add", "src", "--type", "file", "--set", "path=src.ldif",
           "--secret-file", f"password={given}")
    given.unlink()
    return ws


def raw_secrets(ws: Path) -> str:
    """The ``secrets`` column as stored, read through the store's database (either store)."""
    store = Store.open(ws)
    try:
        return str(store.db.scalar("SELECT secrets FROM connectors WHERE name = 'src'"))
    finally:
        store.close()


def enter_again_and_run(ws: Path, secret: str, folder: Path) -> None:
    """Enter the connector ``src``'s password again (from a file) and check that a full import
    then succeeds: what an operator does after the key that sealed it is gone."""
    given = folder / "again"
    given.write_text(secret)
    idsync(ws, "connector", "set", "src", "--secret-file", f"password={given}")
    assert idsync(ws, "run", "src", "full-import").returncode == 0
    assert json.loads(idsync(ws, "runs", "list", "--json").stdout)[0]["status"] == "success"
