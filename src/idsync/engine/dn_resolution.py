"""DN resolution for an import run: which connector space object each reference value of a
segment names, with the run's DN caches.

Reference values are resolved to connector space ids once per run, not once per segment: a
user in nine groups was looked up (and its DN normalised) in each of the nine group batches,
1.07 million look-ups for a 110,000-entry full import (6.6 s of its 52). Both caches only ever
say what the store would (see ``remember``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from idsync.dn import normalize_dn
from idsync.engine.import_plan import Slot
from idsync.model import CSObject
from idsync.store import Store

#: Entries each of an import run's DN caches (DNResolver.key_of, DNResolver.dn_ids) may hold
#: before it is emptied and starts again: room for every DN of an L directory (270,000
#: objects), under ~100 MB, whatever the directory's size.
DN_CACHE_LIMIT = 400_000


class DNResolver:
    def __init__(self, store: Store, connector_id: int) -> None:
        self.store = store
        self.connector_id = connector_id
        self.key_of: dict[str, str] = {}  # reference DN as written -> normalised
        self.dn_ids: dict[str, int] = {}  # normalised DN -> the object the store resolves

    def trim_names(self) -> None:
        """Start ``key_of`` again once it is full (before a segment is planned)."""
        if len(self.key_of) > DN_CACHE_LIMIT:
            self.key_of.clear()

    def resolve(self, slots: list[Slot], held: set[str]) -> dict[str, int]:
        """DN (as written in the records) -> CS id of every reference value of the segment:
        the segment's own objects (as staged now, renames included), then one query, then
        placeholders (one multi-row insert) for targets not imported yet."""
        key_of = self.key_of
        # Set operations over whole value lists (C loops): a batch of groups names hundreds
        # of thousands of DNs, most of them many times.
        named: set[str] = set()
        removed: set[str] = set()
        for slot in slots:
            for op, _, op_dns in slot.ref_ops:
                (removed if op == "remove" else named).update(op_dns)
        if not named and not removed:
            return {}
        dns = named | removed
        for dn in dns.difference(key_of):
            key_of[dn] = normalize_dn(dn)
        resolved = {s.key: s.cs.id for s in slots}
        ours = {s.cs.id for s in slots}
        cache = self.dn_ids
        if len(cache) > DN_CACHE_LIMIT:
            cache.clear()
        # What the run remembers holds as of the segment's start. An object of the segment's
        # own is at its new DN (above) and not at the DN it leaves, as the store's answer
        # below excludes: those DNs (held) are asked of the store. Set operations (C loops):
        # a batch of groups names ~85,000 distinct DNs.
        keys = set(map(key_of.__getitem__, dns)).difference(resolved)
        known = keys.difference(held).intersection(cache.keys())
        resolved.update(zip(known, map(cache.__getitem__, known), strict=True))
        rest = list(keys - known)
        if rest:
            for key, found in self.store.cs_objects.ids_at_dns(self.connector_id, rest).items():
                # The segment's objects were matched above by their new DN; a row of theirs
                # found here still has a DN they are leaving.
                others = [f for f in found if f[0] not in ours]
                if others:  # an object, then a placeholder, then a staged delete (ranks)
                    resolved[key] = min(others, key=lambda f: (f[1], f[0]))[0]
                    if len(others) == len(found):  # the answer the next segment would get
                        cache[key] = resolved[key]
        if any(k not in resolved for k in rest):
            # Targets not imported yet, in the order (and spelling) the records name them.
            missing: dict[str, str] = {}
            for dn in named:
                key = key_of[dn]
                if key not in resolved:
                    missing[key] = dn
            if missing:
                placed = self.store.placeholders.insert_placeholders(self.connector_id, missing)
                resolved.update(placed)
                cache.update(placed)  # the only object at its DN
        out = dict(zip(dns, map(resolved.get, map(key_of.__getitem__, dns)), strict=True))
        for dn in removed.difference(named):  # a value removed may name nothing held
            if out[dn] is None:
                del out[dn]
        # Every DN named (not only removed) was resolved, a placeholder at worst: no None is
        # left (a second dict to prove it to the type checker would cost a pass over it).
        return cast(dict[str, int], out)

    def remember(self, slots: list[Slot], held: set[str],
                 by_dn: dict[str, list[CSObject]]) -> None:
        """Keep ``dn_ids`` what the store would answer after a segment's writes. Any DN the
        segment wrote an object at, or moved or removed one from, is forgotten (the store
        answers for it next time); a new object is remembered at its DN when nothing else
        was there (the only object at a DN is what the store resolves it to). Placeholders
        and the store's answers are remembered by ``resolve``."""
        cache = self.dn_ids
        for key in held:
            cache.pop(key, None)
        for slot in slots:
            cache.pop(slot.key, None)
        for slot in slots:
            if slot.new and slot.key and not by_dn.get(slot.key):
                cache[slot.key] = slot.cs.id

    def forget(self, keys: Iterable[str]) -> None:
        """DNs whose placeholders were tidied away: the cache must not name them."""
        for key in keys:
            self.dn_ids.pop(key, None)
