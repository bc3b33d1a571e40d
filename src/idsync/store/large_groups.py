"""What a connector space holds of its groups' size: the member count an object has now and
the one it will have once its pending export is sent, for the rollback to sync API v1 (which
refuses groups above its member limit)."""

from __future__ import annotations

from dataclasses import dataclass

from idsync.store.database import BaseDatabase

MEMBER = "member"


@dataclass(frozen=True, slots=True)
class GroupSize:
    cs_id: int
    #: members the connector space holds (what the directory confirmed)
    have: int
    #: members once the pending export is sent (pending adds and removes applied)
    after: int
    #: the pending export's kind and state, if any
    export_kind: str | None
    export_state: str | None

    @property
    def most(self) -> int:
        return max(self.have, self.after)


def linked_group_sizes(db: BaseDatabase, connector_id: int, above: int) -> list[GroupSize]:
    """Linked groups of a connector space whose member count now or after their pending export
    is above ``above``. Pending adds already held and removes not held are not counted."""
    rows = db.query(
        "SELECT c.id, "
        " (SELECT count(*) FROM cs_refs r WHERE r.cs_id = c.id AND r.attr = ?), "
        " (SELECT count(*) FROM pending_export_refs p WHERE p.cs_id = c.id AND p.attr = ? "
        "   AND p.op = 'add' AND NOT EXISTS (SELECT 1 FROM cs_refs r WHERE r.cs_id = c.id "
        "   AND r.attr = p.attr AND r.target_id = p.target_id)), "
        " (SELECT count(*) FROM pending_export_refs p WHERE p.cs_id = c.id AND p.attr = ? "
        "   AND p.op = 'remove' AND EXISTS (SELECT 1 FROM cs_refs r WHERE r.cs_id = c.id "
        "   AND r.attr = p.attr AND r.target_id = p.target_id)), "
        " e.kind, e.state "
        "FROM cs_objects c LEFT JOIN pending_exports e ON e.cs_id = c.id "
        "WHERE c.connector_id = ? AND c.object_type = 'group' AND c.placeholder = 0 "
        "AND c.mv_id IS NOT NULL", (MEMBER, MEMBER, MEMBER, connector_id))
    out = []
    for cs_id, have, adds, removes, kind, state in rows:
        size = GroupSize(int(cs_id), int(have), int(have) + int(adds) - int(removes), kind,
                         state)
        if size.most > above:
            out.append(size)
    return out
