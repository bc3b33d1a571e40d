"""The whole suite runs on SQLite and, when ``IDSYNC_TEST_DATABASE_URL`` names a PostgreSQL
server (scripts/test.sh's second pass), on PostgreSQL.

On the PostgreSQL pass every idsync workspace a test opens without naming a database (no
``database`` argument, no ``IDSYNC_DATABASE_URL``, no ``database:`` in its workspace.yaml, no
``idsync.db`` file yet) first gets a fresh schema of the server (``prepare_workspace``: a new
``ws_...`` schema named in ``<workspace>/workspace.yaml``). The hook sits in
``idsync.store.configured_database``, which ``Store.open`` (and so every in-process command,
CliRunner included) consults; an ``idsync`` subprocess that opens the same folder afterwards
reads the yaml and uses the same schema. A test that opens a SQLite store in process, or leaves
an ``idsync.db`` in its tmp_path, fails on this pass: nothing silently stays on SQLite.

Tests about SQLite itself are marked ``sqlite_only`` (with the reason next to the marker):
they are not skipped on the PostgreSQL pass, they run there on SQLite (the fixture drops
``IDSYNC_TEST_DATABASE_URL`` for them, so the harness helpers prepare nothing either).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.harness.postgres import TEST_URL_ENV, prepare_workspace

import idsync.store as idsync_store
from idsync.store.postgres import is_postgres_url, redact

SQLITE_ONLY = "sqlite_only"


@pytest.fixture(autouse=True)
def _workspace_database(request: pytest.FixtureRequest,
                        monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    base = os.environ.get(TEST_URL_ENV)
    if not base:
        yield
        return
    if request.node.get_closest_marker(SQLITE_ONLY):
        monkeypatch.delenv(TEST_URL_ENV)
        yield
        return

    original = idsync_store.configured_database
    original_open = idsync_store.open_database
    sqlite_opened: list[str] = []

    def configured_database(workspace: str | Path) -> str | None:
        url = original(workspace)
        folder = Path(workspace).expanduser()
        if url is None and not (folder / idsync_store.DB_FILE).exists():
            url = prepare_workspace(folder, base)
        return url

    def open_database(url: str) -> idsync_store.BaseDatabase:
        if not is_postgres_url(url):
            sqlite_opened.append(url)
        return original_open(url)

    monkeypatch.setattr(idsync_store, "configured_database", configured_database)
    monkeypatch.setattr(idsync_store, "open_database", open_database)
    tmp = request.getfixturevalue("tmp_path") if "tmp_path" in request.fixturenames else None
    yield
    left = sorted(str(p) for p in tmp.rglob(idsync_store.DB_FILE)) if tmp else []
    if sqlite_opened or left:
        pytest.fail(f"PostgreSQL pass: this test used SQLite stores {sqlite_opened or left}; "
                    f"let the workspace open through Store.open (or mark the test "
                    f"{SQLITE_ONLY} and say why)", pytrace=False)


def pytest_sessionstart(session: pytest.Session) -> None:
    """The screenshots folder holds this run's pages only (cleared once, by the controller)."""
    from tests.harness.browser import SCREENSHOTS

    if not hasattr(session.config, "workerinput") and SCREENSHOTS.is_dir():
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    """Where the web UI's screenshots are, and how many schemas the PostgreSQL pass made (on
    the xdist controller, after the run)."""
    from tests.harness.browser import SCREENSHOTS

    if not hasattr(config, "workerinput") and SCREENSHOTS.is_dir():
        shots = len(list(SCREENSHOTS.glob("*.png")))
        terminalreporter.write_line(f"web UI screenshots ({shots}): {SCREENSHOTS}")
    base = os.environ.get(TEST_URL_ENV)
    if not base or hasattr(config, "workerinput"):
        return
    import psycopg

    try:
        with psycopg.connect(base, connect_timeout=5) as conn:
            schemas = dict(conn.execute(
                "SELECT split_part(schema_name, '_', 1), count(*) FROM "
                "information_schema.schemata WHERE schema_name ~ '^(ws|cd|t)_' "
                "GROUP BY 1").fetchall())
            stores = conn.execute(
                "SELECT count(DISTINCT table_schema) FROM information_schema.tables "
                "WHERE table_schema LIKE 'ws\\_%' AND table_name = 'schema_migrations'"
            ).fetchone()[0]
    except psycopg.Error as exc:  # a summary line, never a failure
        terminalreporter.write_line(f"PostgreSQL pass: could not count schemas: {exc}")
        return
    terminalreporter.write_line(
        f"PostgreSQL pass on {redact(base)}: {schemas.get('ws', 0)} workspace schemas "
        f"({stores} holding an idsync store), {schemas.get('cd', 0)} clouddir schemas, "
        f"{schemas.get('t', 0)} store-test schemas")


@pytest.fixture(autouse=True)
def _forget_remembered_secrets() -> Iterator[None]:
    """Every test starts with a process that remembers no secret: idsync masks each secret it
    has opened in every message it writes (idsync.secrets.redaction), so a password such as
    "secret" used by one test would mask that word in the messages the next test of the same
    worker asserts."""
    from idsync.secrets import redaction

    redaction._known.clear()
    yield
    redaction._known.clear()
