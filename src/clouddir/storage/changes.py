"""The change log: one row per changed object and per added or removed membership edge, in
USN order per tenant; what delta import reads. A deleted object's row keeps its id, type and
DN, so a delta can still name it (a removed member's DN)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from clouddir.storage.database import Database
from clouddir.storage.records import Change, ChangeKind

_CHANGE_COLUMNS = "usn, object_seq, kind, member_seq, object_id, object_type, dn"


class ChangeLog(Database):
    def log(self, tenant_id: str, object_seq: int, kind: ChangeKind, member_seq: int | None = None,
            object_id: str | None = None, object_type: str | None = None,
            dn: str | None = None) -> None:
        self._writing(tenant_id)
        self._run("INSERT INTO changes (tenant_id, object_seq, kind, member_seq, object_id, "
                  "object_type, dn) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (tenant_id, object_seq, kind, member_seq, object_id, object_type, dn))
        self._wrote(1)

    def _log_members(self, tenant_id: str, group_seq: int, kind: ChangeKind,
                     member_seqs: list[int]) -> None:
        """One row per edge added or removed, in one statement."""
        self._run_ints("INSERT INTO changes (tenant_id, object_seq, kind, member_seq) "
                       "SELECT ?, ?, ?, value FROM {ints}", (tenant_id, group_seq, kind),
                       member_seqs)
        self._wrote(len(member_seqs))

    def max_usn(self, tenant_id: str) -> int:
        row = self._one("SELECT max(usn) FROM changes WHERE tenant_id = ?", (tenant_id,))
        return (row[0] if row else None) or 0

    def changes_between(self, tenant_id: str, after_usn: int, upto_usn: int,
                        limit: int) -> list[Change]:
        return [Change(r[0], r[1], ChangeKind(r[2]), *r[3:]) for r in self._rows(
            f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE tenant_id = ? AND usn > ? AND "
            "usn <= ? ORDER BY usn LIMIT ?", (tenant_id, after_usn, upto_usn, limit))]

    def _deleted_rows(self, tenant_id: str, seqs: Iterable[int],
                      columns: str) -> dict[int, tuple[Any, ...]]:
        """seq -> ``columns`` of the delete record of each of ``seqs`` that has one."""
        return {r[0]: r[1:] for r in self._rows_in(
            f"SELECT object_seq, {columns} FROM changes WHERE tenant_id = ? AND kind = 'd' "
            "AND object_seq IN ({ids})", list(seqs), (tenant_id,))}
