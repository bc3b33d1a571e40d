"""Storage of tenants, directory objects, memberships and the change log.

``Store`` holds every query and the public methods that are the narrow interface the service
logic uses (no SQL outside this module and its PostgreSQL backend); a backend supplies only
connections, transactions and the dialect: ``SqliteStore`` here (standard library sqlite3, one
connection behind a lock) and ``PostgresStore`` in ``clouddir.store_postgres`` (psycopg 3).
``open_store(url)`` picks one by URL.

Every method takes the tenant explicitly and every query filters on it (or on integer sequence
numbers, which are global and only reachable through a tenant-filtered lookup), so confinement
to a tenant is a property of the store, not of each caller. Memberships are one row per edge
(group, member) keyed by the objects' sequence numbers; the change log holds one row per changed
object and per added or removed edge, which is what delta import reads.

The SQL is the dialect SQLite and PostgreSQL share, with ``?`` placeholders and ``IN ({ids})``
for list lookups (the backend expands it: ``?`` lists on SQLite, one array on PostgreSQL).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clouddir import storage_quota

#: The schema in SQLite's words; ``clouddir.store_postgres`` translates the few that differ
#: (AUTOINCREMENT -> identity, INTEGER -> BIGINT, WITHOUT ROWID).
SCHEMA = """
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
-- Written with an upsert (ON CONFLICT on this key), which both dialects speak.
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
-- A tenant's own object quota (clouddir.quota); without a row, the server's default.
CREATE TABLE IF NOT EXISTS tenant_quotas (
    tenant_id TEXT PRIMARY KEY,
    max_objects INTEGER NOT NULL
);
-- Bytes a tenant uses, kept by every write, and its own storage quota (clouddir.storage_quota).
CREATE TABLE IF NOT EXISTS tenant_storage (
    tenant_id TEXT PRIMARY KEY, used_bytes INTEGER NOT NULL, max_bytes INTEGER);
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
    stored_bytes: int = 0  # its weight as read or written (clouddir.storage_quota)


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


class StoreError(ValueError):
    """A database URL the store cannot use: unknown scheme, unreachable server, bad path."""


_OBJECT_COLUMNS = ("seq, tenant_id, id, object_type, dn, source_anchor, sync_enabled, attributes, "
                   "member_count")
_QUARANTINE_COLUMNS = "object_seq, kind, attribute, value, replacement, conflicting_seq"
_CHANGE_COLUMNS = "usn, object_seq, kind, member_seq, object_id, object_type, dn"


def _row_to_object(row: Sequence[Any]) -> DirObject:
    return DirObject(
        seq=row[0], tenant_id=row[1], id=row[2], object_type=row[3], dn=row[4],
        source_anchor=row[5], sync_enabled=bool(row[6]), attributes=json.loads(row[7]),
        member_count=row[8], stored_bytes=storage_quota.object_weight(row[7], row[4]))


class _UnitState(threading.local):
    """The calling thread's open unit (transaction or reading): its connection and depth."""

    conn: Any = None
    depth: int = 0
    write: bool = False
    tenant: str | None = None
    #: ``prefetch``'s answers for the unit's tenant: anchors no object has, and the holder
    #: (or None) of unique values. None: nothing prefetched.
    absent_anchors: set[str] | None = None
    holders: dict[tuple[str, str], int | None] | None = None
    #: Seqs the backend handed out ahead for the batch's new objects (still valid after a
    #: rollback: a sequence never gives a number twice).
    seqs: list[int] | None = None
    storage: Any = None  # the unit's storage_quota.StorageQuota, read at its first write

    def forget(self) -> None:
        self.absent_anchors = self.holders = None


class Store:
    """The store's queries over a backend's connections.

    A unit of work (``transaction`` or ``reading``) binds one connection to the calling thread
    for its duration; a method called outside a unit borrows a connection for one statement.
    Backends implement the ``_acquire`` .. ``_select_in`` hooks and ``close``.
    """

    def __init__(self) -> None:
        self._unit_state = _UnitState()

    # --- backend hooks -----------------------------------------------------------------------

    def _acquire(self) -> Any:
        """A connection for this thread's exclusive use until ``_release``."""
        raise NotImplementedError

    def _release(self, conn: Any) -> None:
        raise NotImplementedError

    def _begin(self, conn: Any, write: bool, tenant_id: str | None) -> None:
        """Start a unit. A write unit named for a tenant must exclude every other writer of
        that tenant until it ends: the change log's USN order is then its commit order."""
        raise NotImplementedError

    def _end(self, conn: Any, commit: bool) -> None:
        raise NotImplementedError

    def _checkpoint(self, conn: Any) -> None:
        """Wait for every statement sent so far and raise the error of one that failed (a
        backend that sends statements ahead of their results)."""

    def _execute(self, conn: Any, sql: str, params: Sequence[Any]) -> Any:
        """Run one statement; the result has ``fetchone`` and ``fetchall``."""
        raise NotImplementedError

    def _wrote(self, changes: int) -> None:
        """``changes`` rows went to the change log (a measure of how much was written)."""

    def _allocate_seqs(self, count: int) -> list[int]:
        """``count`` new object seqs, ascending, or none: then ``insert`` reads each back."""
        return []

    def _execute_ints(self, conn: Any, sql: str, params: Sequence[Any],
                      values: list[int]) -> None:
        """Run ``sql`` (bound to ``params``) where ``{ints}`` is a table source whose column
        ``value`` holds ``values`` in order."""
        raise NotImplementedError

    def _select_in(self, conn: Any, sql: str, params: Sequence[Any],
                   values: list[Any]) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` (containing ``IN ({ids})``, bound after ``params``) for ``values``."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # --- units of work -----------------------------------------------------------------------

    def transaction(self, tenant_id: str | None = None) -> AbstractContextManager[None]:
        """One atomic unit; nested calls join the outer transaction. Writes to a tenant's
        objects, memberships or change log need the tenant named here: its writers then take
        turns, so the change log is never seen with a gap that fills in later."""
        return self._unit(True, tenant_id)

    def reading(self) -> AbstractContextManager[None]:
        """A consistent read of several queries (one snapshot)."""
        return self._unit(False, None)

    @contextmanager
    def _unit(self, write: bool, tenant_id: str | None) -> Iterator[None]:
        state = self._unit_state
        if state.depth:
            if write and not state.write:
                raise RuntimeError("store.transaction() inside store.reading()")
            if tenant_id is not None and state.tenant != tenant_id:
                raise RuntimeError("store.transaction() for another tenant inside a transaction")
            state.depth += 1
            try:
                yield
            finally:
                state.depth -= 1
            return
        conn = self._acquire()
        try:
            self._begin(conn, write, tenant_id)
            state.conn, state.depth, state.write, state.tenant = conn, 1, write, tenant_id
            try:
                yield
                storage_quota.flush(self)
            except BaseException:
                self._end(conn, commit=False)
                raise
            self._end(conn, commit=True)
        finally:
            state.conn, state.depth, state.write, state.tenant = None, 0, False, None
            state.forget()
            state.seqs = state.storage = None
            self._release(conn)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo one change's writes when the code in the block raises, without ending the
        batch's transaction. A failed statement is a different matter: nothing here expects
        one, and it fails the whole unit; on PostgreSQL it may be reported only by a later
        statement or at commit (statements are sent ahead of their results)."""
        conn = self._unit_state.conn
        if conn is None:
            raise RuntimeError("store.savepoint() outside store.transaction()")
        self._execute(conn, "SAVEPOINT change", ())
        mark = storage_quota.mark(self)
        try:
            yield
        except BaseException:
            self._unit_state.forget()  # it may hold what the rolled-back writes did
            storage_quota.rewind(self, mark)
            # A statement sent ahead that failed raises here (and fails the unit) rather
            # than vanish in the rollback.
            self._checkpoint(conn)
            self._execute(conn, "ROLLBACK TO SAVEPOINT change", ())
            self._execute(conn, "RELEASE SAVEPOINT change", ())
            raise
        self._execute(conn, "RELEASE SAVEPOINT change", ())

    def _writing(self, tenant_id: str) -> None:
        """Refuse a tenant write outside ``transaction(tenant_id)``: on PostgreSQL it would
        not hold the tenant's write lock, and a delta reader could miss its changes."""
        state = self._unit_state
        if not (state.depth and state.write and state.tenant == tenant_id):
            raise RuntimeError("a tenant's data is written only inside "
                               "store.transaction(tenant_id)")

    # --- statements --------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        conn = self._unit_state.conn
        if conn is not None:
            yield conn
            return
        conn = self._acquire()
        try:
            yield conn
        finally:
            self._release(conn)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._connection() as conn:
            return self._execute(conn, sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self._connection() as conn:
            return self._execute(conn, sql, params).fetchone()

    def _run(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._connection() as conn:
            self._execute(conn, sql, params)

    def _run_ints(self, sql: str, params: Sequence[Any], values: list[int]) -> None:
        with self._connection() as conn:
            self._execute_ints(conn, sql, params, values)

    def _rows_in(self, sql: str, values: Iterable[Any],
                 params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        values = list(values)
        if not values:
            return []
        with self._connection() as conn:
            return self._select_in(conn, sql, params, values)

    # --- look-ahead for a batch ------------------------------------------------------------------

    def prefetch(self, tenant_id: str, anchors: Iterable[str],
                 unique: Iterable[tuple[str, str]], new_objects: int = 0) -> None:
        """Inside ``transaction(tenant_id)``: learn in two queries which of ``anchors`` no
        object has and who holds each (kind, value) of ``unique``, so that ``find_by_anchor``
        and ``unique_holder`` answer those without a round trip each (an export batch asks
        five or six per object). Exact because the tenant's writers take turns and this
        transaction's own writes keep the answers up to date; forgotten when a savepoint
        rolls back or the unit ends. ``new_objects``: how many objects the batch may create;
        a backend may hand out their seqs now (``_allocate_seqs``), so that creating one
        needs no answer from the database."""
        self._writing(tenant_id)
        wanted = list(dict.fromkeys(a for a in anchors if a))
        present = {r[0] for r in self._rows_in(
            "SELECT source_anchor FROM objects WHERE tenant_id = ? AND source_anchor IN ({ids})",
            wanted, (tenant_id,))}
        pairs = set(unique)
        found = {(r[0], r[1]): r[2] for r in self._rows_in(
            "SELECT kind, value, object_seq FROM unique_values WHERE tenant_id = ? AND "
            "value IN ({ids})", {value for _kind, value in pairs}, (tenant_id,))}
        state = self._unit_state
        state.absent_anchors = {a for a in wanted if a not in present}
        state.holders = {pair: found.get(pair) for pair in pairs}
        state.seqs = self._allocate_seqs(new_objects)[::-1]  # pop() takes the lowest

    def _prefetched(self, tenant_id: str) -> _UnitState | None:
        state = self._unit_state
        return state if state.tenant == tenant_id and state.depth else None

    # --- tenants and batches -----------------------------------------------------------------

    def create_tenant(self, name: str, token_hash: str) -> Tenant:
        tenant = Tenant(id=str(uuid.uuid4()), name=name)
        with self.transaction():
            self._run("INSERT INTO tenants (id, name, token_hash) VALUES (?, ?, ?)",
                      (tenant.id, name, token_hash))
        return tenant

    def tenant_by_token_hash(self, token_hash: str) -> Tenant | None:
        row = self._one("SELECT id, name FROM tenants WHERE token_hash = ?", (token_hash,))
        return Tenant(id=row[0], name=row[1]) if row else None

    def batch_response(self, tenant_id: str, batch_id: str) -> str | None:
        row = self._one("SELECT response FROM batches WHERE tenant_id = ? AND batch_id = ?",
                        (tenant_id, batch_id))
        return row[0] if row else None

    def save_batch(self, tenant_id: str, batch_id: str, api: str, response: str) -> None:
        self._writing(tenant_id)
        self._run("INSERT INTO batches (tenant_id, batch_id, api, response) VALUES (?, ?, ?, ?)",
                  (tenant_id, batch_id, api, response))

    # --- objects -------------------------------------------------------------------------------

    def get(self, tenant_id: str, object_id: str) -> DirObject | None:
        row = self._one(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? AND id = ?",
                        (tenant_id, object_id))
        return _row_to_object(row) if row else None

    def get_by_seq(self, tenant_id: str, seq: int) -> DirObject | None:
        row = self._one(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? AND seq = ?",
                        (tenant_id, seq))
        return _row_to_object(row) if row else None

    def get_many_by_seq(self, tenant_id: str, seqs: Sequence[int]) -> dict[int, DirObject]:
        rows = self._rows_in(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? "
                             "AND seq IN ({ids})", dict.fromkeys(seqs), (tenant_id,))
        return {row[0]: _row_to_object(row) for row in rows}

    def find_by_anchor(self, tenant_id: str, source_anchor: str) -> DirObject | None:
        known = self._prefetched(tenant_id)
        if known and known.absent_anchors and source_anchor in known.absent_anchors:
            return None
        row = self._one(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? AND "
                        "source_anchor = ?", (tenant_id, source_anchor))
        return _row_to_object(row) if row else None

    def page_objects(self, tenant_id: str, after_seq: int, limit: int) -> list[DirObject]:
        rows = self._rows(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? AND "
                          "seq > ? ORDER BY seq LIMIT ?", (tenant_id, after_seq, limit))
        return [_row_to_object(r) for r in rows]

    def groups_above(self, tenant_id: str, member_count: int) -> list[DirObject]:
        """The tenant's groups with more than ``member_count`` members (those API v1 cannot
        hold), in creation order."""
        rows = self._rows(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? AND "
                          "object_type = 'group' AND member_count > ? ORDER BY seq",
                          (tenant_id, member_count))
        return [_row_to_object(r) for r in rows]

    def list_objects(self, tenant_id: str, object_type: str, after_seq: int,
                     limit: int) -> list[DirObject]:
        rows = self._rows(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? AND "
                          "object_type = ? AND seq > ? ORDER BY seq LIMIT ?",
                          (tenant_id, object_type, after_seq, limit))
        return [_row_to_object(r) for r in rows]

    def resolve_ids(self, tenant_id: str, ids: Iterable[str]) -> dict[str, int]:
        """Object id -> seq for the ids the tenant has."""
        rows = self._rows_in("SELECT id, seq FROM objects WHERE tenant_id = ? AND id IN ({ids})",
                             dict.fromkeys(ids), (tenant_id,))
        return dict(rows)

    def resolve_dns(self, tenant_id: str, dns: Iterable[str]) -> dict[str, int]:
        """DN (case-insensitive) -> seq for the DNs the tenant has."""
        rows = self._rows_in("SELECT lower(dn), seq FROM objects WHERE tenant_id = ? "
                             "AND lower(dn) IN ({ids})", dict.fromkeys(dn.lower() for dn in dns),
                             (tenant_id,))
        return dict(rows)

    def _live_or_deleted(self, tenant_id: str, seqs: Iterable[int], live: str,
                         deleted: str) -> dict[int, tuple[Any, ...]]:
        """seq -> the ``live`` columns of live objects and, failing that, the ``deleted``
        columns of their delete record in the change log."""
        wanted = list(dict.fromkeys(seqs))
        found = {r[0]: r[1:] for r in self._rows_in(
            f"SELECT seq, {live} FROM objects WHERE tenant_id = ? AND seq IN ({{ids}})",
            wanted, (tenant_id,))}
        missing = [s for s in wanted if s not in found]
        found.update((r[0], r[1:]) for r in self._rows_in(
            f"SELECT object_seq, {deleted} FROM changes WHERE tenant_id = ? AND kind = 'd' "
            "AND object_seq IN ({ids})", missing, (tenant_id,)))
        return found

    def dns_of(self, tenant_id: str, seqs: Iterable[int]) -> dict[int, str]:
        """seq -> DN, for live objects and, failing that, from their delete record."""
        return {seq: row[0] for seq, row in
                self._live_or_deleted(tenant_id, seqs, "dn", "dn").items()}

    def refs_of(self, tenant_id: str, seqs: Iterable[int]) -> dict[int, tuple[str, str]]:
        """seq -> (id, object_type), for live objects and, failing that, deleted ones."""
        return {seq: (row[0], row[1]) for seq, row in self._live_or_deleted(
            tenant_id, seqs, "id, object_type", "object_id, object_type").items()}

    def insert(self, obj: DirObject) -> DirObject:
        self._writing(obj.tenant_id)
        obj.id = obj.id or str(uuid.uuid4())
        values = (obj.tenant_id, obj.id, obj.object_type, obj.dn, obj.source_anchor,
                  int(obj.sync_enabled), json.dumps(obj.attributes))
        storage_quota.object_written(self, obj, values[-1], new=True)
        known = self._prefetched(obj.tenant_id)
        if known and known.seqs:
            obj.seq = known.seqs.pop()
            self._run("INSERT INTO objects (seq, tenant_id, id, object_type, dn, source_anchor, "
                      "sync_enabled, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      (obj.seq, *values))
        else:
            row = self._one(
                "INSERT INTO objects (tenant_id, id, object_type, dn, source_anchor, "
                "sync_enabled, attributes) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq", values)
            assert row is not None
            obj.seq = row[0]
        self._anchor_taken(obj)
        return obj

    def _anchor_taken(self, obj: DirObject) -> None:
        known = self._prefetched(obj.tenant_id)
        if known and known.absent_anchors is not None:
            known.absent_anchors.discard(obj.source_anchor)  # type: ignore[arg-type]

    def update(self, obj: DirObject) -> None:
        self._writing(obj.tenant_id)
        self._anchor_taken(obj)
        storage_quota.object_written(self, obj, text := json.dumps(obj.attributes), new=False)
        self._run("UPDATE objects SET dn = ?, source_anchor = ?, sync_enabled = ?, "
                  "attributes = ? WHERE tenant_id = ? AND seq = ?",
                  (obj.dn, obj.source_anchor, int(obj.sync_enabled), text, obj.tenant_id, obj.seq))

    def delete(self, obj: DirObject) -> None:
        """Remove the object, its edges on both sides (logging the removals from other groups)
        and the unique values it holds."""
        self._writing(obj.tenant_id)
        storage_quota.object_deleted(self, obj)
        groups = [r[0] for r in self._rows("SELECT group_seq FROM members WHERE member_seq = ?",
                                           (obj.seq,))]
        for group_seq in groups:
            self._run("UPDATE objects SET member_count = member_count - 1 WHERE seq = ?",
                      (group_seq,))
            self.log(obj.tenant_id, group_seq, MEMBER_REMOVED, member_seq=obj.seq)
        self._run("DELETE FROM members WHERE member_seq = ? OR group_seq = ?",
                  (obj.seq, obj.seq))
        self._run("DELETE FROM unique_values WHERE object_seq = ?", (obj.seq,))
        known = self._prefetched(obj.tenant_id)
        if known and known.holders:
            known.holders.update({pair: None for pair, seq in known.holders.items()
                                  if seq == obj.seq})
        self._run("DELETE FROM quarantine WHERE object_seq = ?", (obj.seq,))
        self._run("DELETE FROM objects WHERE seq = ?", (obj.seq,))
        self.log(obj.tenant_id, obj.seq, OBJECT_DELETED, object_id=obj.id,
                 object_type=obj.object_type, dn=obj.dn)

    # --- memberships ---------------------------------------------------------------------------

    def present_members(self, group_seq: int, member_seqs: Sequence[int]) -> set[int]:
        """Which of ``member_seqs`` are members now; reads only the rows asked about."""
        return {r[0] for r in self._rows_in(
            "SELECT member_seq FROM members WHERE group_seq = ? AND member_seq IN ({ids})",
            member_seqs, (group_seq,))}

    def member_seqs(self, group_seq: int) -> set[int]:
        return {r[0] for r in self._rows("SELECT member_seq FROM members WHERE group_seq = ?",
                                         (group_seq,))}

    def page_members(self, group_seq: int, after_seq: int, limit: int) -> list[int]:
        return [r[0] for r in self._rows(
            "SELECT member_seq FROM members WHERE group_seq = ? AND member_seq > ? "
            "ORDER BY member_seq LIMIT ?", (group_seq, after_seq, limit))]

    def page_member_rows(self, group_seq: int, after_seq: int,
                         limit: int) -> list[tuple[int, str, str, str]]:
        """(member seq, id, object type, DN) of a group's next members, in one join."""
        return [(r[0], r[1], r[2], r[3]) for r in self._rows(
            "SELECT m.member_seq, o.id, o.object_type, o.dn FROM members m JOIN objects o "
            "ON o.seq = m.member_seq WHERE m.group_seq = ? AND m.member_seq > ? "
            "ORDER BY m.member_seq LIMIT ?", (group_seq, after_seq, limit))]

    def member_dns(self, group_seq: int) -> list[str]:
        return [r[0] for r in self._rows(
            "SELECT o.dn FROM members m JOIN objects o ON o.seq = m.member_seq "
            "WHERE m.group_seq = ? ORDER BY m.member_seq", (group_seq,))]

    def add_members(self, tenant_id: str, group_seq: int, member_seqs: Sequence[int]) -> None:
        """Add edges that are not there yet (the caller filtered with ``present_members``)."""
        self._change_members(tenant_id, group_seq, member_seqs, MEMBER_ADDED)

    def remove_members(self, tenant_id: str, group_seq: int, member_seqs: Sequence[int]) -> None:
        self._change_members(tenant_id, group_seq, member_seqs, MEMBER_REMOVED)

    def _change_members(self, tenant_id: str, group_seq: int, member_seqs: Sequence[int],
                        kind: str) -> None:
        if not member_seqs:
            return
        self._writing(tenant_id)
        # One statement per table, not one per edge: a v2 change may name 15,000 members.
        members = list(member_seqs)
        delta = len(member_seqs) if kind == MEMBER_ADDED else -len(member_seqs)
        storage_quota.members_changed(self, tenant_id, delta)
        if kind == MEMBER_ADDED:
            self._run_ints("INSERT INTO members (group_seq, member_seq) SELECT ?, value "
                           "FROM {ints}", (group_seq,), members)
        else:
            self._run_ints("DELETE FROM members WHERE group_seq = ? AND member_seq IN "
                           "(SELECT value FROM {ints})", (group_seq,), members)
        self._run_ints("INSERT INTO changes (tenant_id, object_seq, kind, member_seq) "
                       "SELECT ?, ?, ?, value FROM {ints}", (tenant_id, group_seq, kind), members)
        self._wrote(len(members))
        self._run("UPDATE objects SET member_count = member_count + ? WHERE seq = ?",
                  (delta, group_seq))

    # --- unique values and quarantine ----------------------------------------------------------

    def unique_holder(self, tenant_id: str, kind: str, value: str) -> int | None:
        known = self._prefetched(tenant_id)
        if known and known.holders is not None and (kind, value) in known.holders:
            return known.holders[kind, value]
        row = self._one("SELECT object_seq FROM unique_values WHERE tenant_id = ? AND kind = ? "
                        "AND value = ?", (tenant_id, kind, value))
        return row[0] if row else None

    def unique_values_of(self, object_seq: int) -> set[tuple[str, str]]:
        return {(r[0], r[1]) for r in self._rows(
            "SELECT kind, value FROM unique_values WHERE object_seq = ?", (object_seq,))}

    def claim_unique(self, tenant_id: str, kind: str, value: str, object_seq: int) -> None:
        self._writing(tenant_id)
        self._run("INSERT INTO unique_values (tenant_id, kind, value, object_seq) VALUES "
                  "(?, ?, ?, ?)", (tenant_id, kind, value, object_seq))
        self._holder_now(tenant_id, kind, value, object_seq)

    def _holder_now(self, tenant_id: str, kind: str, value: str, seq: int | None) -> None:
        known = self._prefetched(tenant_id)
        if known and known.holders is not None:
            known.holders[kind, value] = seq

    def release_unique(self, tenant_id: str, kind: str, value: str) -> None:
        self._writing(tenant_id)
        self._run("DELETE FROM unique_values WHERE tenant_id = ? AND kind = ? AND value = ?",
                  (tenant_id, kind, value))
        self._holder_now(tenant_id, kind, value, None)

    def quarantine(self, tenant_id: str, item: Quarantined) -> None:
        self._writing(tenant_id)
        self._run("INSERT INTO quarantine (tenant_id, object_seq, kind, attribute, value, "
                  "replacement, conflicting_seq) VALUES (?, ?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT (object_seq, attribute, value) DO UPDATE SET "
                  "tenant_id = excluded.tenant_id, kind = excluded.kind, "
                  "replacement = excluded.replacement, conflicting_seq = excluded.conflicting_seq",
                  (tenant_id, item.object_seq, item.kind, item.attribute, item.value,
                   item.replacement, item.conflicting_seq))

    def quarantined_of(self, object_seq: int) -> list[Quarantined]:
        return [Quarantined(*r) for r in self._rows(
            f"SELECT {_QUARANTINE_COLUMNS} FROM quarantine WHERE object_seq = ? "
            "ORDER BY attribute, value", (object_seq,))]

    def quarantined_of_many(self, object_seqs: Sequence[int]) -> dict[int, list[Quarantined]]:
        """``quarantined_of`` for a page of objects in one query (objects without any are
        left out)."""
        found: dict[int, list[Quarantined]] = {}
        for r in self._rows_in(f"SELECT {_QUARANTINE_COLUMNS} FROM quarantine WHERE "
                               "object_seq IN ({ids}) ORDER BY object_seq, attribute, value",
                               dict.fromkeys(object_seqs)):
            found.setdefault(r[0], []).append(Quarantined(*r))
        return found

    def quarantined_waiting_for(self, tenant_id: str, kind: str, value: str) -> list[Quarantined]:
        return [Quarantined(*r) for r in self._rows(
            f"SELECT {_QUARANTINE_COLUMNS} FROM quarantine WHERE tenant_id = ? AND kind = ? AND "
            "lower(value) = ?", (tenant_id, kind, value))]

    def unquarantine(self, object_seq: int, attribute: str, value: str) -> None:
        self._run("DELETE FROM quarantine WHERE object_seq = ? AND attribute = ? AND value = ?",
                  (object_seq, attribute, value))

    # --- change log ----------------------------------------------------------------------------

    def log(self, tenant_id: str, object_seq: int, kind: str, member_seq: int | None = None,
            object_id: str | None = None, object_type: str | None = None,
            dn: str | None = None) -> None:
        self._writing(tenant_id)
        self._run("INSERT INTO changes (tenant_id, object_seq, kind, member_seq, object_id, "
                  "object_type, dn) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (tenant_id, object_seq, kind, member_seq, object_id, object_type, dn))
        self._wrote(1)

    def max_usn(self, tenant_id: str) -> int:
        row = self._one("SELECT max(usn) FROM changes WHERE tenant_id = ?", (tenant_id,))
        return (row[0] if row else None) or 0

    def changes_between(self, tenant_id: str, after_usn: int, upto_usn: int,
                        limit: int) -> list[Change]:
        return [Change(*r) for r in self._rows(
            f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE tenant_id = ? AND usn > ? AND "
            "usn <= ? ORDER BY usn LIMIT ?", (tenant_id, after_usn, upto_usn, limit))]


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


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(url: str, pool_size: int | None = None) -> Store:
    """The store a database URL names: ``sqlite:///PATH`` (or a bare path) or
    ``postgresql://USER@HOST:PORT/DB`` (``pool_size`` connections at most, PostgreSQL only).
    Raises ``StoreError`` with a message for people."""
    if url.startswith(POSTGRES_SCHEMES):
        from clouddir.store_postgres import DEFAULT_POOL_SIZE, PostgresStore

        return PostgresStore(url, pool_size or DEFAULT_POOL_SIZE)
    return SqliteStore.from_url(url)
