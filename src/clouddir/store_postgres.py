"""The PostgreSQL backend of clouddir's store (psycopg 3).

``Store`` (clouddir.store) keeps every query; this module supplies what the dialects disagree
on, the way idsync's own PostgreSQL backend does (src/idsync/store/postgres.py), without
depending on it:

- ``?`` placeholders become ``%s`` outside string literals (once per distinct statement);
- ``IN ({ids})`` list lookups become ``= ANY(?)`` with one array parameter, 10,000 values per
  round trip, never prepared (a generic plan chosen while a table was small keeps scanning it
  whole once it is large);
- the schema's ``INTEGER PRIMARY KEY AUTOINCREMENT`` columns (``seq``, ``usn``) become identity
  columns, every other ``INTEGER`` a ``BIGINT``, and ``WITHOUT ROWID`` goes;
- a write unit for a tenant takes a transaction-scoped advisory lock keyed by (schema,
  tenant). A sequence hands out USNs in the order writers ask, not in the order they commit, so
  two concurrent writers of one tenant could commit usn 11 before usn 10 and a delta reader
  that saw 11 would never see 10. With the lock a tenant's writers take turns, as under
  SQLite: a USN is only visible after every lower USN of the tenant is committed. Writers of
  different tenants do not wait for each other, readers never wait;
- a reading unit is one REPEATABLE READ, READ ONLY transaction (one snapshot, like SQLite's);
- ``{ints}`` (a row source of integers, for member edges) is ``unnest(?::bigint[])``;
- a write unit runs in pipeline mode (statements whose results are not read cost no round
  trip), and ANALYZE follows each doubling of the rows written (see ``_analyze_if_grown``).

Connections come from a small pool (``pool_size``, default 4): each unit of work binds one to
its thread, a statement outside a unit borrows one. See docs/decisions/clouddir.md.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import re
import threading
from collections.abc import Sequence
from typing import Any

import psycopg

from clouddir.store import SCHEMA, Store, StoreError

#: Values per ``= ANY(array)`` round trip.
IN_CHUNK = 10_000
#: Connections per store: the handlers' thread pool overlaps round trips of several requests.
DEFAULT_POOL_SIZE = 4
#: Change-log rows written before the first ANALYZE; each next one waits for twice as many.
ANALYZE_AFTER = 1000
#: How long a unit waits for a connection or a lock before giving up (SQLite's busy timeout).
WAIT_SECONDS = 60


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


@functools.lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """``?`` -> ``%s`` and ``%`` -> ``%%`` outside string literals (``%%`` inside them too)."""
    parts = sql.replace("%", "%%").split("'")
    parts[::2] = [part.replace("?", "%s") for part in parts[::2]]
    return "'".join(parts)


@functools.lru_cache(maxsize=256)
def _any_form(sql: str) -> str:
    return to_pyformat(sql.replace("IN ({ids})", "= ANY(?)"))


@functools.lru_cache(maxsize=64)
def _ints_form(sql: str) -> str:
    return to_pyformat(sql.replace("{ints}", "unnest(?::bigint[]) AS ints(value)"))


def translate_schema(schema: str) -> list[str]:
    """The SQLite schema as PostgreSQL statements."""
    schema = re.sub(r"INTEGER PRIMARY KEY AUTOINCREMENT",
                    "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", schema)
    schema = re.sub(r"\bINTEGER\b", "BIGINT", schema)
    schema = schema.replace(") WITHOUT ROWID;", ");")
    schema = "\n".join(line for line in schema.splitlines() if not line.startswith("--"))
    return [s.strip() for s in schema.split(";") if s.strip()]


class PostgresStore(Store):
    """The store in one PostgreSQL database, or one schema of it when the URL says
    ``?options=-csearch_path%3Dname``."""

    def __init__(self, url: str, pool_size: int = DEFAULT_POOL_SIZE,
                 pipelined: bool = True) -> None:
        super().__init__()
        self.pipelined = pipelined
        self._pipeline = threading.local()
        self.url = url
        self.path = redact(url)
        self.pool_size = max(1, pool_size)
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._opened = 0
        self._pool_lock = threading.Lock()
        self._closed = False
        self._written = 0
        self._analyze_at = ANALYZE_AFTER
        conn = self._acquire()
        try:
            with conn.transaction():
                # Several processes may open a fresh database at once (a server and
                # `clouddir tenant create`); CREATE ... IF NOT EXISTS is not safe against that.
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended("
                             "'clouddir schema ' || current_schema(), 0))")
                for statement in translate_schema(SCHEMA):
                    conn.execute(statement)
        except psycopg.Error as exc:
            raise StoreError(f"cannot create clouddir's tables in {self.path}: {exc}") from exc
        finally:
            self._release(conn)

    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to {self.path}: "
                             f"{str(exc).strip().splitlines()[0]}") from exc
        conn.execute(f"SET lock_timeout = '{WAIT_SECONDS}s'")
        return conn

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    # --- the pool ------------------------------------------------------------------------

    def _acquire(self) -> psycopg.Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._pool_lock:
            grow = self._opened < self.pool_size
            if grow:
                self._opened += 1
        if grow:
            try:
                return self._connect()
            except BaseException:
                with self._pool_lock:
                    self._opened -= 1
                raise
        try:
            return self._idle.get(timeout=WAIT_SECONDS)
        except queue.Empty:
            raise StoreError(f"no free connection to {self.path} in {WAIT_SECONDS} s") from None

    def _release(self, conn: psycopg.Connection) -> None:
        if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            with contextlib.suppress(psycopg.Error):
                conn.execute("ROLLBACK")
        if conn.closed or conn.broken or self._closed:
            # A lost connection leaves the pool; the next unit opens a new one.
            conn.close()
            with self._pool_lock:
                self._opened -= 1
            return
        self._idle.put(conn)

    # --- units and statements ------------------------------------------------------------

    def _begin(self, conn: psycopg.Connection, write: bool, tenant_id: str | None) -> None:
        if not write:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return
        conn.execute("BEGIN")
        if tenant_id is not None:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended("
                         "current_schema() || '/' || %s, 0))", (tenant_id,))
        if self.pipelined:
            # A write unit sends the statements whose results nobody reads (claims, updates,
            # the change log, savepoints) without waiting for each: a round trip is paid only
            # where a result is read (about one per exported object instead of eight). A
            # failed statement raises at the next read, a refused change or the commit, and
            # fails the unit, as a database error in a change does on SQLite.
            block = conn.pipeline()
            self._pipeline.current = (block, block.__enter__())

    def _checkpoint(self, conn: psycopg.Connection) -> None:
        current = getattr(self._pipeline, "current", None)
        if current is not None:
            current[1].sync()

    def _end(self, conn: psycopg.Connection, commit: bool) -> None:
        current = getattr(self._pipeline, "current", None)
        self._pipeline.current = None
        if commit:
            conn.execute("COMMIT")
            if current is not None:
                current[0].__exit__(None, None, None)  # sends it, raises what failed
            self._analyze_if_grown(conn)
            return
        if current is not None:
            with contextlib.suppress(psycopg.Error):
                current[0].__exit__(None, None, None)
        with contextlib.suppress(psycopg.Error):
            conn.execute("ROLLBACK")

    def _wrote(self, changes: int) -> None:
        with self._pool_lock:
            self._written += changes

    def _analyze_if_grown(self, conn: psycopg.Connection) -> None:
        """Refresh the planner's statistics each time the data written doubles. A directory
        is filled from empty in bursts, faster than autovacuum notices: without statistics
        the planner reads a member or id list through a tenant-only index prefix and filters
        the whole tenant (5 ms instead of 0.2 ms per lookup at 5,000 users)."""
        with self._pool_lock:
            due = self._written >= self._analyze_at
            if due:
                self._analyze_at = 2 * self._written
        if due:
            with contextlib.suppress(psycopg.Error):  # statistics are an optimisation only
                conn.execute("ANALYZE objects, members, unique_values, changes")

    def _execute(self, conn: psycopg.Connection, sql: str,
                 params: Sequence[Any]) -> psycopg.Cursor:
        return conn.execute(to_pyformat(sql), tuple(params))

    def _execute_ints(self, conn: psycopg.Connection, sql: str, params: Sequence[Any],
                      values: list[int]) -> None:
        statement = _ints_form(sql)
        conn.execute(statement, (*params, values), prepare=False)

    def _select_in(self, conn: psycopg.Connection, sql: str, params: Sequence[Any],
                   values: list[Any]) -> list[tuple[Any, ...]]:
        statement = _any_form(sql)
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(values), IN_CHUNK):
            part = values[start:start + IN_CHUNK]
            out.extend(conn.execute(statement, (*params, part), prepare=False).fetchall())
        return out
