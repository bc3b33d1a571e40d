"""The doctor bad-input corpus: one case per YAML file in tests/badinput/doctor/. Each names a
connector configuration (with placeholders filled from the server the case asks for), the
check doctor must report, its status and a part of its one line, and the exit code; doctor
must change nothing and suggest only commands that exist.

Placeholders: {uri} {ldaps_uri} {base} {bind_dn} {password} {ca_file} (slapd), {url}
{tenant_id} {token} (clouddir)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.harness.clouddir_server import clouddir, clouddir_shared  # noqa: F401
from tests.harness.doctor import command_problem, doctor, snapshot, suggested_commands
from tests.harness.slapd import needs_slapd

from idsync.lab.slapd import SlapdConfig, SlapdServer
from idsync.lab.tls import make_tls_material
from idsync.store import Store

CASES = sorted((Path(__file__).parent / "doctor").glob("*.yaml"))


def _slapd(tmp: Path, server: str) -> SlapdServer:
    config = SlapdConfig(tls=server.startswith("slapd-tls") or server == "slapd-expired")
    slapd = SlapdServer(config, workdir=str(tmp / "slapd"))
    if server == "slapd-expired":
        slapd.tls = make_tls_material(slapd.dir / "tls", ["127.0.0.1", "localhost"],
                                      not_after=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    elif server == "slapd-tls-expiring":
        slapd.tls = make_tls_material(slapd.dir / "tls", ["127.0.0.1", "localhost"],
                                      not_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=5))
    slapd.init()
    slapd.start()
    return slapd


def _fill(value: Any, fields: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**fields)
    if isinstance(value, list):
        return [_fill(v, fields) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, fields) for k, v in value.items()}
    return value


@pytest.mark.slapd
@needs_slapd
@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_doctor_case(case: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    spec = yaml.safe_load(case.read_text())
    fields: dict[str, str] = {}
    server = spec.get("server", "none")
    slapd = None
    if server.startswith("slapd"):
        slapd = _slapd(tmp_path, server)
        request.addfinalizer(slapd.close)
        fields.update(uri=slapd.uri, ldaps_uri=slapd.ldaps_uri or "", base=slapd.base_dn,
                      bind_dn=slapd.bind_dn, password=slapd.password,
                      ca_file=slapd.ca_file or "")
        for dn, attrs in spec.get("entries", []):
            slapd.add(_fill(dn, fields), _fill(attrs, fields))
    if server == "clouddir":
        cloud = request.getfixturevalue("clouddir")
        fields.update(url=cloud.url, tenant_id=cloud.tenant_id, token=cloud.token)
    ws = tmp_path / "ws"
    store = Store.open(ws)
    try:
        c = spec["connector"]
        record = store.connectors.add(c.get("name", "corp"), c["type"],
                                      _fill(c.get("settings", {}), fields),
                                      _fill(c.get("secrets", {}), fields))
        if spec.get("cs_objects"):
            # The connector held objects before: a scope that finds none would delete them.
            with store.transaction():
                store.cs.insert_many([_cs(record.id, i, fields)
                                      for i in range(spec["cs_objects"])], None)
    finally:
        store.close()
    if server == "slapd-stopped":
        slapd.stop()
    before = snapshot(ws)
    code, checks, text = doctor(ws, *spec.get("args", []))
    expect = spec["expect"]
    check = checks.get(expect["check"])
    assert check is not None, text
    assert check["status"] == expect["status"], check
    assert expect["line"] in check["detail"], check
    assert code == expect["exit"], checks
    assert "\n" not in check["detail"]
    assert f"{expect['status']:4}  {expect['check']}: " in text
    assert snapshot(ws) == before
    names = {spec["connector"].get("name", "corp")}
    assert [p for cmd in suggested_commands(text)
            if (p := command_problem(cmd, names))] == []


def _cs(connector_id: int, i: int, fields: dict[str, str]) -> Any:
    from idsync.model import CSObject, PendingImport

    return CSObject(id=0, connector_id=connector_id, anchor=f"anchor-{i}",
                    dn=f"uid=u{i},ou=People,{fields['base']}", object_type="user",
                    placeholder=False, attributes={"uid": [f"u{i}"]},
                    pending_import=PendingImport.ADD, mv_id=None, link_type=None,
                    link_rule_id=None, link_direction=None)
