"""The embedded backend: the standard library's sqlite3, one connection behind a lock."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clouddir.storage.records import StoreError
from clouddir.storage.schema import SCHEMA
from clouddir.storage.store import Store


class SqliteStore(Store):
    """The embedded store. One connection, serialized by a lock: SQLite has one writer anyway,
    and the service runs request handlers in a thread pool."""

    #: Parameters per ``IN (...)`` list (SQLite's default limit is 999 in old builds).
    in_chunk = 900

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = str(path)
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False,
                                         isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the SQLite database {self.path}: {exc}") from exc
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=OFF")
        self._conn.executescript(SCHEMA)

    @classmethod
    def from_url(cls, url: str) -> SqliteStore:
        """``sqlite:///path/to/file.db`` or a bare path."""
        if url.startswith("sqlite:///"):
            return cls(url[len("sqlite:///"):])
        if "://" in url:
            raise StoreError(f"unsupported database URL scheme in {url.split('://')[0]}://...: "
                             "use sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
        return cls(url)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _acquire(self) -> sqlite3.Connection:
        self._lock.acquire()
        return self._conn

    def _release(self, conn: sqlite3.Connection) -> None:
        self._lock.release()

    def _begin(self, conn: sqlite3.Connection, write: bool, tenant_id: str | None) -> None:
        # The lock already makes this the only unit; IMMEDIATE also keeps other processes
        # (``clouddir tenant create``) from writing under it.
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def _end(self, conn: sqlite3.Connection, commit: bool) -> None:
        conn.execute("COMMIT" if commit else "ROLLBACK")

    def _execute(self, conn: sqlite3.Connection, sql: str,
                 params: Sequence[Any]) -> sqlite3.Cursor:
        return conn.execute(sql, params)

    def _execute_ints(self, conn: sqlite3.Connection, sql: str, params: Sequence[Any],
                      values: list[int]) -> None:
        conn.execute(sql.format(ints="json_each(?)"), (*params, json.dumps(values)))

    def _select_in(self, conn: sqlite3.Connection, sql: str, params: Sequence[Any],
                   values: list[Any]) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(values), self.in_chunk):
            part = values[start:start + self.in_chunk]
            statement = sql.format(ids=",".join("?" * len(part)))
            out.extend(conn.execute(statement, (*params, *part)).fetchall())
        return out
