"""pytest fixtures: a real clouddir HTTP server, started as a subprocess on a free loopback
port with its own SQLite database in a temporary folder, or, when ``IDSYNC_TEST_DATABASE_URL``
names a PostgreSQL server (scripts/test.sh's PostgreSQL pass), with a fresh schema of it.

Use in a conftest.py: ``from tests.harness.clouddir_server import clouddir, clouddir_factory,
clouddir_shared  # noqa: F401``.

* ``clouddir``: a fresh tenant (``url``, ``tenant_id``, ``token``) on a server shared by the
  session's worker (servers take ~0.5 s to start; tenants are isolated, so each test still sees
  an empty directory). ``connector_settings()`` gives the cloud connector's settings and
  ``secrets()`` its secrets.
* ``clouddir_factory(**limits)``: a server of its own with lowered limits
  (``v1_member_limit=50``, ``write_budget=10``...; see ``clouddir.settings.Limits``); returns a
  ``CloudDirTenant`` on it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.harness.postgres import TEST_URL_ENV, schema_url

from idsync.lab.clouddir import LocalCloudDir

__all__ = ["CloudDirServer", "CloudDirTenant", "clouddir", "clouddir_factory",
           "clouddir_shared", "group", "make_contacts", "make_users", "members_of", "user"]
__all__ += ["clouddir_tls", "clouddir_tls_factory", "clouddir_tls_shared", "https_client",
            "register_app"]


@dataclass
class CloudDirTenant:
    server: CloudDirServer
    tenant_id: str
    token: str

    @property
    def url(self) -> str:
        return self.server.url

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers(), timeout=60, **kwargs)

    def connector_settings(self, **overrides: Any) -> dict[str, Any]:
        return {"url": self.url, "tenant_id": self.tenant_id, **overrides}

    def secrets(self) -> dict[str, str]:
        return {"token": self.token}

    # Raw sync API calls, for tests of the service itself.

    def export(self, version: int, changes: list[dict[str, Any]],
               batch_id: str | None = None) -> httpx.Response:
        with self.client() as http:
            return http.post(f"/sync/v{version}/export", json={
                "batch_id": batch_id or uuid.uuid4().hex, "changes": changes})

    def export_ok(self, version: int, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Export and return the per-object results (the request itself must succeed)."""
        response = self.export(version, changes)
        assert response.status_code == 200, response.text
        return response.json()["results"]

    def import_all(self, version: int, token: str | None = None,
                   page_size: int | None = None) -> tuple[list[dict[str, Any]], str, int]:
        """Every entry of a full (token None) or delta import, the next token, and the number
        of pages it took."""
        entries: list[dict[str, Any]] = []
        params: dict[str, Any] = {}
        if token is not None:
            params["watermark" if version == 1 else "delta_token"] = token
        if page_size:
            params["page_size"] = page_size
        pages = 0
        with self.client() as http:
            while True:
                response = http.get(f"/sync/v{version}/import", params=params)
                assert response.status_code == 200, response.text
                page = response.json()
                pages += 1
                entries += page["objects" if version == 1 else "changes"]
                if not page["more"]:
                    return entries, page["watermark" if version == 1 else "delta_token"], pages
                params = {"cursor": page["next"]}
                if page_size:
                    params["page_size"] = page_size

    def graph_create(self, collection: str, body: dict[str, Any]) -> httpx.Response:
        """Create a cloud-born object through the Graph-shaped admin API (a user gets a
        password profile, which Graph requires, unless the body names one)."""
        if collection == "users":
            body = {"passwordProfile": {"password": "Pa55-word!"}, **body}
        with self.client() as http:
            return http.post(f"/v1.0/{collection}", json=body)


class CloudDirServer(LocalCloudDir):
    """The local server with the harness's tenant helper."""

    def new_tenant(self, name: str = "contoso") -> CloudDirTenant:
        tenant_id, token = self.create_tenant(name)
        return CloudDirTenant(self, tenant_id, token)


def server_db_url() -> str | None:
    """A fresh schema of the run's PostgreSQL server (``IDSYNC_TEST_DATABASE_URL``), or None
    for SQLite. A schema per server: servers never see each other's tenants or sequences."""
    base = os.environ.get(TEST_URL_ENV)
    return schema_url(base, "cd_" + uuid.uuid4().hex[:16]) if base else None


#: A generous write budget: throttling has its own tests on their own servers.
GENEROUS = {"write_budget": 10_000_000, "write_window": 1}


def _server(folder: Path, limits: dict[str, Any], tls: bool = False) -> CloudDirServer:
    server = CloudDirServer(folder, {**GENEROUS, **limits}, server_db_url(), tls=tls)
    server.start()
    return server


def _servers(tmp_path_factory: pytest.TempPathFactory, tls: bool
             ) -> Iterator[Callable[..., CloudDirTenant]]:
    """A server of its own per call (its limits lowered), stopped at the test's end."""
    servers: list[CloudDirServer] = []

    def make(**limits: Any) -> CloudDirTenant:
        servers.append(_server(tmp_path_factory.mktemp("clouddir"), limits, tls))
        return servers[-1].new_tenant()

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def clouddir_shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudDirServer]:
    server = _server(tmp_path_factory.mktemp("clouddir"), {})
    yield server
    server.stop()


@pytest.fixture
def clouddir(clouddir_shared: CloudDirServer) -> CloudDirTenant:
    return clouddir_shared.new_tenant()


@pytest.fixture
def clouddir_factory(
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., CloudDirTenant]]:
    yield from _servers(tmp_path_factory, tls=False)


# --- sync API wire builders, for tests -------------------------------------------------


def user(ref: str, anchor: str, upn: str, **attrs: list[str]) -> dict[str, Any]:
    return {"ref": ref, "op": "add", "object_type": "user", "dn": f"CN={anchor}",
            "source_anchor": anchor, "attributes": {"userPrincipalName": [upn], **attrs}}


def group(ref: str, anchor: str, members: Any, **attrs: list[str]) -> dict[str, Any]:
    return {"ref": ref, "op": "add", "object_type": "group", "dn": f"CN={anchor}",
            "source_anchor": anchor, "attributes": {"displayName": [anchor], **attrs},
            "members": members}


def make_users(tenant: CloudDirTenant, count: int, prefix: str = "u") -> list[str]:
    ids: list[str] = []
    for start in range(0, count, 500):
        changes = [user(str(i), f"{prefix}{i}", f"{prefix}{i}@contoso.test")
                   for i in range(start, min(count, start + 500))]
        results = tenant.export_ok(2, changes)
        assert all(r["status"] == "ok" for r in results)
        ids += [r["id"] for r in results]
    return ids


def make_contacts(tenant: CloudDirTenant, count: int, prefix: str = "c") -> list[str]:
    """Cheap member objects (contacts hold no unique values) for large-group tests."""
    ids: list[str] = []
    for start in range(0, count, 500):
        changes = [{"ref": str(i), "op": "add", "object_type": "contact",
                    "dn": f"CN={prefix}{i}", "source_anchor": f"{prefix}{i}",
                    "attributes": {"displayName": [f"{prefix}{i}"]}}
                   for i in range(start, min(count, start + 500))]
        results = tenant.export_ok(2, changes)
        assert all(r["status"] == "ok" for r in results), results[:3]
        ids += [r["id"] for r in results]
    return ids


def members_of(tenant: CloudDirTenant, group_id: str) -> set[str]:
    entries, _token, _pages = tenant.import_all(2)
    found: set[str] = set()
    for entry in entries:
        if entry["id"] == group_id:
            found |= set(entry["members"]["add"])
    return found


# --- HTTPS and app registrations (the OAuth token endpoint; MSAL needs HTTPS) ------------


@pytest.fixture(scope="session")
def clouddir_tls_shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudDirServer]:
    """A server over HTTPS (its CA: ``server.ca_file``), shared by the session's worker."""
    server = _server(tmp_path_factory.mktemp("clouddir-tls"), {}, tls=True)
    yield server
    server.stop()


@pytest.fixture
def clouddir_tls(clouddir_tls_shared: CloudDirServer) -> CloudDirTenant:
    """A fresh tenant on the shared HTTPS server."""
    return clouddir_tls_shared.new_tenant()


@pytest.fixture
def clouddir_tls_factory(
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., CloudDirTenant]]:
    """Like ``clouddir_factory``, over HTTPS (e.g. ``token_lifetime=5``)."""
    yield from _servers(tmp_path_factory, tls=True)


def https_client(tenant: CloudDirTenant, token: str | None = None,
                 **kwargs: Any) -> httpx.Client:
    """An HTTP client of a tenant on an HTTPS server, trusting its CA, with ``token`` (an
    access token) or the tenant's own token."""
    return httpx.Client(base_url=tenant.url, timeout=60, verify=tenant.server.verify(),
                        headers={"Authorization": f"Bearer {token or tenant.token}"}, **kwargs)


def register_app(tenant: CloudDirTenant, name: str = "idsync",
                 certificate: Any = None) -> dict[str, Any]:
    """Register an app on the tenant (``clouddir app create --json``): ``client_id`` and
    ``secret``, or ``thumbprint`` with ``certificate`` (an ``idsync.lab.tls.AppCertificate``
    or the path of a PEM certificate)."""
    cert_file = getattr(certificate, "cert_file", certificate)
    return tenant.server.create_app(tenant.tenant_id, name, cert_file)
