"""The secrets part of the bad-input corpus: each file under ``secrets/`` is one bad input (a
secret on the command line, a missing file or variable, a key that is not a key, the wrong
key...), the one-line message it must get, and the check that the stored connector, its sealed
secret and the workspace key are exactly as they were.

A case file: ``args`` (the idsync command line), optional ``env``, ``stdin`` and ``files``
(written into the case's folder; ``{tmp}`` in any value is that folder), ``expect`` (the
message) and ``exit`` (``nonzero`` when the command is not refused outright but ends in a
stopped run, which exits non-zero too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from idsync.cli.main import build
from idsync.secrets.keys import KEY_ENV, KEY_FILE, KEY_FILE_ENV
from idsync.store import Store

CASES = sorted((Path(__file__).parent / "secrets").glob("*.yaml"))
ORIGINAL = "the-original-password-3141"


def _fill(value: Any, tmp: Path) -> Any:
    if isinstance(value, str):
        return value.replace("{tmp}", str(tmp))
    if isinstance(value, list):
        return [_fill(v, tmp) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, tmp) for k, v in value.items()}
    return value


def _state(ws: Path) -> dict[str, Any]:
    """What must not change: the connectors as stored (sealed secrets byte for byte), what
    they open to with the workspace key, and the key file."""
    store = Store.open(ws)
    try:
        rows = store.db.query("SELECT name, type, settings, secrets FROM connectors ORDER BY id")
        opened = {c.name: c.secrets for c in store.connectors.list()}
    finally:
        store.close()
    return {"rows": rows, "opened": opened, "key": (ws / KEY_FILE).read_bytes()}


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_bad_secret_input(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _fill(yaml.safe_load(case.read_text(encoding="utf-8")), tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    ws = tmp_path / "ws"
    store = Store.open(ws)
    try:
        store.connectors.add("src", "file", {"path": "src.ldif"}, {"password": ORIGINAL})
    finally:
        store.close()
    (ws / "src.ldif").write_text("version: 1\n")
    for name, content in (spec.get("files") or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    before = _state(ws)

    result = CliRunner().invoke(build(), ["--workspace", str(ws), *spec["args"]],
                                input=spec.get("stdin"), env=spec.get("env") or {},
                                catch_exceptions=True, terminal_width=400)

    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output
    assert result.exit_code != 0, output
    if spec.get("exit") != "nonzero":
        assert result.exit_code == 2, output
    # Rich folds long lines (and paths) at the console's width: compare without whitespace.
    assert "".join(spec["expect"].split()) in "".join(output.split()), output
    assert ORIGINAL not in output
    assert _state(ws) == before
