"""Join rules: find the one object on the other side that an object should link to.

Join groups are tried in order; the first group with exactly one candidate wins, none or several
move on to the next group. The values compared live in the join index, kept up to date whenever
a metaverse object (inbound joins) or a connector space object (outbound joins) changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from idsync.engine.ruleset import RuleSet
from idsync.rules.model import JoinGroup
from idsync.store import Store
from idsync.store.metaverse import MV_SPACE, JoinIndex


def index_entries(keys: Iterable[tuple[str, bool]],
                  values_of: Callable[[str], Sequence[Any]]) -> list[tuple[str, str]]:
    out = []
    for attr, case_sensitive in keys:
        for v in values_of(attr):
            if v is None or v == "":
                continue
            out.append((JoinIndex.attr_key(attr, case_sensitive),
                        JoinIndex.key(v, case_sensitive)))
    return out


def values_in(attributes: Mapping[str, Sequence[Any]]) -> Callable[[str], Sequence[Any]]:
    """An object's values of one attribute, as ``index_entries`` and joins read them."""
    return lambda name: list(attributes.get(name) or ())


def rebuild_join_index(store: Store, rs: RuleSet) -> None:
    """Index every metaverse and connector space object's join values again (the rules, and
    with them the attributes joins compare, changed)."""
    store.join_index.clear()
    mv_keys = rs.mv_join_attributes()
    if mv_keys:
        for mv in store.mv.search():
            store.join_index.replace(
                MV_SPACE, mv.id, index_entries(mv_keys, values_in(mv.attributes)))
    for record in store.connectors.list():
        keys = rs.cs_join_attributes(record.id)
        if not keys:
            continue
        for cs in store.cs.search(record.id):
            store.join_index.replace(
                record.id, cs.id,
                index_entries(keys, values_in(cs.attributes)))


class BatchJoinLookups:
    """The join index look-ups of one batch, asked of the store together: ``prefetch`` the
    values every object of the batch will look up, then ``find_match`` reads them from here
    (a value not prefetched still goes to the store). Valid while the batch writes nothing
    to the space it looks up; ``forget`` when it does."""

    def __init__(self, index: JoinIndex) -> None:
        self.index = index
        self._found: dict[tuple[int, str, str], set[int]] = {}

    def prefetch(self, space: int, groups: Sequence[JoinGroup], *, inbound: bool,
                 values_of: Iterable[Callable[[str], Sequence[Any]]]) -> None:
        """Look up what ``find_match`` would for each joining object (``values_of``, one
        per object) under ``groups``."""
        wanted: dict[str, set[str]] = {}
        sources = list(values_of)
        for group in groups:
            for cond in group.conditions:
                mine = cond.cs_attribute if inbound else cond.mv_attribute
                theirs = cond.mv_attribute if inbound else cond.cs_attribute
                keys = wanted.setdefault(JoinIndex.attr_key(theirs, cond.case_sensitive), set())
                for source in sources:
                    keys.update(JoinIndex.key(v, cond.case_sensitive)
                                for v in source(mine) if v not in (None, ""))
        for attr_key, keys in wanted.items():
            keys = {k for k in keys if (space, attr_key, k) not in self._found}
            if keys:
                for key, ids in self.index.lookup_many(space, attr_key, sorted(keys)).items():
                    self._found[(space, attr_key, key)] = ids

    def lookup(self, space: int, attr_key: str, value_key: str) -> set[int]:
        found = self._found.get((space, attr_key, value_key))
        return set(found) if found is not None else self.index.lookup(space, attr_key,
                                                                       value_key)

    def forget(self) -> None:
        self._found = {}


def find_match(index: JoinIndex | BatchJoinLookups, space: int, groups: Sequence[JoinGroup], *,
               inbound: bool, values_of: Callable[[str], Sequence[Any]],
               acceptable: Callable[[set[int]], set[int]]) -> int | None:
    """The single object id a join finds, or None.

    ``values_of`` gives the joining object's values (cs attribute inbound, mv attribute
    outbound); ``acceptable`` removes candidates of the wrong type or already linked."""
    for group in groups:
        candidates: set[int] | None = None
        usable = True
        for cond in group.conditions:
            mine = cond.cs_attribute if inbound else cond.mv_attribute
            theirs = cond.mv_attribute if inbound else cond.cs_attribute
            values = [v for v in values_of(mine) if v not in (None, "")]
            if not values:
                usable = False
                break
            attr_key = JoinIndex.attr_key(theirs, cond.case_sensitive)
            found: set[int] = set()
            for v in values:
                found |= index.lookup(space, attr_key, JoinIndex.key(v, cond.case_sensitive))
            candidates = found if candidates is None else candidates & found
            if not candidates:
                break
        if not usable or not candidates:
            continue
        candidates = acceptable(candidates)
        if len(candidates) == 1:
            return next(iter(candidates))
    return None
