"""The settings half of the bad-input corpus: each file under ``tests/badinput/settings/`` is one
thing an administrator can get wrong (a connector setting of the wrong key, type or shape, a
python-ldap that is not installed, a damaged workspace, CLI misuse). Each runs through the real
``idsync`` command line and must end with a non-zero exit, exactly one line on stderr holding
the case's expected text, no traceback, and the workspace as it was (nothing stored).

A case file is YAML: ``what`` (the mistake), ``argv`` (the command; ``{tmp}`` is the test's
folder), ``stderr`` (text the one line holds), and optionally ``setup`` (commands that must
succeed first), ``files`` (path -> text written under ``{tmp}`` first), ``workspace: corrupt``
(the database replaced by garbage; SQLite only) and ``without_module`` (run in a subprocess in
which that Python package cannot be imported).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from idsync.cli.main import build
from idsync.store import DB_FILE, Store

CASES = Path(__file__).parent / "settings"
ROOT = Path(__file__).resolve().parents[2]


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text("utf-8"))


def _params() -> list[Any]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        case = _load(path)
        # A damaged SQLite file is about SQLite itself.
        marks = [pytest.mark.sqlite_only] if case.get("workspace") == "corrupt" else []
        out.append(pytest.param(path, id=path.stem, marks=marks))
    return out


def _invoke(workspace: Path, argv: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(build(), ["--workspace", str(workspace), *argv],
                                prog_name="idsync")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stderr


def _snapshot(workspace: Path, corrupt: bool) -> Any:
    """What a refused command must not change: the connectors (settings and secrets), the
    rules, the events and the runs (or, for a damaged file, its bytes)."""
    if corrupt:
        return (workspace / DB_FILE).read_bytes()
    store = Store.open(workspace)
    try:
        return ([(c.name, c.type, c.settings, c.secrets) for c in store.connectors.list()],
                [r.name for r in store.rules.list()],
                [(e.event_id, e.message) for e in store.events.list(limit=1000)],
                [(r.id, r.status) for r in store.runs.list(limit=1000)])
    finally:
        store.close()


def _without_module(module: str, workspace: Path, argv: list[str]) -> tuple[int, str]:
    """The real ``idsync`` in a fresh interpreter where ``module`` cannot be imported, as
    after the README's first setup command without ``--all``."""
    code = (f"import sys; sys.modules[{module!r}] = None; "
            "from idsync.cli.main import main; sys.argv = ['idsync'] + sys.argv[1:]; main()")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", code, "--workspace", str(workspace), *argv],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    return done.returncode, done.stderr


@pytest.mark.parametrize("path", _params())
def test_bad_input_is_refused_with_one_line(path: Path, tmp_path: Path) -> None:
    case = _load(path)
    workspace = tmp_path / "ws"
    code, err = _invoke(workspace, ["init"])
    assert code == 0, err
    for rel, text in (case.get("files") or {}).items():
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")
    for command in case.get("setup") or []:
        code, err = _invoke(workspace, command)
        assert code == 0, f"setup {command}: {err}"
    corrupt = case.get("workspace") == "corrupt"
    if corrupt:
        (workspace / DB_FILE).write_bytes(b"this is not a database\n" * 200)
    before = _snapshot(workspace, corrupt)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in case["argv"]]

    if case.get("without_module"):
        code, err = _without_module(case["without_module"], workspace, argv)
    else:
        code, err = _invoke(workspace, argv)

    assert code != 0, f"{case['what']}: accepted"
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, f"{case['what']}: stderr is not one line: {err!r}"
    assert case["stderr"] in lines[0], lines[0]
    assert _snapshot(workspace, corrupt) == before, "the workspace changed"
