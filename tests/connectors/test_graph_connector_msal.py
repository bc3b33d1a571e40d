"""The graph connector as an administrator wires it: `connector add --type graph` with a
certificate (or a client secret) kept as secrets, tokens from MSAL through
``create_connector``, against clouddir over HTTPS trusting its CA (`tls_ca_file`); then a
full import and a delta import run profile.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.connectors.graph_helpers import BIND, PASSWORD, user_dn
from tests.harness.clouddir_server import CloudDirServer, CloudDirTenant, server_db_url

from idsync.cli.main import build
from idsync.connectors.base import ImportContext
from idsync.connectors.graph import GraphConnector, create_connector
from idsync.connectors.graph.client import tls_verify
from idsync.connectors.graph.config import GraphSettings
from idsync.lab import tls


def cli(ws: Path, *args: str) -> Result:
    result = CliRunner().invoke(build(), ["--workspace", str(ws), *args],
                                catch_exceptions=True)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def tls_tenant(tmp_path: Path) -> Iterator[CloudDirTenant]:
    server = CloudDirServer(tmp_path / "clouddir", {"write_budget": 10_000_000,
                                                    "write_window": 1},
                            server_db_url(), tls=True)
    server.start()
    try:
        yield server.new_tenant()
    finally:
        server.stop()


def https(tenant: CloudDirTenant) -> Any:
    server: Any = tenant.server
    return tenant.client(verify=tls_verify(str(server.ca_file)))


def test_certificate_credentials_through_the_command_line(tls_tenant: CloudDirTenant,
                                                          tmp_path: Path) -> None:
    tenant = tls_tenant
    server: Any = tenant.server
    cert = tls.make_app_certificate(tmp_path / "app")
    app = server.create_app(tenant.tenant_id, "idsync", cert.cert_file)
    with https(tenant) as http:
        ann = http.post("/v1.0/users", json={
            "displayName": "ann", "mailNickname": "ann", "accountEnabled": True,
            "userPrincipalName": "ann@contoso.test", "passwordProfile": PASSWORD}).json()["id"]
    (tmp_path / "thumbprint").write_text(app["thumbprint"])
    ws = tmp_path / "ws"
    cli(ws, "init")
    cli(ws, "connector", "add", "entra", "--type", "graph",
        "--set", f"tenant_id={tenant.tenant_id}", "--set", f"client_id={app['client_id']}",
        "--set", f"authority={tenant.url}", "--set", f"graph_url={tenant.url}/v1.0",
        "--set", f"tls_ca_file={server.ca_file}",
        "--secret-file", f"certificate_key={cert.key_file}",
        "--secret-file", f"certificate_thumbprint={tmp_path / 'thumbprint'}")
    cli(ws, "run", "entra", "full-import")
    runs = json.loads(cli(ws, "runs", "list", "--json").output)
    assert runs[0]["status"] == "success", runs[0]
    with https(tenant) as http:
        bob = http.post("/v1.0/users", json={
            "displayName": "bob", "mailNickname": "bob", "accountEnabled": True,
            "userPrincipalName": "bob@contoso.test", "passwordProfile": PASSWORD}).json()["id"]
        assert http.put(f"/v1.0/users/{bob}/manager/$ref",
                        json={"@odata.id": BIND + ann}).status_code in (204, 404, 405)
    cli(ws, "run", "entra", "delta-import")
    runs = json.loads(cli(ws, "runs", "list", "--json").output)
    assert runs[0]["status"] == "success", runs[0]
    assert runs[0]["counters"].get("adds") == 1, runs[0]


def test_client_secret_through_create_connector(tls_tenant: CloudDirTenant,
                                                tmp_path: Path) -> None:
    tenant = tls_tenant
    server: Any = tenant.server
    app = server.create_app(tenant.tenant_id, "idsync")
    settings = {"tenant_id": tenant.tenant_id, "client_id": app["client_id"],
                "authority": tenant.url, "graph_url": f"{tenant.url}/v1.0",
                "tls_ca_file": str(server.ca_file)}
    assert GraphSettings.parse(settings).scope == f"{tenant.url}/.default"
    conn = create_connector("entra", settings, {"client_secret": app["secret"]},
                            str(tmp_path))
    assert isinstance(conn, GraphConnector) and app["secret"] not in repr(conn)
    conn.test_connection()
    with https(tenant) as http:
        ann = http.post("/v1.0/users", json={
            "displayName": "ann", "mailNickname": "ann", "accountEnabled": True,
            "userPrincipalName": "ann@contoso.test", "passwordProfile": PASSWORD}).json()["id"]
    record = conn.read_object(user_dn(ann), ann, ImportContext(None))
    assert record is not None and record.attributes["displayName"] == ["ann"]
    conn.close()
