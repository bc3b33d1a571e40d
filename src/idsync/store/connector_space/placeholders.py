"""Placeholders: connector space objects that stand for a DN references name but no imported
object holds (a target not imported yet, or a removed object still referenced). A real object
arriving at the DN takes their references over."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from idsync.dn import normalize_dn
from idsync.model import CSObject
from idsync.store.connector_space.objects import insert_object, insert_objects
from idsync.store.database import BaseDatabase


class PlaceholderRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def placeholder_at(self, connector_id: int, dn: str) -> int | None:
        return self.db.scalar(
            "SELECT id FROM cs_objects WHERE connector_id = ? AND dn_norm = ? AND placeholder = 1",
            (connector_id, normalize_dn(dn)))

    def placeholders_at_dns(self, connector_id: int, dn_norms: Sequence[str]
                            ) -> dict[str, list[int]]:
        out: dict[str, list[int]] = defaultdict(list)
        for dn_norm, cs_id in self.db.query_in(
                "SELECT dn_norm, id FROM cs_objects WHERE connector_id = ? AND placeholder = 1 "
                "AND dn_norm IN ({ids})", list(dn_norms), (connector_id,)):
            out[dn_norm].append(cs_id)
        return out

    def insert_placeholders(self, connector_id: int, dns: dict[str, str]) -> dict[str, int]:
        """normalised DN -> id of a new placeholder for each of ``dns`` (normalised -> as
        written): reference targets not imported yet."""
        objs = [CSObject(id=0, connector_id=connector_id, anchor=None, dn=dn, object_type=None,
                         placeholder=True, attributes={}, pending_import=None, mv_id=None,
                         link_type=None, link_rule_id=None, link_direction=None)
                for dn in dns.values()]
        return dict(zip(dns, insert_objects(self.db, objs), strict=True))

    def resolve_dns(self, connector_id: int, dns: Iterable[str],
                    created: dict[str, int] | None = None) -> dict[str, int]:
        """DN -> connector space id for each reference target, creating placeholders for
        targets not imported yet (recorded in ``created`` when given). Keys are normalised
        DNs."""
        wanted: dict[str, str] = {}
        for dn in dns:
            wanted.setdefault(normalize_dn(dn), dn)
        if not wanted:
            return {}
        found: dict[str, int] = {}
        keys = list(wanted)
        for row in self.db.query_in(
                "SELECT dn_norm, id FROM cs_objects WHERE connector_id = ? AND dn_norm IN ({ids})",
                keys, (connector_id,)):
            found[row[0]] = row[1]
        for key in keys:
            if key not in found:
                found[key] = insert_object(self.db, connector_id, anchor=None,
                                           dn=wanted[key], object_type=None,
                                           placeholder=True)
                if created is not None:
                    created[key] = found[key]
        return found

    def merge_placeholder(self, placeholder_id: int, real_id: int) -> None:
        """A real object arrived at a placeholder's DN: references move over to it."""
        self.db.execute(
            "INSERT INTO cs_refs (cs_id, attr, target_id) "
            "SELECT cs_id, attr, ? FROM cs_refs WHERE target_id = ? ON CONFLICT DO NOTHING",
            (real_id, placeholder_id))
        self.db.execute("DELETE FROM cs_refs WHERE target_id = ?", (placeholder_id,))
        self.db.execute("DELETE FROM cs_objects WHERE id = ?", (placeholder_id,))

    def merge_placeholders(self, pairs: Sequence[tuple[int, int]]) -> None:
        """``merge_placeholder`` for many ``(placeholder, real object)`` pairs."""
        if not pairs:
            return
        self.db.executemany(
            "INSERT INTO cs_refs (cs_id, attr, target_id) "
            "SELECT cs_id, attr, ? FROM cs_refs WHERE target_id = ? ON CONFLICT DO NOTHING",
            [(real, ph) for ph, real in pairs])
        gone = [ph for ph, _ in pairs]
        self.db.execute_in("DELETE FROM cs_refs WHERE target_id IN ({ids})", gone)
        self.db.execute_in("DELETE FROM cs_objects WHERE id IN ({ids})", gone)

    def remove(self, cs_id: int) -> None:
        """Drop an object for good; if others still reference it, keep it as a placeholder so
        the references keep their DN."""
        self.db.execute("DELETE FROM cs_refs WHERE cs_id = ?", (cs_id,))
        referenced = self.db.scalar("SELECT 1 FROM cs_refs WHERE target_id = ? LIMIT 1", (cs_id,))
        self.db.execute("DELETE FROM pending_exports WHERE cs_id = ?", (cs_id,))
        self.db.execute("DELETE FROM pending_export_refs WHERE cs_id = ?", (cs_id,))
        self.db.execute("DELETE FROM object_errors WHERE cs_id = ?", (cs_id,))
        # "space = its connector": only an equality uses the (space, obj_id) index; "space <> 0"
        # walked every connector's join values (10 ms per delete at 100,000 users).
        self.db.execute("DELETE FROM join_index WHERE space = (SELECT connector_id FROM "
                        "cs_objects WHERE id = ?) AND obj_id = ?", (cs_id, cs_id))
        if referenced:
            self.db.execute(
                "UPDATE cs_objects SET anchor = NULL, object_type = NULL, placeholder = 1, "
                "attributes = '{}', pending_import = NULL, mv_id = NULL, link_type = NULL, "
                "link_rule_id = NULL, link_direction = NULL WHERE id = ?", (cs_id,))
            self._one_placeholder_per_dn([cs_id])
        else:
            self.db.execute("DELETE FROM cs_objects WHERE id = ?", (cs_id,))

    def remove_many(self, connector_id: int, ids: Sequence[int]) -> None:
        """``remove`` for many objects of one connector space: the referenced ones stay as
        placeholders."""
        if not ids:
            return
        ids = list(ids)
        for table in ("cs_refs", "pending_exports", "pending_export_refs", "object_errors"):
            self.db.execute_in(f"DELETE FROM {table} WHERE cs_id IN ({{ids}})", ids)
        # Asked once their own references are gone: a manager of itself is referenced by
        # nothing that stays.
        referenced = [r[0] for r in self.db.query_in(
            "SELECT DISTINCT target_id FROM cs_refs WHERE target_id IN ({ids})", ids)]
        # "space = ?", not "space <> 0": only an equality uses the (space, obj_id) index; the
        # inequality scans every connector's join values.
        self.db.execute_in("DELETE FROM join_index WHERE space = ? AND obj_id IN ({ids})", ids,
                           (connector_id,))
        if referenced:
            self.db.execute_in(
                # The empty document is a parameter: braces in the text would be taken
                # for the {ids} placeholder.
                "UPDATE cs_objects SET anchor = NULL, object_type = NULL, placeholder = 1, "
                "attributes = ?, pending_import = NULL, mv_id = NULL, link_type = NULL, "
                "link_rule_id = NULL, link_direction = NULL WHERE id IN ({ids})", referenced,
                ("{}",))
        kept = set(referenced)
        self.db.execute_in("DELETE FROM cs_objects WHERE id IN ({ids})",
                           [i for i in ids if i not in kept])
        self._one_placeholder_per_dn(referenced)

    def _one_placeholder_per_dn(self, ids: Sequence[int]) -> None:
        """Objects just kept as placeholders join a placeholder already at their DN: a
        reference naming a DN resolves to one placeholder there, so two would leave the
        references naming the other one for a full import to move (an object deleted while
        a report deleted with it still named it, removed after its name references had
        moved to a placeholder)."""
        if not ids:
            return
        # Every placeholder at those DNs joins the lowest one there, so the merges never
        # chain or cross.
        rows = self.db.query_in(
            "SELECT p.id, p.connector_id, p.dn_norm FROM cs_objects o JOIN cs_objects p "
            "ON p.connector_id = o.connector_id AND p.dn_norm = o.dn_norm "
            "AND p.placeholder = 1 WHERE o.id IN ({ids})", list(ids))
        lowest: dict[tuple[int, str], int] = {}
        for cs_id, connector_id, dn_norm in rows:
            key = (connector_id, dn_norm)
            lowest[key] = min(cs_id, lowest.get(key, cs_id))
        pairs = sorted({(cs_id, lowest[(c, d)]) for cs_id, c, d in rows
                        if cs_id != lowest[(c, d)]})
        self.merge_placeholders(pairs)
