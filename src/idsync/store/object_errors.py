"""Per-object errors kept on the object until they clear: export errors (with their code,
first seen time and retry count) and synchronization rule errors."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from idsync.store.database import BaseDatabase, utcnow


@dataclass(slots=True)
class ErrorCodeCount:
    connector: str
    code: str
    objects: int


@dataclass(slots=True)
class ObjectErrorRecord:
    cs_id: int
    connector: str
    dn: str
    stage: str
    code: str
    detail: str
    first_seen: str
    last_seen: str
    retry_count: int


class ObjectErrorRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def record(self, cs_id: int, connector_id: int, stage: str, code: str, detail: str,
               run_id: int | None) -> None:
        now = utcnow()
        self.db.execute(
            "INSERT INTO object_errors (cs_id, connector_id, stage, code, detail, first_seen, "
            "last_seen, retry_count, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?) "
            "ON CONFLICT (cs_id, stage, code) DO UPDATE SET detail = excluded.detail, "
            "last_seen = excluded.last_seen, retry_count = object_errors.retry_count + 1, "
            "run_id = excluded.run_id",
            (cs_id, connector_id, stage, code, detail, now, now, run_id))

    def clear(self, cs_id: int, stage: str, *, code: str | None = None,
              keep: tuple[str, ...] = ()) -> None:
        sql = "DELETE FROM object_errors WHERE cs_id = ? AND stage = ?"
        params: list[Any] = [cs_id, stage]
        if code:
            sql += " AND code = ?"
            params.append(code)
        for k in keep:
            sql += " AND code <> ?"
            params.append(k)
        self.db.execute(sql, params)

    def clear_connector(self, connector_id: int, stage: str) -> None:
        """Every error of one stage on a connector's objects (a full import reads them all
        again)."""
        self.db.execute("DELETE FROM object_errors WHERE connector_id = ? AND stage = ?",
                        (connector_id, stage))

    def holders(self, cs_ids: Sequence[int]) -> set[int]:
        """The objects among ``cs_ids`` that hold any error: a run clears errors only on
        those, one query per batch instead of a statement per object (a round trip each on
        PostgreSQL)."""
        if not cs_ids:
            return set()
        return {r[0] for r in self.db.query_in(
            "SELECT DISTINCT cs_id FROM object_errors WHERE cs_id IN ({ids})", list(cs_ids))}

    def list(self, *, connector_id: int | None = None, stage: str | None = None,
             code: str | None = None, limit: int = 0) -> list[ObjectErrorRecord]:
        sql = ("SELECT e.cs_id, k.name, c.dn, e.stage, e.code, e.detail, e.first_seen, "
               "e.last_seen, e.retry_count FROM object_errors e "
               "JOIN cs_objects c ON c.id = e.cs_id JOIN connectors k ON k.id = e.connector_id")
        where: list[str] = []
        params: list[Any] = []
        if connector_id is not None:
            where.append("e.connector_id = ?")
            params.append(connector_id)
        if stage:
            where.append("e.stage = ?")
            params.append(stage)
        if code:
            where.append("e.code = ?")
            params.append(code)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY e.first_seen, e.cs_id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [ObjectErrorRecord(*r) for r in self.db.query(sql, params)]

    def count(self, connector_id: int, stage: str | None = None, *,
              codes: Sequence[str] | None = None, except_codes: Sequence[str] = ()) -> int:
        """Errors held by the connector's objects (``codes``: only these codes;
        ``except_codes``: not these)."""
        sql = "SELECT count(*) FROM object_errors WHERE connector_id = ?"
        params: list[Any] = [connector_id]
        if stage:
            sql += " AND stage = ?"
            params.append(stage)
        if codes is not None:
            if not codes:
                return 0
            sql += f" AND code IN ({', '.join('?' for _ in codes)})"
            params.extend(codes)
        for code in except_codes:
            sql += " AND code <> ?"
            params.append(code)
        return self.db.scalar(sql, params)

    def top_codes(self, stage: str, *, limit: int = 10) -> builtins.list[ErrorCodeCount]:
        """The most frequent error codes of a stage, per connector, most objects first (the
        overview's chart): one GROUP BY over the error rows, never the objects."""
        return [ErrorCodeCount(r[0], r[1], r[2]) for r in self.db.query(
            "SELECT k.name, e.code, count(*) FROM object_errors e "
            "JOIN connectors k ON k.id = e.connector_id WHERE e.stage = ? "
            "GROUP BY k.name, e.code ORDER BY count(*) DESC, k.name, e.code "
            f"LIMIT {int(limit)}", (stage,))]
