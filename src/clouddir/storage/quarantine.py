"""Quarantine: values an object asked for that another object held (a duplicate UPN or proxy
address), kept with their replacement until the holder lets go (clouddir.uniqueness)."""

from __future__ import annotations

from collections.abc import Sequence

from clouddir.storage.database import Database
from clouddir.storage.records import Quarantined

_QUARANTINE_COLUMNS = "object_seq, kind, attribute, value, replacement, conflicting_seq"


class QuarantineRepository(Database):
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

    def _drop_quarantine_of(self, object_seq: int) -> None:
        self._run("DELETE FROM quarantine WHERE object_seq = ?", (object_seq,))
