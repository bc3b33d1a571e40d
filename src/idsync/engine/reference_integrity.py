"""Reference integrity: what happens to references when the object they point at is deleted
or renamed, as the connected directory itself does it.

A DN-valued attribute is one of two kinds, depending on the directory:

* **bound** to its object: the directory drops the value when the object is deleted and
  rewrites it when the object is renamed or moved (Active Directory's linked attributes,
  OpenLDAP attributes under the memberof or refint overlay, the cloud's object ids);
* a **name**: the directory keeps the DN as written. After a delete or a rename it names
  whatever is at that DN then: nothing, or a different object created there later.

A connector space keeps each reference as a row pointing at its target's id, so a reference
follows its object, which is right for bound attributes on a rename. The delta import sees an
object's delete or rename, but not always what the directory did to the values naming it
(OpenLDAP's overlays change the groups without a change that syncrepl or the accesslog
report). So when an import stages a delete or a rename, the references are brought to what a
full import of the same directory state would read:

* a delete: bound references to the object are dropped (a placeholder never carries them, so a
  new object later created at the same DN starts with only what its directory gives it); name
  references move to what the DN names now (another object there, else a placeholder);
* a rename or move: name references move to what the old DN names now; bound ones follow.

A full import reads every holder's list whole and by name: the references to the objects it
did not return move to what their DNs name, whatever their kind.

The moves are row deletes and inserts, which the reference-change journal records (the
triggers of migration 0003), and their holders are queued for the next delta synchronization.
A connector says which of its reference attributes are bound with ``integrity_attributes()``;
one that does not say is taken to bind them all (the behaviour before this module).

Some bound attributes are back-links the directory computes from another one: ``memberOf``
lists the groups whose ``member`` names the object (Active Directory; OpenLDAP's memberof
overlay). A change of a group's members changes its members' ``memberOf`` without a change the
delta import sees, so an import that stages member changes stages the back-links too. A
connector names such pairs with ``back_links()`` (forward attribute -> back-link).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from idsync.connectors.base import Connector
from idsync.dn import normalize_dn
from idsync.model import CSObject
from idsync.store import Store
from idsync.store.reference_bindings import RefRow


class _StagedSlot(Protocol):
    """What this module reads of an import segment's slot (``importing._Slot``)."""

    cs: CSObject
    kind: str
    renamed: bool
    left: str
    ref_ops: list[tuple[str, str, list[str]]]


def back_links(connector: Connector, reference_attributes: Iterable[str]) -> dict[str, str]:
    """forward attribute -> its back-link, both reference attributes of the connector."""
    refs = {name.lower(): name for name in reference_attributes}
    declared = getattr(connector, "back_links", None)
    if declared is None:
        return {}
    return {refs[f.lower()]: refs[b.lower()] for f, b in declared().items()
            if f.lower() in refs and b.lower() in refs}


def bound_attributes(connector: Connector, reference_attributes: Iterable[str]) -> frozenset[str]:
    """The reference attributes whose values the connector's directory keeps bound to their
    objects (matched without regard to case, as LDAP attribute names are)."""
    refs = frozenset(reference_attributes)
    declared = getattr(connector, "integrity_attributes", None)
    if declared is None:
        return refs
    wanted = {name.lower() for name in declared()}
    return frozenset(name for name in refs if name.lower() in wanted)


@dataclass(slots=True)
class Rebinding:
    """Reference rows to drop, and rows to move to what a DN names (by normalised DN)."""

    drop: list[RefRow] = field(default_factory=list)
    move: dict[str, list[RefRow]] = field(default_factory=lambda: defaultdict(list))
    #: normalised DN -> the DN as written (for a placeholder made there)
    spelled: dict[str, str] = field(default_factory=dict)
    #: Objects leaving the DNs (never the new target of a reference moved from them)
    leaving: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.drop or self.move)


class ReferenceIntegrity:
    """The rule above for one connector space, applied by its imports."""

    def __init__(self, store: Store, connector_id: int, connector: Connector,
                 reference_attributes: frozenset[str],
                 compared: Callable[[], frozenset[str]] | None = None) -> None:
        self.store = store
        #: The reference attributes the connector's rules read or write (asked when needed):
        #: only a change of those queues its holder for synchronization (a deleted group's
        #: 250,000 members lose a memberOf value no rule may read).
        self._compared = compared
        self.connector_id = connector_id
        self.connector = connector
        self.reference_attributes = reference_attributes

    @cached_property
    def bound(self) -> frozenset[str]:
        # Asked only when an import meets a delete or a rename: an LDAP connector may have to
        # ask its server which kind of directory it is.
        return bound_attributes(self.connector, self.reference_attributes)

    @cached_property
    def compared(self) -> frozenset[str]:
        return self.reference_attributes if self._compared is None else self._compared()

    @cached_property
    def back_links(self) -> dict[str, str]:
        return back_links(self.connector, self.reference_attributes)

    # --- an import segment ----------------------------------------------------------------

    def linked_back(self, adds: Iterable[RefRow], removes: Iterable[RefRow]) -> set[int]:
        """After a segment's reference rows are written: the back-links of the forward
        values it added and removed (a member added to a group: the group in the member's
        ``memberOf``). Placeholders hold no back-links. The objects whose back-links changed
        are queued for synchronization when the rules read them; returns them."""
        changes = [(op, row) for op, rows in (("add", adds), ("remove", removes))
                   for row in rows]
        if not changes or not self.back_links:
            return set()
        wanted = [(op, (target, self.back_links[attr], holder))
                  for op, (holder, attr, target) in changes if attr in self.back_links]
        if not wanted:
            return set()
        real = self.store.bindings.real([row[0] for _, row in wanted])
        back_adds = [row for op, row in wanted if op == "add" and row[0] in real]
        back_removes = [row for op, row in wanted if op == "remove" and row[0] in real]
        self.store.cs.change_refs_many(back_adds, back_removes)
        changed = {row[0] for row in [*back_adds, *back_removes]}
        if changed and set(self.back_links.values()) & self.compared:
            self.store.cs.mark_pending_update(changed)
        return changed

    def renamed(self, slots: Sequence[_StagedSlot]) -> set[int]:
        """Before a segment's records' reference operations run (and before its renamed
        objects take over the placeholders at their new DNs): name references to its renamed
        objects move to what the old DNs name. The records' operations then apply by name on
        top, as the directory applied them after the rename. The segment's loaded lists are
        moved too. Returns the holders."""
        renamed = {s.cs.id: s.left for s in slots if s.renamed and s.left}
        if not renamed or not self.reference_attributes - self.bound:
            return set()
        deleted = {s.cs.id for s in slots if s.kind == "delete"}
        out = Rebinding(leaving=set(renamed))
        for row in self.store.bindings.referrers(sorted(renamed)):
            holder, attr, target = row
            if attr not in self.bound and holder not in deleted:
                self._file(out, row, renamed[target], drop=False)
        moved = self._write(out)
        loaded = {s.cs.id: s.cs.refs for s in slots}
        for (holder, attr, old), new in moved.items():
            targets = (loaded.get(holder) or {}).get(attr)
            if targets is not None and old in targets:
                targets.discard(old)
                targets.add(new)
        return {holder for holder, _, _ in moved}

    def deleted(self, slots: Sequence[_StagedSlot]) -> Rebinding:
        """Once a segment's reference operations are written: the references to its deleted
        objects, bound ones to drop, name ones to move to what the DNs name after the
        segment (``settle``). A record of the segment naming a deleted object counts as made
        before the delete."""
        deleted = {s.cs.id: s.cs.dn for s in slots if s.kind == "delete"}
        out = Rebinding(leaving=set(deleted))
        if not deleted:
            return out
        for row in self.store.bindings.referrers(sorted(deleted)):
            holder, attr, target = row
            if holder not in deleted:  # else it goes with its holder
                self._file(out, row, deleted[target], drop=attr in self.bound)
        return out

    def found_gone(self, cs_ids: Sequence[int]) -> set[int]:
        """Objects a full import did not return: every reference to them was read by name
        in that same import (from each holder's whole record), so each moves to what its DN
        names now, bound or not: a new object that took the DN while the old one was still
        held is what the records named. Returns the holders."""
        if not cs_ids:
            return set()
        dns = {i: dn for i, (dn, _) in self.store.cs.dns_and_anchors(cs_ids).items()}
        out = Rebinding(leaving=set(dns))
        for row in self.store.bindings.referrers(sorted(dns)):
            holder, _, target = row
            if holder not in dns:
                self._file(out, row, dns[target], drop=False)
        return self.settle(out)

    @staticmethod
    def _file(out: Rebinding, row: RefRow, dn: str, *, drop: bool) -> None:
        if drop:
            out.drop.append(row)
            return
        key = normalize_dn(dn)
        out.move[key].append(row)
        out.spelled.setdefault(key, dn)

    def settle(self, rebinding: Rebinding) -> set[int]:
        """Write a rebinding once the segment's objects are at their new DNs; returns the
        holders (those of lists the rules compare are queued for the next delta
        synchronization)."""
        moved = self._write(rebinding)
        return {holder for holder, _, _ in [*rebinding.drop, *moved]}

    def _write(self, rebinding: Rebinding) -> dict[RefRow, int]:
        """Drop and move the rows, queue the holders of lists the rules compare; returns each
        moved row's new target."""
        if not rebinding:
            return {}
        cs = self.store.cs
        targets = self.store.bindings.named_by(self.connector_id, list(rebinding.move),
                                               sorted(rebinding.leaving))
        missing = {k: rebinding.spelled[k] for k in rebinding.move if k not in targets}
        if missing:
            targets.update(cs.insert_placeholders(self.connector_id, missing))
        moved = {row: targets[key] for key, rows in rebinding.move.items() for row in rows}
        cs.change_refs_many([(h, a, new) for (h, a, _), new in moved.items()],
                            [*rebinding.drop, *moved])
        cs.mark_pending_update({holder for holder, attr, _ in [*rebinding.drop, *moved]
                                if attr in self.compared})
        return moved

    def tidy(self, deleted_dns: Sequence[str]) -> None:
        """After a segment's writes: one placeholder at each DN its deletes freed. A DN
        deleted, taken and deleted again across segments of one import left two, each named
        by some references, and a full import then resolved every reference to the one with
        the lowest id: the references naming the other were an update it found."""
        cs = self.store.cs
        pairs = [(other, ids[0])
                 for ids in (sorted(v) for v in cs.placeholders_at_dns(
                     self.connector_id, deleted_dns).values())
                 for other in ids[1:]]
        cs.merge_placeholders(pairs)
