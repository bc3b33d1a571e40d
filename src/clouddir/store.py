"""Storage of tenants, directory objects, memberships and the change log.

``SqliteStore``'s public methods are the narrow interface the service logic uses (no SQL
outside this module), on the standard library's sqlite3. Every method takes the tenant
explicitly and every query filters on it, so confinement to a tenant is a property of the
store, not of each caller. Memberships are
one row per edge (group, member) keyed by the objects' integer sequence numbers; the change log
holds one row per changed object and per added or removed edge, which is what delta import
reads. SQL is kept to what PostgreSQL also speaks, so a ``PostgresStore`` can follow.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

#: Bound on parameters per ``IN (...)`` query (SQLite's default limit is 999 in old builds).
_CHUNK = 900

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    object_type TEXT NOT NULL,
    dn TEXT,
    source_anchor TEXT,
    sync_enabled INTEGER NOT NULL,
    attributes TEXT NOT NULL,
    member_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, id)
);
-- Paging in seq order within a tenant (import, admin listings) must not sort the tenant.
CREATE INDEX IF NOT EXISTS objects_tenant_seq ON objects (tenant_id, seq);
CREATE INDEX IF NOT EXISTS objects_tenant_type_seq ON objects (tenant_id, object_type, seq);
CREATE INDEX IF NOT EXISTS objects_anchor ON objects (tenant_id, source_anchor);
-- Member references by DN compare case-insensitively.
CREATE INDEX IF NOT EXISTS objects_ldn ON objects (tenant_id, lower(dn));
CREATE TABLE IF NOT EXISTS members (
    group_seq INTEGER NOT NULL,
    member_seq INTEGER NOT NULL,
    PRIMARY KEY (group_seq, member_seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_member ON members (member_seq);
CREATE TABLE IF NOT EXISTS unique_values (
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    object_seq INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind, value)
);
CREATE INDEX IF NOT EXISTS unique_values_object ON unique_values (object_seq);
CREATE TABLE IF NOT EXISTS quarantine (
    tenant_id TEXT NOT NULL,
    object_seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    attribute TEXT NOT NULL,
    value TEXT NOT NULL,
    replacement TEXT,
    conflicting_seq INTEGER NOT NULL,
    PRIMARY KEY (object_seq, attribute, value)
);
CREATE INDEX IF NOT EXISTS quarantine_value ON quarantine (tenant_id, kind, value);
CREATE TABLE IF NOT EXISTS changes (
    usn INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    object_seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    member_seq INTEGER,
    object_id TEXT,
    object_type TEXT,
    dn TEXT
);
CREATE INDEX IF NOT EXISTS changes_tenant ON changes (tenant_id, usn);
-- Names of deleted objects (a removed member's DN in a delta).
CREATE INDEX IF NOT EXISTS changes_deleted ON changes (tenant_id, object_seq) WHERE kind = 'd';
CREATE TABLE IF NOT EXISTS batches (
    tenant_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    api TEXT NOT NULL,
    response TEXT NOT NULL,
    PRIMARY KEY (tenant_id, batch_id)
);
"""

#: Change log kinds.
OBJECT_CREATED = "n"
OBJECT_CHANGED = "o"
OBJECT_DELETED = "d"
MEMBER_ADDED = "+"
MEMBER_REMOVED = "-"


@dataclass(slots=True)
class Tenant:
    id: str
    name: str


@dataclass(slots=True)
class DirObject:
    tenant_id: str
    id: str
    object_type: str
    dn: str | None
    source_anchor: str | None
    sync_enabled: bool
    attributes: dict[str, list[str]] = field(default_factory=dict)
    member_count: int = 0
    seq: int = 0


@dataclass(slots=True)
class Change:
    usn: int
    object_seq: int
    kind: str
    member_seq: int | None
    object_id: str | None
    object_type: str | None
    dn: str | None


@dataclass(slots=True)
class Quarantined:
    object_seq: int
    kind: str
    attribute: str
    value: str
    replacement: str | None
    conflicting_seq: int


def _row_to_object(row: sqlite3.Row) -> DirObject:
    return DirObject(
        tenant_id=row["tenant_id"], id=row["id"], object_type=row["object_type"], dn=row["dn"],
        source_anchor=row["source_anchor"], sync_enabled=bool(row["sync_enabled"]),
        attributes=json.loads(row["attributes"]), member_count=row["member_count"],
        seq=row["seq"],
    )


def _chunks(values: Sequence, size: int = _CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


class SqliteStore:
    """The embedded store. One connection, serialized by a lock: SQLite has one writer anyway,
    and the service runs request handlers in a thread pool."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=OFF")
        self._conn.executescript(_SCHEMA)
        self._depth = 0

    @classmethod
    def from_url(cls, url: str) -> SqliteStore:
        """``sqlite:///path/to/file.db`` or a bare path."""
        if url.startswith("sqlite:///"):
            return cls(url[len("sqlite:///"):])
        if "://" in url:
            raise ValueError(f"unsupported database URL {url!r} (only sqlite:/// for now)")
        return cls(url)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit; nested calls join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo one change's writes on error without ending the batch's transaction."""
        self._conn.execute("SAVEPOINT change")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK TO change")
            self._conn.execute("RELEASE change")
            raise
        else:
            self._conn.execute("RELEASE change")

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A consistent read of several queries."""
        with self._lock:
            if self._depth:
                yield
                return
            self._conn.execute("BEGIN")
            self._depth = 1
            try:
                yield
            finally:
                self._conn.execute("COMMIT")
                self._depth = 0

    def _q(self, sql: str, params: Sequence = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    # --- tenants and batches -----------------------------------------------------------------

    def create_tenant(self, name: str, token_hash: str) -> Tenant:
        tenant = Tenant(id=str(uuid.uuid4()), name=name)
        with self.transaction():
            self._q("INSERT INTO tenants (id, name, token_hash) VALUES (?, ?, ?)",
                    (tenant.id, name, token_hash))
        return tenant

    def tenant_by_token_hash(self, token_hash: str) -> Tenant | None:
        with self._lock:
            row = self._q("SELECT id, name FROM tenants WHERE token_hash = ?",
                          (token_hash,)).fetchone()
        return Tenant(id=row["id"], name=row["name"]) if row else None

    def batch_response(self, tenant_id: str, batch_id: str) -> str | None:
        row = self._q("SELECT response FROM batches WHERE tenant_id = ? AND batch_id = ?",
                      (tenant_id, batch_id)).fetchone()
        return row["response"] if row else None

    def save_batch(self, tenant_id: str, batch_id: str, api: str, response: str) -> None:
        self._q("INSERT INTO batches (tenant_id, batch_id, api, response) VALUES (?, ?, ?, ?)",
                (tenant_id, batch_id, api, response))

    # --- objects -------------------------------------------------------------------------------

    def get(self, tenant_id: str, object_id: str) -> DirObject | None:
        row = self._q("SELECT * FROM objects WHERE tenant_id = ? AND id = ?",
                      (tenant_id, object_id)).fetchone()
        return _row_to_object(row) if row else None

    def get_by_seq(self, tenant_id: str, seq: int) -> DirObject | None:
        row = self._q("SELECT * FROM objects WHERE tenant_id = ? AND seq = ?",
                      (tenant_id, seq)).fetchone()
        return _row_to_object(row) if row else None

    def get_many_by_seq(self, tenant_id: str, seqs: Sequence[int]) -> dict[int, DirObject]:
        found: dict[int, DirObject] = {}
        for chunk in _chunks(list(seqs)):
            marks = ",".join("?" * len(chunk))
            for row in self._q(f"SELECT * FROM objects WHERE tenant_id = ? AND seq IN ({marks})",
                               (tenant_id, *chunk)):
                found[row["seq"]] = _row_to_object(row)
        return found

    def find_by_anchor(self, tenant_id: str, source_anchor: str) -> DirObject | None:
        row = self._q("SELECT * FROM objects WHERE tenant_id = ? AND source_anchor = ?",
                      (tenant_id, source_anchor)).fetchone()
        return _row_to_object(row) if row else None

    def page_objects(self, tenant_id: str, after_seq: int, limit: int) -> list[DirObject]:
        rows = self._q("SELECT * FROM objects WHERE tenant_id = ? AND seq > ? ORDER BY seq "
                       "LIMIT ?", (tenant_id, after_seq, limit)).fetchall()
        return [_row_to_object(r) for r in rows]

    def list_objects(self, tenant_id: str, object_type: str, after_seq: int,
                     limit: int) -> list[DirObject]:
        rows = self._q("SELECT * FROM objects WHERE tenant_id = ? AND object_type = ? AND seq > ?"
                       " ORDER BY seq LIMIT ?",
                       (tenant_id, object_type, after_seq, limit)).fetchall()
        return [_row_to_object(r) for r in rows]

    def resolve_ids(self, tenant_id: str, ids: Iterable[str]) -> dict[str, int]:
        """Object id -> seq for the ids the tenant has."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, int] = {}
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            for row in self._q(f"SELECT id, seq FROM objects WHERE tenant_id = ? AND id IN "
                               f"({marks})", (tenant_id, *chunk)):
                found[row["id"]] = row["seq"]
        return found

    def resolve_dns(self, tenant_id: str, dns: Iterable[str]) -> dict[str, int]:
        """DN (case-insensitive) -> seq for the DNs the tenant has."""
        wanted = list(dict.fromkeys(dn.lower() for dn in dns))
        found: dict[str, int] = {}
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            for row in self._q(f"SELECT lower(dn) AS ldn, seq FROM objects WHERE tenant_id = ? "
                               f"AND lower(dn) IN ({marks})", (tenant_id, *chunk)):
                found[row["ldn"]] = row["seq"]
        return found

    def dns_of(self, tenant_id: str, seqs: Iterable[int]) -> dict[int, str]:
        """seq -> DN, for live objects and, failing that, from their delete record."""
        wanted = list(dict.fromkeys(seqs))
        found: dict[int, str] = {}
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            for row in self._q(f"SELECT seq, dn FROM objects WHERE tenant_id = ? AND seq IN "
                               f"({marks})", (tenant_id, *chunk)):
                found[row["seq"]] = row["dn"]
        missing = [s for s in wanted if s not in found]
        for chunk in _chunks(missing):
            marks = ",".join("?" * len(chunk))
            for row in self._q(f"SELECT object_seq, dn FROM changes WHERE tenant_id = ? AND "
                               f"kind = 'd' AND object_seq IN ({marks})", (tenant_id, *chunk)):
                found[row["object_seq"]] = row["dn"]
        return found

    def refs_of(self, tenant_id: str, seqs: Iterable[int]) -> dict[int, tuple[str, str]]:
        """seq -> (id, object_type), for live objects and, failing that, deleted ones."""
        wanted = list(dict.fromkeys(seqs))
        found: dict[int, tuple[str, str]] = {}
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            for row in self._q(f"SELECT seq, id, object_type FROM objects WHERE tenant_id = ? "
                               f"AND seq IN ({marks})", (tenant_id, *chunk)):
                found[row["seq"]] = (row["id"], row["object_type"])
        missing = [s for s in wanted if s not in found]
        for chunk in _chunks(missing):
            marks = ",".join("?" * len(chunk))
            for row in self._q(f"SELECT object_seq, object_id, object_type FROM changes WHERE "
                               f"tenant_id = ? AND kind = 'd' AND object_seq IN ({marks})",
                               (tenant_id, *chunk)):
                found[row["object_seq"]] = (row["object_id"], row["object_type"])
        return found

    def insert(self, obj: DirObject) -> DirObject:
        obj.id = obj.id or str(uuid.uuid4())
        cur = self._q(
            "INSERT INTO objects (tenant_id, id, object_type, dn, source_anchor, sync_enabled, "
            "attributes) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (obj.tenant_id, obj.id, obj.object_type, obj.dn, obj.source_anchor,
             int(obj.sync_enabled), json.dumps(obj.attributes)),
        )
        obj.seq = cur.lastrowid
        return obj

    def update(self, obj: DirObject) -> None:
        self._q("UPDATE objects SET dn = ?, source_anchor = ?, sync_enabled = ?, attributes = ? "
                "WHERE tenant_id = ? AND seq = ?",
                (obj.dn, obj.source_anchor, int(obj.sync_enabled), json.dumps(obj.attributes),
                 obj.tenant_id, obj.seq))

    def delete(self, obj: DirObject) -> None:
        """Remove the object, its edges on both sides (logging the removals from other groups)
        and the unique values it holds."""
        groups = [r[0] for r in self._q("SELECT group_seq FROM members WHERE member_seq = ?",
                                        (obj.seq,))]
        for group_seq in groups:
            self._q("UPDATE objects SET member_count = member_count - 1 WHERE seq = ?",
                    (group_seq,))
            self.log(obj.tenant_id, group_seq, MEMBER_REMOVED, member_seq=obj.seq)
        self._q("DELETE FROM members WHERE member_seq = ? OR group_seq = ?", (obj.seq, obj.seq))
        self._q("DELETE FROM unique_values WHERE object_seq = ?", (obj.seq,))
        self._q("DELETE FROM quarantine WHERE object_seq = ?", (obj.seq,))
        self._q("DELETE FROM objects WHERE seq = ?", (obj.seq,))
        self.log(obj.tenant_id, obj.seq, OBJECT_DELETED, object_id=obj.id,
                 object_type=obj.object_type, dn=obj.dn)

    # --- memberships ---------------------------------------------------------------------------

    def present_members(self, group_seq: int, member_seqs: Sequence[int]) -> set[int]:
        """Which of ``member_seqs`` are members now; reads only the rows asked about."""
        present: set[int] = set()
        for chunk in _chunks(list(member_seqs)):
            marks = ",".join("?" * len(chunk))
            present.update(r[0] for r in self._q(
                f"SELECT member_seq FROM members WHERE group_seq = ? AND member_seq IN ({marks})",
                (group_seq, *chunk)))
        return present

    def member_seqs(self, group_seq: int) -> set[int]:
        return {r[0] for r in self._q("SELECT member_seq FROM members WHERE group_seq = ?",
                                      (group_seq,))}

    def page_members(self, group_seq: int, after_seq: int, limit: int) -> list[int]:
        return [r[0] for r in self._q(
            "SELECT member_seq FROM members WHERE group_seq = ? AND member_seq > ? "
            "ORDER BY member_seq LIMIT ?", (group_seq, after_seq, limit))]

    def page_member_rows(self, group_seq: int, after_seq: int,
                         limit: int) -> list[tuple[int, str, str, str]]:
        """(member seq, id, object type, DN) of a group's next members, in one join."""
        return [(r[0], r[1], r[2], r[3]) for r in self._q(
            "SELECT m.member_seq, o.id, o.object_type, o.dn FROM members m JOIN objects o "
            "ON o.seq = m.member_seq WHERE m.group_seq = ? AND m.member_seq > ? "
            "ORDER BY m.member_seq LIMIT ?", (group_seq, after_seq, limit))]

    def member_dns(self, group_seq: int) -> list[str]:
        return [r[0] for r in self._q(
            "SELECT o.dn FROM members m JOIN objects o ON o.seq = m.member_seq "
            "WHERE m.group_seq = ? ORDER BY m.member_seq", (group_seq,))]

    def add_members(self, tenant_id: str, group_seq: int, member_seqs: Sequence[int]) -> None:
        """Add edges that are not there yet (the caller filtered with ``present_members``)."""
        if not member_seqs:
            return
        self._conn.executemany("INSERT INTO members (group_seq, member_seq) VALUES (?, ?)",
                               [(group_seq, m) for m in member_seqs])
        self._conn.executemany(
            "INSERT INTO changes (tenant_id, object_seq, kind, member_seq) VALUES (?, ?, '+', ?)",
            [(tenant_id, group_seq, m) for m in member_seqs])
        self._q("UPDATE objects SET member_count = member_count + ? WHERE seq = ?",
                (len(member_seqs), group_seq))

    def remove_members(self, tenant_id: str, group_seq: int, member_seqs: Sequence[int]) -> None:
        if not member_seqs:
            return
        self._conn.executemany("DELETE FROM members WHERE group_seq = ? AND member_seq = ?",
                               [(group_seq, m) for m in member_seqs])
        self._conn.executemany(
            "INSERT INTO changes (tenant_id, object_seq, kind, member_seq) VALUES (?, ?, '-', ?)",
            [(tenant_id, group_seq, m) for m in member_seqs])
        self._q("UPDATE objects SET member_count = member_count - ? WHERE seq = ?",
                (len(member_seqs), group_seq))

    # --- unique values and quarantine ----------------------------------------------------------

    def unique_holder(self, tenant_id: str, kind: str, value: str) -> int | None:
        row = self._q("SELECT object_seq FROM unique_values WHERE tenant_id = ? AND kind = ? AND "
                      "value = ?", (tenant_id, kind, value)).fetchone()
        return row[0] if row else None

    def unique_values_of(self, object_seq: int) -> set[tuple[str, str]]:
        return {(r[0], r[1]) for r in self._q(
            "SELECT kind, value FROM unique_values WHERE object_seq = ?", (object_seq,))}

    def claim_unique(self, tenant_id: str, kind: str, value: str, object_seq: int) -> None:
        self._q("INSERT INTO unique_values (tenant_id, kind, value, object_seq) VALUES "
                "(?, ?, ?, ?)", (tenant_id, kind, value, object_seq))

    def release_unique(self, tenant_id: str, kind: str, value: str) -> None:
        self._q("DELETE FROM unique_values WHERE tenant_id = ? AND kind = ? AND value = ?",
                (tenant_id, kind, value))

    def quarantine(self, tenant_id: str, item: Quarantined) -> None:
        self._q("INSERT OR REPLACE INTO quarantine (tenant_id, object_seq, kind, attribute, "
                "value, replacement, conflicting_seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (tenant_id, item.object_seq, item.kind, item.attribute, item.value,
                 item.replacement, item.conflicting_seq))

    def quarantined_of(self, object_seq: int) -> list[Quarantined]:
        return [Quarantined(r["object_seq"], r["kind"], r["attribute"], r["value"],
                            r["replacement"], r["conflicting_seq"])
                for r in self._q("SELECT * FROM quarantine WHERE object_seq = ?", (object_seq,))]

    def quarantined_waiting_for(self, tenant_id: str, kind: str, value: str) -> list[Quarantined]:
        return [Quarantined(r["object_seq"], r["kind"], r["attribute"], r["value"],
                            r["replacement"], r["conflicting_seq"])
                for r in self._q("SELECT * FROM quarantine WHERE tenant_id = ? AND kind = ? AND "
                                 "lower(value) = ?", (tenant_id, kind, value))]

    def unquarantine(self, object_seq: int, attribute: str, value: str) -> None:
        self._q("DELETE FROM quarantine WHERE object_seq = ? AND attribute = ? AND value = ?",
                (object_seq, attribute, value))

    # --- change log ----------------------------------------------------------------------------

    def log(self, tenant_id: str, object_seq: int, kind: str, member_seq: int | None = None,
            object_id: str | None = None, object_type: str | None = None,
            dn: str | None = None) -> int:
        cur = self._q("INSERT INTO changes (tenant_id, object_seq, kind, member_seq, object_id, "
                      "object_type, dn) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (tenant_id, object_seq, kind, member_seq, object_id, object_type, dn))
        return cur.lastrowid

    def max_usn(self, tenant_id: str) -> int:
        row = self._q("SELECT max(usn) FROM changes WHERE tenant_id = ?", (tenant_id,)).fetchone()
        return row[0] or 0

    def changes_between(self, tenant_id: str, after_usn: int, upto_usn: int,
                        limit: int) -> list[Change]:
        return [Change(r["usn"], r["object_seq"], r["kind"], r["member_seq"], r["object_id"],
                       r["object_type"], r["dn"])
                for r in self._q("SELECT * FROM changes WHERE tenant_id = ? AND usn > ? AND "
                                 "usn <= ? ORDER BY usn LIMIT ?",
                                 (tenant_id, after_usn, upto_usn, limit))]
