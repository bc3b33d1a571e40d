"""The database under the store: connections, transactions, migrations.

The engine never writes SQL. It calls the repositories of ``idsync.store`` (connector space,
metaverse, rules, runs...), which speak the SQL that SQLite and PostgreSQL share (``ON CONFLICT``,
``RETURNING``, ``?`` placeholders that the PostgreSQL backend rewrites). A backend is one class:
how to connect, how to begin and commit, how to read the schema version. ``BaseDatabase`` holds
what both share (the query helpers and the numbered migrations); ``Database`` is SQLite,
``idsync.store.postgres.PostgresDatabase`` is PostgreSQL. See docs/decisions/store.md and
docs/decisions/postgres-store.md.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idsync.errors import ConfigurationError
from idsync.secrets.files import private_file, tighten

MIGRATION_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# A migration may ship a PostgreSQL-specific text beside the shared one: 0002_x.postgresql.sql.
DIALECT_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.([a-z]+)\.sql$")


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped with this build, in order (the shared
    text; see ``dialect_overrides``)."""
    found = []
    folder = importlib.resources.files("idsync.store") / "migrations"
    for entry in folder.iterdir():
        m = MIGRATION_FILE.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def dialect_overrides(dialect: str) -> dict[int, str]:
    """version -> the text a ``NNNN_name.<dialect>.sql`` file gives for that dialect, which
    replaces the shared text (the backend translates the shared text otherwise)."""
    out = {}
    folder = importlib.resources.files("idsync.store") / "migrations"
    for entry in folder.iterdir():
        d = DIALECT_FILE.match(entry.name)
        if d and d.group(2) == dialect:
            out[int(d.group(1))] = entry.read_text(encoding="utf-8")
    return out


class BaseDatabase:
    """What every backend shares: the query helpers over ``execute`` and the migrations."""

    dialect = "base"
    path: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:  # pragma: no cover
        raise NotImplementedError

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:  # pragma: no cover
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        return self.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.execute(sql, params).fetchone()
        return row[0] if row else None

    def query_in(self, sql: str, ids: Sequence[Any], params: Sequence[Any] = (),
                 chunk: int = 500) -> list[tuple[Any, ...]]:  # pragma: no cover
        """Run a reading ``sql`` with ``IN ({ids})`` over ``ids``, in chunks (``params`` come
        before the ids); each backend binds the list its own way."""
        raise NotImplementedError

    def execute_in(self, sql: str, ids: Sequence[Any], params: Sequence[Any] = ()) -> None:
        """Run a writing ``sql`` with ``IN ({ids})`` over ``ids``: one statement per chunk
        instead of one per id (``params`` come before the ids)."""
        for i in range(0, len(ids), 500):
            part = list(ids[i : i + 500])
            self.execute(sql.format(ids=",".join("?" * len(part))), (*params, *part))

    def insert_rows(self, table: str, columns: Sequence[str], types: Sequence[str],
                    rows: Sequence[Sequence[Any]], tail: str = "") -> list[tuple[Any, ...]]:
        """Insert many rows with a few statements, then ``tail`` (``ON CONFLICT DO NOTHING``,
        ``RETURNING id``); returns what RETURNING gives. ``types`` are the columns' SQL types
        (``INTEGER``, ``TEXT``): PostgreSQL sends each column as one array. Here: multi-row
        VALUES."""
        out: list[tuple[Any, ...]] = []
        if not rows:
            return out
        group = "(" + ",".join("?" * len(columns)) + ")"
        # Well under SQLite's 32,766 parameters per statement.
        step = max(1, 8000 // len(columns))
        for i in range(0, len(rows), step):
            part = rows[i : i + step]
            sql = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                   f"{','.join([group] * len(part))} {tail}")
            cur = self.execute(sql, [v for row in part for v in row])
            if "RETURNING" in tail:
                out.extend(cur.fetchall())
        return out

    def update_rows(self, table: str, columns: Sequence[str], types: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """``UPDATE table SET columns... WHERE id = ?`` for many rows, each row the new
        values then the id. Here: ``executemany`` (a C loop in SQLite)."""
        if rows:
            sets = ", ".join(f"{c} = ?" for c in columns)
            self.executemany(f"UPDATE {table} SET {sets} WHERE id = ?", rows)

    def delete_rows(self, table: str, columns: Sequence[str], types: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """``DELETE FROM table WHERE c1 = ? AND c2 = ? ...`` for many key rows. Here:
        ``executemany``."""
        if rows:
            where = " AND ".join(f"{c} = ?" for c in columns)
            self.executemany(f"DELETE FROM {table} WHERE {where}", rows)

    def reserve_ids(self, table: str, n: int) -> list[int]:  # pragma: no cover
        """``n`` new ids of ``table``'s ``id`` column, for rows inserted with their ids in one
        statement (a multi-row insert's RETURNING order is not defined). Call inside the
        write transaction that inserts them."""
        raise NotImplementedError

    def refresh_statistics(self) -> None:
        """Bring the planner's statistics up to date after a run changed many rows. SQLite:
        nothing (the queries are written so its planner needs none)."""

    _depth = 0
    _conn: Any
    #: Checks run just before each COMMIT; one that raises rolls the transaction back. A run
    #: holding its connector's lock adds one, so a run whose lock was taken over (its lease
    #: expired while it was paused) cannot commit another batch (idsync.locks).
    _commit_guards: tuple[Callable[[], None], ...] = ()

    def add_commit_guard(self, guard: Callable[[], None]) -> None:
        self._commit_guards = (*self._commit_guards, guard)

    def remove_commit_guard(self, guard: Callable[[], None]) -> None:
        # == not is: a bound method is a new object at each access, equal to the others.
        self._commit_guards = tuple(g for g in self._commit_guards if g != guard)

    def connect_again(self) -> BaseDatabase:  # pragma: no cover
        """A second connection to the same database (for a thread of its own)."""
        raise NotImplementedError

    def _begin(self) -> None:  # pragma: no cover
        """Open a write transaction (backends take their write lock here)."""
        raise NotImplementedError

    def _rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """One atomic unit of work; nested calls join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth = 1
        try:
            yield self
            for guard in self._commit_guards:
                guard()
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        self._depth = 0
        self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def discarded(self) -> Iterator[Any]:
        """Work that is never kept: a transaction that is always rolled back when the block
        ends, whatever happens in it (inside a transaction: a savepoint rolled back, so the
        outer work stays). Nested ``transaction()`` calls join it, so the real engine can run
        in it (idsync.administration.simulation). Sequences (PostgreSQL ids) are not rolled back."""
        if self._depth:
            self._conn.execute("SAVEPOINT idsync_discarded")
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
                # Also leaves a PostgreSQL transaction that an error aborted usable again.
                self._conn.execute("ROLLBACK TO SAVEPOINT idsync_discarded")
                self._conn.execute("RELEASE SAVEPOINT idsync_discarded")
            return
        self._begin()
        self._depth = 1
        try:
            yield self
        finally:
            self._depth = 0
            self._rollback()

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def close(self) -> None:
        self._conn.close()

    def schema_version(self) -> int:  # pragma: no cover
        raise NotImplementedError

    def translate_ddl(self, statement: str) -> str:
        """A migration statement in this backend's dialect (SQLite runs them as written)."""
        return statement

    def tables(self) -> list[str]:  # pragma: no cover
        """The user tables of the schema (for ``idsync db migrate``)."""
        raise NotImplementedError

    def integrity_check(self) -> str:
        """'ok' or what the backend's own consistency check reports."""
        return "ok"

    def migrate(self, target: int | None = None) -> list[int]:
        """Apply every migration newer than the database, each in its own transaction, and
        return the versions applied. Migrations only ever add or transform: an upgrade keeps
        every setting and object."""
        with self.transaction():
            self.execute(self.translate_ddl(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"))
        current = self.schema_version()
        shipped = migrations()
        overrides = dialect_overrides(self.dialect)
        newest = shipped[-1][0] if shipped else 0
        if current > newest:
            raise ConfigurationError(
                f"the database is at schema version {current}, newer than this idsync "
                f"({newest}); upgrade idsync before using it")
        applied = []
        for version, name, sql in shipped:
            if version <= current or (target is not None and version > target):
                continue
            with self.transaction():
                # Another process may have applied it while we waited for the write lock.
                if self.schema_version() >= version:
                    continue
                for statement in _statements(overrides.get(version, sql)):
                    self.execute(self.translate_ddl(statement))
                self.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                             (version, name, utcnow()))
            applied.append(version)
        return applied


def _reverse(text: str | None) -> str | None:
    return None if text is None else text[::-1]


class Database(BaseDatabase):
    """A SQLite database in WAL mode: many readers, one writer, crash-safe commits."""

    dialect = "sqlite"

    def reserve_ids(self, table: str, n: int) -> list[int]:
        # What SQLite itself would give (the tables have no AUTOINCREMENT): the next ids after
        # the largest; safe because the write transaction holds the database's write lock.
        start = (self.scalar(f"SELECT coalesce(max(id), 0) FROM {table}") or 0) + 1
        return list(range(start, start + n))

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._conn = self._connect()
        self._depth = 0

    def connect_again(self) -> Database:
        return Database(self.path)

    def _connect(self) -> sqlite3.Connection:
        # Owner-only whatever the umask: the database holds (sealed) secrets and every object.
        # SQLite gives its -wal and -shm files the database file's mode; tightened anyway for a
        # workspace made before.
        private_file(Path(self.path))
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=60.0,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        for suffix in ("-wal", "-shm"):
            tighten(Path(self.path + suffix))
        # NORMAL in WAL mode: a commit survives a process crash (SIGKILL); only an OS crash can
        # lose the last transactions, never corrupt the database.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("PRAGMA busy_timeout=60000")
        # PostgreSQL's reverse(), for migration 0015's backfill of cs_objects.dn_rev.
        conn.create_function("reverse", 1, _reverse, deterministic=True)
        return conn

    # --- statements ----------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def query_in(self, sql: str, ids: Sequence[Any], params: Sequence[Any] = (),
                 chunk: int = 500) -> list[tuple[Any, ...]]:
        """Run ``sql`` with ``{ids}`` replaced by placeholders, in chunks (SQLite caps them)."""
        out: list[tuple[Any, ...]] = []
        for i in range(0, len(ids), chunk):
            part = ids[i : i + chunk]
            marks = ",".join("?" * len(part))
            out.extend(self._conn.execute(sql.format(ids=marks), (*params, *part)).fetchall())
        return out

    # --- transactions --------------------------------------------------------------------

    def _begin(self) -> None:
        # IMMEDIATE takes the write lock now: one writer at a time, no upgrade deadlock.
        self._conn.execute("BEGIN IMMEDIATE")

    # --- schema --------------------------------------------------------------------------

    def schema_version(self) -> int:
        exists = self.scalar(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'")
        if not exists:
            return 0
        return self.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations") or 0

    def tables(self) -> list[str]:
        return [r[0] for r in self.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]

    def integrity_check(self) -> str:
        return self.scalar("PRAGMA quick_check")

    def backup_to(self, path: str | Path) -> None:
        """A consistent online copy of the database (SQLite's backup API)."""
        private_file(Path(path))
        dest = sqlite3.connect(str(path))
        try:
            self._conn.backup(dest)
        finally:
            dest.close()


def _statements(sql: str) -> list[str]:
    """The statements of a migration text. A trigger body (``BEGIN ... END;``) or a
    dollar-quoted function body holds semicolons of its own and stays one statement."""
    # The migrations hold no string literal with "--" in it, so a comment runs to the line's end.
    cleaned = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    out: list[str] = []
    pending = ""
    for part in cleaned.split(";"):
        pending = f"{pending};{part}" if pending else part
        text = pending.strip()
        if not text:
            pending = ""
            continue
        in_dollars = text.count("$$") % 2 == 1
        in_trigger = (re.match(r"CREATE\s+TRIGGER\b", text, re.IGNORECASE) is not None
                      and "$$" not in text and "EXECUTE FUNCTION" not in text.upper()
                      and not re.search(r"\bEND\s*$", text, re.IGNORECASE))
        if in_dollars or in_trigger:
            continue
        out.append(text)
        pending = ""
    if pending.strip():
        out.append(pending.strip())
    return out
