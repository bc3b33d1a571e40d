"""A planted secret appears nowhere it should not: not in any command's output (add, show,
list, export, backup, a failed bind run, its history and events, doctor, `--debug`), not in the
service's logs, not in the database file, its backups or an exported configuration."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from tests.harness.commands import Served, wait_for
from tests.secrets.helpers import idsync

from idsync.secrets import redaction
from idsync.store import CONFIG_FILE

# Unique bytes: found anywhere, they can only have come from the secret.
PLANTED = "pl4nted-Secret-8c1e5f0b"


def test_a_planted_secret_appears_in_no_output_and_no_file(tmp_path: Path, slapd,
                                                            serve_factory) -> None:
    ws = tmp_path / "ws"
    outputs: list[str] = []

    def run(*args: str, check: bool = True, input: str | None = None
            ) -> subprocess.CompletedProcess[str]:
        if input is not None:  # a prompt: the tests' idsync() helper sends no input
            result = subprocess.run([sys.executable, "-m", "idsync", "--workspace", str(ws),
                                     *args], input=input, capture_output=True, text=True,
                                    timeout=120, check=check)
            outputs.extend([result.stdout, result.stderr])
            return result
        result = idsync(ws, *args, check=check, env={"CORP_PASSWORD": PLANTED})
        outputs.extend([result.stdout, result.stderr])
        return result

    run("init")
    # The planted value is the bind password, and a wrong one: every bind fails.
    run("connector", "add", "corp", "--type", "ldap",
        "--set", f"uri={slapd.uri}", "--set", f"bind_dn={slapd.bind_dn}",
        "--set", f"partitions=[{slapd.base_dn!r}]", "--secret-env", "password=CORP_PASSWORD",
        "--json")
    for args in (("connector", "show", "corp"), ("connector", "show", "corp", "--json"),
                 ("connector", "list", "--json"), ("secrets", "list", "--json")):
        run(*args)
    failed = run("run", "corp", "full-import", check=False)
    assert "stopped-connectivity" in failed.stdout  # the bind did fail
    debug = run("--debug", "run", "corp", "full-import", check=False)
    assert "stopped-connectivity" in debug.stdout
    run("doctor", check=False)
    for args in (("runs", "list", "--json"), ("runs", "show", "1", "--json"),
                 ("events", "list", "--json"), ("errors", "list", "--json")):
        run(*args)
    run("config", "export", str(tmp_path / "cfg-plain"))
    run("config", "export", str(tmp_path / "cfg-sealed"), "--secrets-passphrase",
        input="pp-123456\n")
    sqlite = not (ws / CONFIG_FILE).exists()
    if sqlite:
        run("db", "backup", str(tmp_path / "backup.db"))
    # The service: a scheduled cycle fails its bind and logs it.
    run("scheduler", "set", "--interval", "1s")
    served: Served = serve_factory(ws)
    wait_for(lambda: served.cycles() >= 1, what="a cycle of the service")
    served.terminate()
    log = served.log_path.read_text()
    assert '"status":"stopped-connectivity"' in log  # the failed bind is in the checked log

    secret = PLANTED.encode()
    for text in outputs:
        assert PLANTED not in text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.startswith("serve-") for p in files)  # the service's log is checked
    if sqlite:
        assert (ws / "idsync.db").exists() and (tmp_path / "backup.db").exists()
    leaked = [str(p) for p in files if secret in p.read_bytes()]
    assert leaked == []


def test_a_log_line_or_traceback_quoting_a_known_secret_is_masked(
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    redaction.remember(PLANTED)
    caplog.handler.addFilter(redaction.RedactingFilter())
    try:
        raise RuntimeError(f"bind failed with password {PLANTED}")
    except RuntimeError:
        logging.getLogger("idsync.test").exception("cycle failed for %s", PLANTED)
        redaction._excepthook(*sys.exc_info())  # type: ignore[arg-type]
    assert PLANTED not in caplog.text and redaction.MASK in caplog.text
    assert PLANTED not in capsys.readouterr().err
