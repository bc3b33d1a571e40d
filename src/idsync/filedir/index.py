"""The content index: normalized DN -> where the entry's current LDIF bytes are.

A SQLite file beside the content file (``<path>.index``), one row per entry of the directory
as it is now (content file + journal); a deleted entry has no row. ``offset``/``length`` is the
record in the content file the entry comes from (kept through renames, NULL for an entry added
since the last compaction, which has a ``seq`` instead: the order of the adds); ``image`` holds
the entry's current bytes when an export changed it since, NULL when the content file's
record is current. Compaction is then a merge in file order: copy the unchanged records' byte
ranges, write the images in their place, drop records no row descends from, append the new
entries by ``seq``.

The index is a cache: the content file plus the journal are the truth, and ``meta`` records
which versions of them the rows describe, so a stale or damaged index is rebuilt, never
trusted.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: Bump when the schema or the meaning of a row changes: older indexes are rebuilt.
INDEX_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    base TEXT NOT NULL,          -- identity of the content file the rows point into
    journal_inode INTEGER NOT NULL,
    journal_length INTEGER NOT NULL  -- committed journal bytes the rows include
);
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,        -- normalized DN
    offset INTEGER,              -- the content file record the entry comes from
    length INTEGER,
    image BLOB,                  -- current bytes, when changed since the last compaction
    seq INTEGER                  -- order of the adds since the last compaction
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_seq ON entries (seq) WHERE seq IS NOT NULL;
"""

#: SQLite's default limit on host parameters is 999 in older builds.
_CHUNK = 900


@dataclass(frozen=True, slots=True)
class IndexMeta:
    version: int
    base: str
    journal_inode: int
    journal_length: int


@dataclass(frozen=True, slots=True)
class Location:
    offset: int | None
    length: int | None
    image: bytes | None
    seq: int | None


#: (key, offset, length, image, seq)
Row = tuple[str, int | None, int | None, bytes | None, int | None]


class ContentIndex:
    """One open connection, used under the directory's lock only."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        try:
            return self._open()
        except sqlite3.DatabaseError:
            # A damaged cache is thrown away; the content file and journal rebuild it.
            remove_index(self.path)
            return self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            # Rollback journal (no -wal/-shm files beside the user's LDIF); NORMAL is safe
            # against a killed process, and a commit lost to a power cut only makes the
            # index lag the journal, which the next apply replays.
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            db.execute("SELECT count(*) FROM meta").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def close(self) -> None:
        self._db.close()

    def drop(self) -> None:
        """Forget every row (the next use rebuilds)."""
        self._db.execute("DELETE FROM meta")

    def meta(self) -> IndexMeta | None:
        row = self._db.execute("SELECT version, base, journal_inode, journal_length "
                               "FROM meta WHERE id = 1").fetchone()
        return IndexMeta(*row) if row else None

    def rebuild(self, rows: Iterable[tuple[str, int, int]], base: str, journal_inode: int,
                journal_length: int) -> None:
        """Replace every row with ``(key, offset, length)`` pointers into the content file."""
        db = self._db
        db.execute("BEGIN")
        try:
            db.execute("DELETE FROM entries")
            db.executemany("INSERT OR REPLACE INTO entries (key, offset, length) "
                           "VALUES (?, ?, ?)", rows)
            self._set_meta(base, journal_inode, journal_length)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def lookup(self, keys: Iterable[str]) -> dict[str, Location]:
        keys = list(keys)
        found: dict[str, Location] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, offset, length, image, seq in self._db.execute(
                    "SELECT key, offset, length, image, seq FROM entries "
                    f"WHERE key IN ({marks})", chunk):
                found[key] = Location(offset, length, image, seq)
        return found

    def next_seq(self) -> int:
        (last,) = self._db.execute("SELECT max(seq) FROM entries WHERE seq IS NOT NULL"
                                   ).fetchone()
        return (last or 0) + 1

    def in_file_order(self) -> Iterator[tuple[str, int, int, bytes | None]]:
        """(key, offset, length, image) of the entries that come from the content file."""
        yield from self._db.execute("SELECT key, offset, length, image FROM entries "
                                    "WHERE offset IS NOT NULL ORDER BY offset")

    def added(self) -> Iterator[tuple[str, bytes]]:
        """(key, image) of the entries added since the last compaction, in order."""
        yield from self._db.execute("SELECT key, image FROM entries WHERE offset IS NULL "
                                    "ORDER BY seq")

    def update(self, removed: Iterable[str], rows: list[Row], base: str,
               journal_inode: int, journal_length: int) -> None:
        """One transaction: drop ``removed`` keys, then store ``rows``."""
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany("DELETE FROM entries WHERE key = ?", ((k,) for k in removed))
            db.executemany("INSERT OR REPLACE INTO entries (key, offset, length, image, seq) "
                           "VALUES (?, ?, ?, ?, ?)", rows)
            self._set_meta(base, journal_inode, journal_length)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _set_meta(self, base: str, journal_inode: int, journal_length: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO meta (id, version, base, journal_inode, journal_length) "
            "VALUES (1, ?, ?, ?, ?)", (INDEX_VERSION, base, journal_inode, journal_length))


def remove_index(path: str) -> None:
    """Delete an index and SQLite's side files."""
    for name in (path, path + "-journal", path + "-wal", path + "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
