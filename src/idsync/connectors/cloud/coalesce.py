"""One record per group, however many pages its members take (sync API v2).

v2 pages a large group's member list: a full import sends the group once per slice of
members, a delta import splits a group's member changes where a page ends. Staged page by
page, the first slice looked like the whole list (a FULL record with a few members: every
other member "removed", an update), the next slices added them back (more updates), and an
export waiting for confirmation was compared with the partial list and put back as
unconfirmed. So a group's records are held at a page's end and merged with the records of the
same group in the pages that follow; a group is released once a page goes by without it, and
everything is released with the last page (which carries the watermark).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from idsync.connectors.base import ImportKind, ImportRecord


class GroupPages:
    def __init__(self) -> None:
        self._held: dict[str, ImportRecord] = {}

    def page(self, records: Iterable[ImportRecord], last: bool) -> list[ImportRecord]:
        """The records to stage now for one page (``last``: the import's final page)."""
        carried, self._held = self._held, {}
        out: list[ImportRecord] = []
        for record in records:
            key = record.anchor
            if key is not None and key in carried:
                self._held[key] = merge(carried.pop(key), record)
            elif key is not None and key in self._held:
                self._held[key] = merge(self._held[key], record)
            elif key is not None and record.object_type == "group":
                self._held[key] = record
            else:
                out.append(record)
        # Held from the last page and not continued in this one: complete.
        out.extend(carried.values())
        if last:
            out.extend(self._held.values())
            self._held = {}
        return out


def merge(first: ImportRecord, then: ImportRecord) -> ImportRecord:
    """One record with the effect of ``first`` followed by ``then`` (same object)."""
    if then.kind is ImportKind.DELETE or first.kind is ImportKind.DELETE:
        return then
    if then.kind is ImportKind.FULL:
        return then
    attributes = dict(first.attributes)
    for name, values in then.attributes.items():
        attributes[name] = list(values)
    merged = ImportRecord(first.kind, first.anchor or then.anchor, then.dn or first.dn,
                          then.object_type or first.object_type, attributes)
    # The later page's word on the source of authority, else the earlier one's.
    merged.cloud_managed = (then.cloud_managed if then.cloud_managed is not None
                            else first.cloud_managed)
    if first.kind is ImportKind.FULL:
        # A whole object: the later page's value changes apply to its lists.
        for name, values in then.value_adds.items():
            attributes[name] = _union(attributes.get(name, []), values)
        for name, values in then.value_removes.items():
            attributes[name] = _minus(attributes.get(name, []), values)
        return merged
    # Two changes: a replaced attribute supersedes earlier value changes of it; an add then a
    # remove of one value (or the reverse) leaves the later one.
    replaced = set(then.attributes)
    adds = {n: v for n, v in first.value_adds.items() if n not in replaced}
    removes = {n: v for n, v in first.value_removes.items() if n not in replaced}
    for name, values in then.value_adds.items():
        removes[name] = _minus(removes.get(name, []), values)
        adds[name] = _union(adds.get(name, []), values)
    for name, values in then.value_removes.items():
        adds[name] = _minus(adds.get(name, []), values)
        removes[name] = _union(removes.get(name, []), values)
    merged.value_adds = {n: v for n, v in adds.items() if v}
    merged.value_removes = {n: v for n, v in removes.items() if v}
    return merged


def _union(values: list[Any], more: Iterable[Any]) -> list[Any]:
    seen = set(values)
    out = list(values)
    for value in more:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


def _minus(values: list[Any], less: Iterable[Any]) -> list[Any]:
    drop = set(less)
    return [v for v in values if v not in drop]
