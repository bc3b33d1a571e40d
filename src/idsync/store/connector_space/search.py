"""Pages and searches over a connector space: the unit of work of a synchronization run, and
what the administrator's commands list."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from idsync.dn import normalize_dn
from idsync.error_codes import Stage
from idsync.model import CSObject
from idsync.store.connector_space.objects import COLUMNS, cs_from_row, reversed_dn
from idsync.store.database import BaseDatabase
from idsync.store.object_errors import ObjectErrorRecord


class Placeholders(StrEnum):
    """Whether a connector space search shows placeholders (DNs referenced, not imported)."""

    EXCLUDE = "exclude"
    INCLUDE = "include"
    ONLY = "only"


@dataclass(frozen=True, slots=True)
class CSQuery:
    """A connector space search: every clause given must hold (AND)."""

    dn: str | None = None
    #: the first component of the DN (``uid=ann``), under any parent
    rdn: str | None = None
    anchor: str | None = None
    #: a base DN: that object and everything under it
    subtree: str | None = None
    object_type: str | None = None
    pending_import: bool = False
    pending_export: bool = False
    export_errors: bool = False
    placeholders: Placeholders = Placeholders.EXCLUDE


#: Prefix ranges: every string that starts with P sorts in [P, P + _AFTER_COMMA) byte-wise
#: when the next character is ',' or below ('-' follows ',').
_AFTER_COMMA = "-"

_COLUMNS = ", ".join(f"c.{c.strip()}" for c in COLUMNS.split(","))


class CSSearch:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def ids_page(self, connector_id: int, after: int, limit: int, *,
                 pending_only: bool = False) -> list[int]:
        """The next page of object ids of a connector space, in id order (placeholders left
        out): the unit of work of a synchronization run."""
        pending = "AND pending_import IS NOT NULL" if pending_only else ""
        return [r[0] for r in self.db.query(
            f"SELECT id FROM cs_objects WHERE connector_id = ? AND placeholder = 0 AND id > ? "
            f"{pending} ORDER BY id LIMIT ?", (connector_id, after, limit))]

    def count(self, connector_id: int, *, pending_only: bool = False) -> int:
        pending = "AND pending_import IS NOT NULL" if pending_only else ""
        return self.db.scalar(
            f"SELECT count(*) FROM cs_objects WHERE connector_id = ? AND placeholder = 0 "
            f"{pending}", (connector_id,))

    def search(self, connector_id: int, *, dn: str | None = None, anchor: str | None = None,
               object_type: str | None = None, pending_import: bool = False,
               pending_export: bool = False, placeholders: bool = False,
               rdn: str | None = None, subtree: str | None = None,
               export_errors: bool = False, limit: int = 0) -> list[CSObject]:
        """Every object that matches (``idsync cs search``), in id order, at most ``limit``
        (0: all)."""
        query = CSQuery(dn=dn, rdn=rdn, anchor=anchor, subtree=subtree,
                        object_type=object_type, pending_import=pending_import,
                        pending_export=pending_export, export_errors=export_errors,
                        placeholders=Placeholders.INCLUDE if placeholders
                        else Placeholders.EXCLUDE)
        where, params = self._conditions(connector_id, query)
        sql = f"SELECT {_COLUMNS} FROM cs_objects c WHERE {' AND '.join(where)} ORDER BY c.id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [cs_from_row(r) for r in self.db.query(sql, params)]

    def search_page(self, connector_id: int, query: CSQuery, *, after: int | None = None,
                    limit: int = 50) -> list[CSObject]:
        """One page of a search, after the object ``after`` (keyset paging: the next page
        starts where this one ended, whatever its depth). A subtree search pages in the order of
        the reversed-DN index and an RDN search in DN order, so each page walks ``limit`` index
        entries of the range; the other searches page in id order."""
        where, params = self._conditions(connector_id, query)
        key = "c.id"
        if query.subtree:
            key = "c.dn_rev"
        elif query.rdn:
            key = f"c.dn_norm{self._as_bytes}"
        if after is not None:
            if key == "c.id":
                where.append("c.id > ?")
                params.append(after)
            else:
                column = "dn_rev" if query.subtree else "dn_norm"
                last = self.db.query_one(f"SELECT {column} FROM cs_objects WHERE id = ?",
                                         (after,))
                if last is not None:
                    where.append(f"({key}, c.id) > (?, ?)")
                    params += [last[0], after]
        order = "c.id" if key == "c.id" else f"{key}, c.id"
        sql = (f"SELECT {_COLUMNS} FROM cs_objects c WHERE {' AND '.join(where)} "
               f"ORDER BY {order} LIMIT {int(limit)}")
        return [cs_from_row(r) for r in self.db.query(sql, params)]

    @property
    def _as_bytes(self) -> str:
        # byte-wise comparisons on PostgreSQL, as its index of dn_norm holds them (0015)
        return ' COLLATE "C"' if self.db.dialect == "postgresql" else ""

    def _conditions(self, connector_id: int, query: CSQuery) -> tuple[list[str], list[Any]]:
        where = ["c.connector_id = ?"]
        params: list[Any] = [connector_id]
        if query.placeholders is Placeholders.EXCLUDE:
            where.append("c.placeholder = 0")
        elif query.placeholders is Placeholders.ONLY:
            where.append("c.placeholder = 1")
        if query.dn:
            where.append("c.dn_norm = ?")
            params.append(normalize_dn(query.dn))
        if query.anchor:
            where.append("c.anchor = ?")
            params.append(query.anchor)
        if query.object_type:
            where.append("c.object_type = ?")
            params.append(query.object_type)
        if query.pending_import:
            where.append("c.pending_import IS NOT NULL")
        if query.pending_export:
            where.append("EXISTS (SELECT 1 FROM pending_exports p WHERE p.cs_id = c.id)")
        if query.export_errors:
            where.append("c.id IN (SELECT e.cs_id FROM object_errors e "
                         "WHERE e.connector_id = ? AND e.stage = ?)")
            params += [connector_id, Stage.EXPORT]
        if query.subtree:
            base = reversed_dn(normalize_dn(query.subtree))
            # the base itself, or a DN whose reversed text goes on with ',' after the base's
            where.append(f"c.dn_rev >= ? AND c.dn_rev < ? AND (c.dn_rev = ? OR "
                         f"substr(c.dn_rev, {len(base) + 1}, 1) = ',')")
            params += [base, base + _AFTER_COMMA, base]
        if query.rdn:
            key = f"c.dn_norm{self._as_bytes}"
            rdn = normalize_dn(query.rdn)
            where.append(f"{key} >= ? AND {key} < ? AND (c.dn_norm = ? OR "
                         f"substr(c.dn_norm, {len(rdn) + 1}, 1) = ',')")
            params += [rdn, rdn + _AFTER_COMMA, rdn]
        return where, params

    def errors_of(self, cs_id: int) -> list[ObjectErrorRecord]:
        """The errors one object holds (import, sync, export), oldest first."""
        return [ObjectErrorRecord(*r) for r in self.db.query(
            "SELECT e.cs_id, k.name, c.dn, e.stage, e.code, e.detail, e.first_seen, "
            "e.last_seen, e.retry_count FROM object_errors e "
            "JOIN cs_objects c ON c.id = e.cs_id JOIN connectors k ON k.id = e.connector_id "
            "WHERE e.cs_id = ? ORDER BY e.first_seen, e.stage, e.code", (cs_id,))]
