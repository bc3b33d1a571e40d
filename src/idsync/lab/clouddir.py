"""A local clouddir server for the demo, benchmarks and tests: ``clouddir serve`` started as a
subprocess on a free loopback port with its own SQLite database, or with the PostgreSQL
database (usually one fresh schema of a server) that ``db_url`` names.

It drives clouddir only from the outside, as an administrator would: ``clouddir serve`` and
``clouddir tenant create`` as subprocesses and HTTP, so idsync imports nothing of clouddir.

With ``tls=True`` it serves HTTPS (a CA and a server certificate for 127.0.0.1 from
``idsync.lab.tls``; ``ca_file`` is the CA to trust), as MSAL needs of an authority."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from idsync.lab.tls import TlsMaterial, make_tls_material

#: The clouddir command line, run by the interpreter running idsync (clouddir is installed
#: beside it), so the lab never depends on ``clouddir`` being on PATH.
CLOUDDIR = (sys.executable, "-m", "clouddir.cli")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalCloudDir:
    workdir: Path
    limits: dict[str, Any] = field(default_factory=dict)
    #: ``postgresql://...`` to serve from PostgreSQL; None: ``clouddir.db`` in ``workdir``.
    db_url: str | None = None
    url: str = ""
    process: subprocess.Popen[bytes] | None = None
    #: Serve HTTPS (``url`` is then https://...; trust ``ca_file``).
    tls: bool = False
    tls_material: TlsMaterial | None = None

    @property
    def ca_file(self) -> Path | None:
        """The CA that signed the server's certificate (None over plain HTTP)."""
        return self.tls_material.ca_file if self.tls_material else None

    def verify(self) -> ssl.SSLContext | bool:
        """What an HTTP client verifies the server with (``httpx``'s ``verify``)."""
        if self.ca_file is None:
            return True
        return ssl.create_default_context(cafile=str(self.ca_file))

    @property
    def db_path(self) -> Path:
        return self.workdir / "clouddir.db"

    @property
    def database(self) -> str:
        """The database URL the server is started with."""
        return self.db_url or f"sqlite:///{self.db_path}"

    def start(self) -> None:
        for _attempt in range(3):
            port = free_port()
            cmd = [*CLOUDDIR, "serve", "--host", "127.0.0.1",
                   "--port", str(port), "--db", self.database]
            for name, value in self.limits.items():
                cmd += ["--limit", f"{name}={value}"]
            scheme = "http"
            if self.tls:
                if self.tls_material is None:
                    self.tls_material = make_tls_material(self.workdir / "tls", ["127.0.0.1"])
                cmd += ["--tls-cert", str(self.tls_material.cert_file),
                        "--tls-key", str(self.tls_material.key_file)]
                scheme = "https"
            log = open(self.workdir / f"server-{port}.log", "wb")  # noqa: SIM115
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
            self.url = f"{scheme}://127.0.0.1:{port}"
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f"clouddir did not start; see logs in {self.workdir}")

    def _wait_ready(self, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        verify = self.verify()
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False  # exited: port taken or a crash
            try:
                answer = httpx.get(f"{self.url}/health", timeout=1, verify=verify)
                if answer.status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        return False

    def create_tenant(self, name: str = "contoso") -> tuple[str, str]:
        """A new tenant: (tenant id, bearer token), from ``clouddir tenant create --json``."""
        proc = subprocess.run([*CLOUDDIR, "tenant", "create", name, "--db", self.database,
                               "--json"], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"clouddir tenant create failed ({proc.returncode}): "
                               f"{proc.stderr.strip()[-2000:]}")
        created = json.loads(proc.stdout)
        return str(created["tenant_id"]), str(created["token"])

    def create_app(self, tenant_id: str, name: str,
                   certificate: Path | None = None) -> dict[str, Any]:
        """Register an app (``clouddir app create --json``): ``client_id``, ``tenant_id``,
        ``thumbprint`` (with ``certificate``, a PEM file) or ``secret`` (without)."""
        cmd = [*CLOUDDIR, "app", "create", tenant_id, "--name", name, "--db", self.database,
               "--json"]
        if certificate is not None:
            cmd += ["--certificate", str(certificate)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"clouddir app create failed ({proc.returncode}): "
                               f"{proc.stderr.strip()[-2000:]}")
        created: dict[str, Any] = json.loads(proc.stdout)
        return created

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
