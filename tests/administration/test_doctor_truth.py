"""``idsync doctor`` tells the truth: it passes on the README's fresh install (the demo), it
suggests only commands that exist, and a healthy TLS LDAP connector is OK throughout. The bad
configurations it must catch are the corpus in tests/badinput/doctor/."""

from __future__ import annotations

import ast
import datetime as dt
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.harness.commands import idsync
from tests.harness.doctor import command_problem, doctor, suggested_commands
from tests.harness.slapd import needs_slapd

import idsync.administration as administration_package
from idsync.administration.doctor_check import ADVICE
from idsync.lab.slapd import SlapdConfig, SlapdServer
from idsync.lab.tls import make_tls_material
from idsync.store import Store


@pytest.mark.sqlite_only  # the demo always keeps its own SQLite file, whatever names a database
def test_fresh_demo_install_passes_and_its_advice_works(tmp_path: Path):
    ws = tmp_path / "demo"
    idsync(ws, "demo", "--no-churn", timeout=300)
    code, checks, text = doctor(ws)
    assert code == 0, text
    assert not [c for c in checks.values() if c["status"] == "FAIL"]
    # The demo's clouddir stopped with the demo: said so, with the command that starts it.
    cloud = checks["connector cloud"]
    assert cloud["status"] == "WARN" and "demo's local cloud directory" in cloud["detail"]
    names = {"contoso", "cloud"}
    assert [p for cmd in suggested_commands(text) if (p := command_problem(cmd, names))] == []
    serve = next(c for c in suggested_commands(cloud["detail"]) if c.startswith("clouddir"))
    argv = shlex.split(serve)
    process = subprocess.Popen([sys.executable, "-m", "clouddir.cli", *argv[1:]],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port = argv[argv.index("--port") + 1]
        _wait_up(f"http://127.0.0.1:{port}/health")
        code, checks, text = doctor(ws)
        assert code == 0, text
        assert checks["connector cloud"]["status"] == "OK", text
        # Every attribute the out-of-box rules write is in the cloud connector's schema.
        assert checks["schema cloud"]["status"] == "OK", text
    finally:
        process.terminate()
        process.wait(10)


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


def test_every_command_doctor_can_suggest_exists(tmp_path: Path):
    names = {"corp"}
    fields = {"connector": "corp", "port": "8080", "db": "sqlite:///x.db"}
    assert [p for key, template in ADVICE.items()
            if (p := command_problem(template.format(**fields), names))] == []
    # No command reaches doctor's lines but through ADVICE.
    folder = Path(administration_package.__file__).parent
    for module in ("doctor.py", "doctor_ldap.py", "doctor_check.py", "certificates.py",
                   "cleartext.py"):
        literal = [m for text in _string_literals(folder / module)
                   for m in re.findall(r"`((?:idsync|clouddir) [^`]*)`", text)]
        assert literal == [], (module, literal)
    # A name that is not a connector is caught (the check is not vacuous).
    assert command_problem("idsync errors list --connector aad", names)
    assert command_problem("idsync errors aad", names)


def _string_literals(path: Path) -> list[str]:
    """The string constants of a module but its docstrings (what it can print)."""
    tree = ast.parse(path.read_text())
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and node.body
            and isinstance(node.body[0], ast.Expr)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and id(n) not in docs]


@pytest.mark.slapd
@needs_slapd
def test_healthy_tls_ldap_connector_is_ok_throughout(tmp_path: Path):
    # A certificate valid for a year (the harness's expire in two days: doctor warns).
    slapd_tls = SlapdServer(SlapdConfig(tls=True), workdir=str(tmp_path / "slapd"))
    slapd_tls.tls = make_tls_material(slapd_tls.dir / "tls", ["127.0.0.1", "localhost"],
                                      not_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=365))
    slapd_tls.init()
    slapd_tls.start()
    try:
        _healthy(tmp_path, slapd_tls)
    finally:
        slapd_tls.close()


def _healthy(tmp_path: Path, slapd_tls: SlapdServer) -> None:
    slapd_tls.add(f"uid=ann,ou=People,{slapd_tls.base_dn}",
                  {"objectClass": ["inetOrgPerson"], "uid": "ann", "cn": "Ann", "sn": "Lee"})
    ws = tmp_path / "ws"
    store = Store.open(ws)
    try:
        store.connectors.add("corp", "ldap", slapd_tls.connector_settings(start_tls=True),
                             {"password": slapd_tls.password})
    finally:
        store.close()
    code, checks, text = doctor(ws)
    for name in ("connector corp", "certificate corp", "scope corp"):
        assert checks[name]["status"] == "OK", text
    assert "transport corp" not in checks
    assert code == 0, text


@pytest.mark.parametrize(("settings", "secret", "warned"), [
    ("uri=ldap://dc1.corp.example:389", "password", True),
    ("uri=ldaps://dc1.corp.example:636", "password", False),
    ("uri=ldap://127.0.0.1:389", "password", False),
])
def test_connector_add_warns_of_a_password_in_clear(tmp_path: Path, settings: str, secret: str,
                                                    warned: bool):
    ws = tmp_path / "ws"
    idsync(ws, "init")
    result = idsync(ws, "connector", "add", "corp", "--type", "ldap", "--set", settings,
                    "--set", "bind_dn=cn=sync,dc=corp,dc=example",
                    "--set", 'partitions=["dc=corp,dc=example"]', "--secret-env",
                    f"{secret}=CORP_SECRET", env={"CORP_SECRET": "s3cret"})
    assert ("in clear over ldap://" in result.stderr) is warned, result.stderr
    assert "s3cret" not in result.stderr + result.stdout
    assert "connector corp added" in result.stdout
