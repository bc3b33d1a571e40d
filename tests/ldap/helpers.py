"""Small helpers for the LDAP connector tests."""

from __future__ import annotations

from typing import Any

from idsync.connectors.base import ImportBatch, ImportContext, ImportRecord
from idsync.connectors.ldap import LdapConnector, create_connector
from idsync.lab.slapd import SlapdServer


def connector(server: SlapdServer, **settings: Any) -> LdapConnector:
    return create_connector("corp", server.connector_settings(**settings),
                            {"password": server.password}, workspace="/nonexistent")


def records(batches: list[ImportBatch]) -> list[ImportRecord]:
    return [r for b in batches for r in b.records]


def full(conn: LdapConnector, batch_size: int = 1000) -> list[ImportBatch]:
    return list(conn.full_import(ImportContext(watermark=None, batch_size=batch_size)))


def delta(conn: LdapConnector, watermark: dict[str, Any]) -> list[ImportBatch]:
    return list(conn.delta_import(ImportContext(watermark=watermark)))


def person(uid: str, **extra: Any) -> dict[str, Any]:
    return {"objectClass": ["inetOrgPerson"], "uid": uid, "cn": uid.title(), "sn": "Tester",
            **extra}
