"""Reference lists as a flow loads them: small ones into memory, large ones left in the store.

A list with at least the engine's ``ref_delta_threshold`` values (a group's members) is not
read: the object's ``refs`` holds a ``DeferredRefs`` in its place, and a Direct flow of it is
computed in the store as a difference (``idsync.store.references``). Inbound and outbound
flows load their metaverse and connector space lists through here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from idsync.engine.flow import DeferredRefs
from idsync.store import Store
from idsync.store.reference_journal import JournalSpace

#: attribute -> target ids, or DeferredRefs for a list left in the store
Lists = dict[str, Any]


def load_lists(store: Store, space: JournalSpace, ids: Sequence[int],
               names: Iterable[str] | None, threshold: int, *,
               deferrable: Collection[int] | None = None) -> dict[int, Lists]:
    """The reference lists of ``ids`` (objects of ``space``), limited to ``names`` when
    given. Large lists of ``deferrable`` objects (all of them by default; none when empty) are
    left in the store."""
    wanted = None if names is None else set(names)
    if not ids or (wanted is not None and not wanted):
        return {i: {} for i in ids}
    deltas = store.refdeltas
    in_cs = space is JournalSpace.CONNECTOR_SPACE
    candidates = list(ids) if deferrable is None else list(deferrable)
    large = (deltas.large_cs if in_cs else deltas.large_mv)(
        candidates, threshold) if candidates else {}
    if wanted is not None:
        large = {k: n for k, n in large.items() if k[1] in wanted}
    if large:
        loaded = (deltas.cs_refs_except if in_cs else deltas.mv_refs_except)(ids, wanted, large)
    elif in_cs:
        loaded = store.cs.refs_of(ids, wanted)
    else:
        loaded = store.mv.refs_of(ids)
    out: dict[int, Lists] = {i: {a: set(v) for a, v in loaded.get(i, {}).items()} for i in ids}
    for (obj_id, attr), count in large.items():
        out[obj_id][attr] = DeferredRefs(count)
    return out


def has_deferred(lists: Mapping[str, Any]) -> bool:
    return any(isinstance(v, DeferredRefs) for v in lists.values())


def split_loaded(lists: Mapping[int, Mapping[str, Any]]) -> tuple[list[int], set[int]]:
    """For translating loaded values into another space: the objects whose lists are all
    loaded (one join over their references), and the loaded values of the objects with a
    list left in the store (a look-up of just those values)."""
    whole: list[int] = []
    partial: set[int] = set()
    for obj_id, refs in lists.items():
        if not any(refs.values()):
            continue
        if not has_deferred(refs):
            whole.append(obj_id)
            continue
        for v in refs.values():
            if not isinstance(v, DeferredRefs):
                partial |= v
    return whole, partial
