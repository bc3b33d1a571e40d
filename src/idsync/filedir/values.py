"""Modify semantics of attribute values: adding a value that is there and removing one that is
not are no-ops, and reference values (DNs) compare by their normalized form, counted once per
list so a change to a 250,000-member group does not normalize every member again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from idsync.filedir.ldif import Value, find_key


class KeyCounts:
    """The equality keys of reference-value lists (key -> how many values have it), handed
    from a list to the list made from it by the next change. Without it every change to a
    250,000-member group would normalize every member again. Lists are never changed in
    place, so a list's identity names its contents; a list held here is kept alive, so its
    id cannot be reused."""

    def __init__(self) -> None:
        self._by_list: dict[int, tuple[list[Value], Counter[object]]] = {}

    def take(self, values: list[Value], same: Callable[[Value], object]) -> Counter[object]:
        held = self._by_list.pop(id(values), None)
        if held is not None and held[0] is values:
            return held[1]
        return Counter(map(same, values))

    def keep(self, values: list[Value], counts: Counter[object]) -> None:
        self._by_list[id(values)] = (values, counts)


def add_values(attributes: dict[str, list[Value]], name: str, values: list[Value],
                same: Callable[[Value], object], cache: KeyCounts | None = None) -> None:
    """Add values that are not there yet. Adding a value that is there is a no-op, so a
    re-sent export does not fail. Works on a new list (the entry may be a unit's copy),
    unless given ``cache``: then in place."""
    key = find_key(attributes, name)
    if cache is not None and key is not None and attributes[key] and same is not identity:
        current = attributes[key]
        counts = cache.take(current, same)
        for value in dict.fromkeys(values):
            marker = same(value)
            if not counts[marker]:  # no value with this key, in any spelling
                counts[marker] += 1
                current.append(value)  # in place: see FileDirectory._modify
        cache.keep(current, counts)
        return
    current = list(attributes[key]) if key is not None else []
    present = set(current)
    new = [value for value in dict.fromkeys(values) if value not in present]
    if new and same is not identity:
        # Same value, other spelling (a DN in other case), here or among the new values?
        # Compare the equality keys.
        seen = {same(value) for value in current}
        kept = []
        for value in new:
            marker = same(value)
            if marker not in seen:
                seen.add(marker)
                kept.append(value)
        new = kept
    if not new:
        return
    attributes[key if key is not None else name] = current + new


def remove_values(attributes: dict[str, list[Value]], name: str, values: list[Value],
                   same: Callable[[Value], object], cache: KeyCounts | None = None) -> None:
    """Remove values; removing a value that is not there is a no-op. A value present as
    written is removed as written; one present only in another spelling, by its key."""
    key = find_key(attributes, name)
    if key is None:
        return
    current = attributes[key]
    if cache is not None and same is not identity:
        counts = cache.take(current, same)
        # Values whose key is absent are no-ops: no scan of the list for them.
        candidates = [value for value in dict.fromkeys(values) if counts[same(value)]]
        slow = []
        for value in candidates:
            marker = same(value)
            if counts[marker] == 1:  # one value has this key: remove it if it is this one
                try:
                    current.remove(value)  # in place, a scan at C speed
                except ValueError:
                    slow.append(value)  # present in another spelling
                    continue
                del counts[marker]
            else:
                slow.append(value)
        if slow:
            # Duplicates or other spellings (hand-written files): as without the cache.
            exact = {value for value in slow if value in current}
            gone = {same(value) for value in slow if value not in exact}
            current = [value for value in current
                       if value not in exact and (not gone or same(value) not in gone)]
            counts = Counter(map(same, current))
        cache.keep(current, counts)
    else:
        present = set(current)
        exact = {value for value in values if value in present}
        others = [value for value in values if value not in present]
        if exact:  # the usual case, at C speed: no equality keys computed
            current = [value for value in current if value not in exact]
        if others and same is not identity:
            gone = {same(value) for value in others}
            current = [value for value in current if same(value) not in gone]
    if current:
        attributes[key] = current
    else:
        del attributes[key]


def identity(value: Value) -> object:
    return value
