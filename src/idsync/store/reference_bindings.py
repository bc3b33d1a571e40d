"""Which rows of a connector space's references point at given objects, and what a DN names.

The queries behind ``idsync.engine.reference_integrity``: when an import stages the delete or
the rename of an object, the references to it are dropped or moved to what its former DN
names now. Moves are a delete and an insert of ``cs_refs`` rows (``change_refs_many``), never
an UPDATE of ``target_id``: the journal triggers of migration 0003 see inserts and deletes, so
the next delta synchronization compares the lists that changed
(``idsync.store.reference_journal``).
"""

from __future__ import annotations

from collections.abc import Sequence

from idsync.model import PendingImport
from idsync.store.database import BaseDatabase

#: (holder cs id, attribute, target cs id)
RefRow = tuple[int, str, int]


class ReferenceBindings:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def referrers(self, target_ids: Sequence[int]) -> list[RefRow]:
        """Every reference row pointing at one of ``target_ids``."""
        if not target_ids:
            return []
        return [(r[0], r[1], r[2]) for r in self.db.query_in(
            "SELECT cs_id, attr, target_id FROM cs_refs WHERE target_id IN ({ids})",
            sorted(set(target_ids)))]

    def named_by(self, connector_id: int, dn_norms: Sequence[str], leaving: Sequence[int]
                 ) -> dict[str, int]:
        """normalised DN -> the object a reference naming it resolves to now: the live
        object there (none of ``leaving``), else a placeholder there. An object whose delete
        is staged is gone from the directory already. DNs naming nothing are absent."""
        if not dn_norms:
            return {}
        gone = set(leaving)
        out: dict[str, tuple[int, int]] = {}
        for dn_norm, cs_id, placeholder, pending in self.db.query_in(
                "SELECT dn_norm, id, placeholder, pending_import FROM cs_objects "
                "WHERE connector_id = ? AND dn_norm IN ({ids})", sorted(set(dn_norms)),
                (connector_id,)):
            if cs_id in gone or pending == PendingImport.DELETE:
                continue
            rank = 1 if placeholder else 0
            if dn_norm not in out or (rank, cs_id) < out[dn_norm]:
                out[dn_norm] = (rank, cs_id)
        return {k: v[1] for k, v in out.items()}

    def real(self, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` are objects, not placeholders."""
        if not ids:
            return set()
        return {r[0] for r in self.db.query_in(
            "SELECT id FROM cs_objects WHERE placeholder = 0 AND id IN ({ids})",
            sorted(set(ids)))}
