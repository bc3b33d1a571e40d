"""Shared by the graph connector tests: a static token source (the tenant's own bearer token,
which clouddir's Graph face takes as MSAL's tokens), a connector on a clouddir tenant, and
objects made through clouddir's Graph API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from tests.harness.clouddir_server import CloudDirTenant

from idsync.connectors.base import ImportBatch, ImportContext, ImportRecord
from idsync.connectors.graph import GraphConnector, GraphSettings

BIND = "https://graph.microsoft.com/v1.0/directoryObjects/"
#: Graph creates no user without a password.
PASSWORD = {"password": "Tests-only-Passw0rd!", "forceChangePasswordNextSignIn": False}


class StaticTokens:
    """The tenant's bearer token as the token source; ``renew`` hands out the next token of
    ``renewals`` (or the same one) and counts."""

    def __init__(self, token: str, renewals: list[str] | None = None) -> None:
        self.current = token
        self.renewals = list(renewals or [])
        self.renewed = 0

    def token(self) -> str:
        return self.current

    def renew(self) -> str:
        self.renewed += 1
        if self.renewals:
            self.current = self.renewals.pop(0)
        return self.current


def settings(tenant: CloudDirTenant, **overrides: Any) -> dict[str, Any]:
    return {"tenant_id": tenant.tenant_id, "client_id": "idsync-tests",
            "graph_url": f"{tenant.url}/v1.0", **overrides}


def connector(tenant: CloudDirTenant, tokens: StaticTokens | None = None,
              **overrides: Any) -> GraphConnector:
    return GraphConnector("entra", GraphSettings.parse(settings(tenant, **overrides)),
                          tokens or StaticTokens(tenant.token))


def run(batches: Iterator[ImportBatch]) -> list[ImportBatch]:
    return list(batches)


def full(conn: GraphConnector) -> list[ImportBatch]:
    return run(conn.full_import(ImportContext(None)))


def delta(conn: GraphConnector, watermark: dict[str, Any] | None) -> list[ImportBatch]:
    return run(conn.delta_import(ImportContext(watermark)))


def records(batches: list[ImportBatch]) -> list[ImportRecord]:
    return [r for b in batches for r in b.records]


def by_anchor(batches: list[ImportBatch]) -> dict[str, list[ImportRecord]]:
    out: dict[str, list[ImportRecord]] = {}
    for record in records(batches):
        out.setdefault(record.anchor or "", []).append(record)
    return out


def new_user(http: httpx.Client, name: str, **extra: Any) -> str:
    response = http.post("/v1.0/users", json={
        "displayName": name, "mailNickname": name, "userPrincipalName": f"{name}@contoso.test",
        "accountEnabled": True, "passwordProfile": PASSWORD, **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def new_group(http: httpx.Client, name: str, members: list[str]) -> str:
    response = http.post("/v1.0/groups", json={
        "displayName": name, "mailNickname": name, "securityEnabled": True,
        "mailEnabled": False, "members@odata.bind": [BIND + m for m in members[:20]]})
    assert response.status_code == 201, response.text
    group_id = str(response.json()["id"])
    add_members(http, group_id, members[20:])
    return group_id


def add_members(http: httpx.Client, group_id: str, members: list[str]) -> None:
    for start in range(0, len(members), 20):
        response = http.patch(f"/v1.0/groups/{group_id}", json={
            "members@odata.bind": [BIND + m for m in members[start:start + 20]]})
        assert response.status_code == 204, response.text


def user_dn(object_id: str) -> str:
    return f"CN={object_id},OU=Users"


def group_dn(object_id: str) -> str:
    return f"CN={object_id},OU=Groups"
