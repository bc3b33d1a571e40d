"""The metaverse writes of one inbound flow batch, written together when the batch ends.

A flow batch changes hundreds of metaverse objects. Writing each object's attributes, reference
changes and join index entries as its flows finished cost four statements per object: four
round trips on PostgreSQL, about a third of a full synchronization there. Nothing later in the
same batch reads what an earlier object wrote (an object's flows read its own metaverse state
and the connector spaces; the join index of the metaverse is read by the connect pass and by
outbound, which run after the batch), so the writes wait here and go out as one statement per
table. A large list's difference (``RefDelta``) is still written at once: the flow reads it
back to see whether the list became empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from idsync.model import MVObject
from idsync.store import Store
from idsync.store.metaverse import MV_SPACE


@dataclass
class MetaverseWrites:
    saves: dict[int, MVObject] = field(default_factory=dict)
    ref_adds: list[tuple[int, str, int]] = field(default_factory=list)
    ref_removes: list[tuple[int, str, int]] = field(default_factory=list)
    index: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    def save(self, mv: MVObject) -> None:
        self.saves[mv.id] = mv

    def change_refs(self, mv_id: int, attr: str, adds: Iterable[int],
                    removes: Iterable[int]) -> None:
        self.ref_adds.extend((mv_id, attr, t) for t in adds)
        self.ref_removes.extend((mv_id, attr, t) for t in removes)

    def replace_index(self, mv_id: int, entries: list[tuple[str, str]]) -> None:
        self.index[mv_id] = entries

    def flush(self, store: Store) -> None:
        """Write everything waiting (inside the caller's transaction) and start empty."""
        if self.ref_adds or self.ref_removes:
            store.mv.change_refs_many(self.ref_adds, self.ref_removes)
        if self.saves:
            store.mv.save_many(list(self.saves.values()))
        if self.index:
            store.join_index.replace_many(MV_SPACE, self.index)
        self.saves, self.ref_adds, self.ref_removes, self.index = {}, [], [], {}
