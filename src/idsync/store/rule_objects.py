"""The stored objects a sync rule change reaches: the metaverse objects an outbound rule
change sends through the outbound pass again, and the connector space links a rule holds
(handed over to its copy, or listed before the rule goes)."""

from __future__ import annotations

from dataclasses import dataclass

from idsync.store.database import BaseDatabase


@dataclass(frozen=True, slots=True)
class LinkedObject:
    """A connector space object linked by a rule, as an administrator's list shows it."""

    cs_id: int
    dn: str
    #: None until the directory confirmed the object (an add not exported or not imported)
    anchor: str | None
    mv_id: int | None


class RuleObjects:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def requeue_type(self, mv_object_type: str) -> None:
        """Queue every metaverse object of a type for the outbound pass of the next sync."""
        self.db.execute(
            "INSERT INTO mv_dirty (mv_id) SELECT id FROM mv_objects WHERE object_type = ? "
            "ON CONFLICT DO NOTHING", (mv_object_type,))

    def hand_over_links(self, from_rule_id: int | None, to_rule_id: int | None) -> None:
        """The objects linked by one rule count as linked by another."""
        self.db.execute("UPDATE cs_objects SET link_rule_id = ? WHERE link_rule_id = ?",
                        (to_rule_id, from_rule_id))

    def outbound_linked(self, connector_id: int, rule_id: int | None) -> list[LinkedObject]:
        """The objects of a connector space an outbound rule provisioned or joined, by DN."""
        return [LinkedObject(int(cs_id), dn, anchor, mv_id) for cs_id, dn, anchor, mv_id
                in self.db.query(
                    "SELECT id, dn, anchor, mv_id FROM cs_objects WHERE connector_id = ? "
                    "AND link_rule_id = ? AND link_direction = 'outbound' ORDER BY dn",
                    (connector_id, rule_id))]
