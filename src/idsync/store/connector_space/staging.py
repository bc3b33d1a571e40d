"""The set-based writes of one import batch. A batch is staged with a fixed number of statements
whatever its size (each a round trip on PostgreSQL): load the batch's objects, compute in
Python, write in bulk."""

from __future__ import annotations

from collections.abc import Sequence

from idsync.dn import normalize_dn
from idsync.model import CSObject
from idsync.store.connector_space.objects import dumps_hologram, reversed_dn
from idsync.store.database import BaseDatabase

# update_many: the columns and their types (the hologram's "attributes" column follows when
# it is rewritten).
_UPDATE_COLUMNS = ("anchor", "dn", "dn_norm", "dn_rev", "object_type", "placeholder",
                  "pending_import")
_UPDATE_TYPES = ("TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "INTEGER", "TEXT")


class StagingRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def update_many(self, objects: Sequence[CSObject], seen_run: int | None = None, *,
                    with_attributes: set[int] | None = None) -> None:
        """Write the staged state of existing objects (links are the synchronization's and
        are left as they are); ``seen_run`` too when a full import saw them. Given
        ``with_attributes``, only those objects' hologram documents are written again (most
        updates of a confirming import only set the anchor)."""
        rewrite = [o for o in objects if with_attributes is None or o.id in with_attributes]
        keep = [o for o in objects if with_attributes is not None and o.id not in with_attributes]
        seen = ("seen_run",) if seen_run is not None else ()
        if rewrite:
            self.db.update_rows(
                "cs_objects", (*_UPDATE_COLUMNS, "attributes", *seen),
                (*_UPDATE_TYPES, "TEXT", *("INTEGER",) * len(seen)),
                [(o.anchor, o.dn, n, reversed_dn(n), o.object_type, int(o.placeholder),
                  o.pending_import, dumps_hologram(o.attributes), *(seen_run,) * len(seen), o.id)
                 for o in rewrite for n in (normalize_dn(o.dn),)])
        if keep:
            self.db.update_rows(
                "cs_objects", (*_UPDATE_COLUMNS, *seen),
                (*_UPDATE_TYPES, *("INTEGER",) * len(seen)),
                [(o.anchor, o.dn, n, reversed_dn(n), o.object_type, int(o.placeholder),
                  o.pending_import, *(seen_run,) * len(seen), o.id)
                 for o in keep for n in (normalize_dn(o.dn),)])

    def touch_seen(self, ids: Sequence[int], run_id: int) -> None:
        """``set_seen`` in one statement per 500 ids (10,000 on PostgreSQL)."""
        self.db.execute_in("UPDATE cs_objects SET seen_run = ? WHERE id IN ({ids})",
                           list(ids), (run_id,))

    def replace_join_entries(self, connector_id: int, cleared: Sequence[int],
                             rows: Sequence[tuple[str, str, int]]) -> None:
        """The join index rows of a batch: drop those of ``cleared`` objects, then add
        ``(attr key, value key, cs id)`` rows."""
        if cleared:
            self.db.execute_in("DELETE FROM join_index WHERE space = ? AND obj_id IN ({ids})",
                               list(cleared), (connector_id,))
        self.db.insert_rows("join_index", ("space", "attr", "value", "obj_id"),
                            ("INTEGER", "TEXT", "TEXT", "INTEGER"),
                            [(connector_id, a, v, i) for a, v, i in rows],
                            "ON CONFLICT DO NOTHING")
