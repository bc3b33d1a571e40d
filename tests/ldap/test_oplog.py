"""The LDAP connector's operation log: at debug level, each operation with its DN and result,
never a value sent (a bind's password, an attribute's value)."""

from __future__ import annotations

import logging

import pytest
from tests.ldap.helpers import connector, full

from idsync.connectors.base import ExportChange
from idsync.lab.slapd import SlapdServer
from idsync.model import ExportKind

pytestmark = pytest.mark.slapd


def test_each_operation_is_logged_with_its_dn_and_result(
        slapd: SlapdServer, caplog: pytest.LogCaptureFixture) -> None:
    dn = f"uid=oplog,ou=People,{slapd.base_dn}"
    moved = f"uid=oplog2,ou=People,{slapd.base_dn}"
    with caplog.at_level(logging.DEBUG, logger="idsync.connectors.ldap"):
        conn = connector(slapd)
        results = list(conn.export([
            ExportChange(cs_id=1, kind=ExportKind.ADD, dn=dn, object_type="user",
                         attributes={"uid": ["oplog"], "cn": ["Op"], "sn": ["secret-sn"]}),
            ExportChange(cs_id=1, kind=ExportKind.MODIFY, dn=dn, object_type="user",
                         attributes={"title": ["secret-title"]}),
            ExportChange(cs_id=1, kind=ExportKind.RENAME, dn=dn, object_type="user",
                         new_dn=moved),
            ExportChange(cs_id=1, kind=ExportKind.DELETE, dn=moved, object_type="user"),
            ExportChange(cs_id=2, kind=ExportKind.DELETE, dn=dn, object_type="user"),
        ]))
        full(conn)
        conn.close()
    assert [r.ok for r in results] == [True] * 5  # a delete of a missing entry is done
    lines = [r.getMessage() for r in caplog.records if r.name == "idsync.connectors.ldap"]
    assert f"ldap bind {slapd.bind_dn!r}: success" in lines
    assert f"ldap add {dn!r}: success" in lines
    assert f"ldap modify {dn!r}: success" in lines
    assert f"ldap modrdn {dn!r}: success" in lines
    assert f"ldap delete {moved!r}: success" in lines
    assert any(line.startswith(f"ldap delete {dn!r}: No such object") for line in lines)
    assert any(line.startswith("ldap search ") and "entries" in line for line in lines)
    text = "\n".join(lines)
    for secret in (slapd.password, "secret-sn", "secret-title"):
        assert secret not in text
