"""The ground floor of clouddir's storage: units of work over a backend's connections.

``Database`` binds one connection to the calling thread for a unit of work (``transaction``
or ``reading``), runs statements, and declares the hooks a backend implements (SQLite in
``clouddir.storage.sqlite``, PostgreSQL in ``clouddir.storage.postgres``). The repositories
(``clouddir.storage.tenants`` .. ``quotas``) hold the queries, on top of it; ``Store``
(``clouddir.storage.store``) is all of them together.

The SQL is the dialect SQLite and PostgreSQL share, with ``?`` placeholders and ``IN ({ids})``
for list lookups (the backend expands it: ``?`` lists on SQLite, one array on PostgreSQL).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any


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
    storage: Any = None  # the unit's quotas.StorageQuota, read at its first write

    def forget(self) -> None:
        self.absent_anchors = self.holders = None


class Database:
    """Units of work and statements over a backend's connections.

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

    # --- what a unit's repositories keep (the storage quota overrides these) -------------------

    def _committing(self) -> None:
        """At the end of a write unit, before its commit."""

    def _savepoint_mark(self) -> Any:
        """What ``_savepoint_rewind`` needs to undo the unit's bookkeeping since now."""
        return None

    def _savepoint_rewind(self, mark: Any) -> None:
        """A savepoint rolled back: undo the bookkeeping since ``_savepoint_mark``."""

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
                self._committing()
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
        mark = self._savepoint_mark()
        try:
            yield
        except BaseException:
            self._unit_state.forget()  # it may hold what the rolled-back writes did
            self._savepoint_rewind(mark)
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

    def _prefetched(self, tenant_id: str) -> _UnitState | None:
        state = self._unit_state
        return state if state.tenant == tenant_id and state.depth else None
