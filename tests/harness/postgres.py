"""A real, private PostgreSQL on 127.0.0.1 for the store tests (Debian package ``postgresql``).

``start_postgres(folder)`` runs initdb into a temp folder and pg_ctl on a free loopback port;
as root the server runs as the ``postgres`` user (postgres refuses root). Durability is off
(fsync, full_page_writes): the tests check behaviour, not crash recovery of PostgreSQL itself.
JIT is off: compiling a plan costs more than the tests' small queries ever save.

Each test workspace gets its own schema of one database (``prepare_workspace``), named in the
URL's ``options=-csearch_path=...``, so workspaces never see each other and creating one costs a
``CREATE SCHEMA`` instead of a ``CREATE DATABASE``.

The whole suite runs on PostgreSQL when ``IDSYNC_TEST_DATABASE_URL`` names a server the tests
may create schemas in (scripts/test.sh's second pass starts one with ``python -m
tests.harness.postgres start DIR``): tests/conftest.py calls ``prepare_workspace`` for every
workspace a test opens. Without it they run on SQLite; the tests of tests/store that take
``postgres_schema`` run on PostgreSQL regardless (on a private server of their own).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

TEST_URL_ENV = "IDSYNC_TEST_DATABASE_URL"


def _bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not versions:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql)")
    return versions[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    folder: Path
    port: int
    user: str = "postgres"
    database: str = "postgres"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def stop(self) -> None:
        _run_as([str(_bindir() / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                 "stop"], check=False)


def _as_postgres() -> bool:
    return os.geteuid() == 0


def _run_as(cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    if _as_postgres():
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def start_postgres(folder: Path) -> PostgresServer:
    """initdb + pg_ctl start on a free loopback port; returns when it accepts connections."""
    folder.mkdir(parents=True, exist_ok=True)
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir(exist_ok=True)
    if _as_postgres():
        pw = pwd.getpwnam("postgres")
        for p in (folder, sockets):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    bindir = _bindir()
    _run_as([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync"])
    for _attempt in range(5):
        port = _free_port()
        options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                   "-c shared_buffers=128MB -c jit=off")
        done = _run_as([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"),
                        "-o", options, "-w", "-t", "60", "start"], check=False)
        if done.returncode == 0:
            return PostgresServer(folder, port)
    log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
    raise RuntimeError(f"PostgreSQL did not start: {done.stderr}\n{log[-2000:]}")


def schema_url(base_url: str, schema: str) -> str:
    """The URL of one schema of the database at ``base_url`` (creating the schema)."""
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options={quote(f'-csearch_path={schema}')}"


def prepare_workspace(path: Path, base_url: str | None = None) -> str | None:
    """Point a test workspace at a fresh schema of the test PostgreSQL server, when the run
    asks for one (``IDSYNC_TEST_DATABASE_URL``) or ``base_url`` is given; None otherwise."""
    from idsync.store import write_workspace_config

    base = base_url or os.environ.get(TEST_URL_ENV)
    if not base:
        return None
    url = schema_url(base, "ws_" + uuid.uuid4().hex[:16])
    write_workspace_config(path, url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for this test session: the one the run names, or a private one
    (in its own temp folder: the postgres user cannot enter pytest's 0700 basetemp)."""
    given = os.environ.get(TEST_URL_ENV)
    if given:
        yield given
        return
    folder = Path(tempfile.mkdtemp(prefix="idsync-pg-"))
    server = start_postgres(folder)
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_schema(postgres_url: str) -> str:
    """A fresh, empty schema: its URL."""
    return schema_url(postgres_url, "t_" + uuid.uuid4().hex[:16])


def main(argv: list[str]) -> int:
    """``python -m tests.harness.postgres start DIR`` prints the URL of a new server;
    ``stop DIR`` stops it."""
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python -m tests.harness.postgres start|stop DIR", file=sys.stderr)
        return 2
    # The folder (and its parents) must be enterable by the postgres user: use one under /tmp.
    folder = Path(argv[1]).resolve()
    if argv[0] == "start":
        print(start_postgres(folder).url)
    else:
        PostgresServer(folder, 0).stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
