"""Placeholders taken over on import: an object renamed onto a DN that references already name
(a placeholder stood there) takes those references."""

from __future__ import annotations

from idsync.engine.import_plan import Slot
from idsync.store import Store


def take_over_placeholders(store: Store, connector_id: int, renamed: list[Slot],
                           slots: list[Slot]) -> set[int]:
    """Objects renamed onto DNs that references already name (placeholders): the
    references move over to them (in the segment's loaded lists too); returns the
    objects holding those references, to be synchronized again."""
    if not renamed:
        return set()
    ours = {s.cs.id for s in slots}
    by_key = {s.key: s.cs.id for s in renamed}
    found = store.placeholders.placeholders_at_dns(connector_id, list(by_key))
    pairs = [(ph, by_key[key]) for key, phs in found.items() for ph in phs
             if ph not in ours]
    if not pairs:
        return set()
    holders = store.cs_refs.referencing([ph for ph, _ in pairs])
    store.placeholders.merge_placeholders(pairs)
    real = dict(pairs)
    for slot in slots:
        for targets in slot.cs.refs.values():
            moved = real.keys() & targets
            if moved:
                targets.difference_update(moved)
                targets.update(real[ph] for ph in moved)
    return holders
