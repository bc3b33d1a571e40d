"""pytest fixtures: a real clouddir HTTP server, started as a subprocess on a free loopback
port with its own SQLite database in a temporary folder.

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
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from clouddir.auth import create_tenant
from clouddir.store import SqliteStore

__all__ = ["CloudDirServer", "CloudDirTenant", "clouddir", "clouddir_factory",
           "clouddir_shared", "group", "make_contacts", "make_users", "members_of", "user"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        """Create a cloud-born object through the Graph-shaped admin API."""
        with self.client() as http:
            return http.post(f"/v1.0/{collection}", json=body)


@dataclass
class CloudDirServer:
    workdir: Path
    limits: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    process: subprocess.Popen | None = None

    @property
    def db_path(self) -> Path:
        return self.workdir / "clouddir.db"

    def start(self) -> None:
        # Create the schema before the server opens the file, so tenants can be added at once.
        SqliteStore(self.db_path).close()
        for _attempt in range(3):
            port = _free_port()
            cmd = [sys.executable, "-m", "clouddir.cli", "serve", "--host", "127.0.0.1",
                   "--port", str(port), "--db", f"sqlite:///{self.db_path}"]
            for name, value in self.limits.items():
                cmd += ["--limit", f"{name}={value}"]
            log = open(self.workdir / f"server-{port}.log", "wb")  # noqa: SIM115
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
            self.url = f"http://127.0.0.1:{port}"
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f"clouddir did not start; see logs in {self.workdir}")

    def _wait_ready(self, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False  # exited: port taken or a crash
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        return False

    def new_tenant(self, name: str = "contoso") -> CloudDirTenant:
        store = SqliteStore(self.db_path)
        try:
            tenant, token = create_tenant(store, name)
        finally:
            store.close()
        return CloudDirTenant(self, tenant.id, token)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture(scope="session")
def clouddir_shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudDirServer]:
    # A generous write budget: throttling has its own tests on their own servers.
    server = CloudDirServer(tmp_path_factory.mktemp("clouddir"),
                            {"write_budget": 10_000_000, "write_window": 1})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clouddir(clouddir_shared: CloudDirServer) -> CloudDirTenant:
    return clouddir_shared.new_tenant()


@pytest.fixture
def clouddir_factory(
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., CloudDirTenant]]:
    servers: list[CloudDirServer] = []

    def make(**limits: Any) -> CloudDirTenant:
        limits.setdefault("write_budget", 10_000_000)
        limits.setdefault("write_window", 1)
        server = CloudDirServer(tmp_path_factory.mktemp("clouddir"), limits)
        server.start()
        servers.append(server)
        return server.new_tenant()

    yield make
    for server in servers:
        server.stop()


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
