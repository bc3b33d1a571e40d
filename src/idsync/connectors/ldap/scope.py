"""Which entries are in scope: under a partition, inside an included container and not inside
an excluded one, of a configured object class. DNs compare in python-ldap's normal form."""

from __future__ import annotations

from collections.abc import Iterable

import ldap.dn

from idsync.connectors.ldap.settings import LdapSettings


def dn_key(dn: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    """A comparable form of a DN: RDNs as (type, value) pairs, case-folded."""
    try:
        rdns = ldap.dn.str2dn(dn)
    except ldap.DECODING_ERROR:
        return ((("", dn.lower()),),)
    return tuple(((rdn[0][0].lower(), rdn[0][1].lower()),) if len(rdn) == 1
                 else tuple(sorted((t.lower(), v.lower()) for t, v, _ in rdn)) for rdn in rdns)


def is_under(dn: str, container: str) -> bool:
    """True when ``dn`` is ``container`` or below it."""
    child, parent = dn_key(dn), dn_key(container)
    return len(child) >= len(parent) and child[len(child) - len(parent):] == parent


def _under_key(child: tuple, parent: tuple) -> bool:
    return len(child) >= len(parent) and child[len(child) - len(parent):] == parent


class Scope:
    def __init__(self, settings: LdapSettings) -> None:
        self.partitions = settings.partitions
        self.include = settings.include_containers
        self.exclude = settings.exclude_containers
        # Parsed once: a full import checks every entry against these.
        self._partition_keys = [dn_key(p) for p in self.partitions]
        self._include_keys = [dn_key(c) for c in self.include]
        self._exclude_keys = [dn_key(c) for c in self.exclude]
        self._types = [(name, {c.lower() for c in classes})
                       for name, classes in settings.object_types.items()]
        self._excluded_classes = {c.lower() for c in settings.exclude_object_classes}

    def contains_dn(self, dn: str) -> bool:
        key = dn_key(dn)
        if not any(_under_key(key, p) for p in self._partition_keys):
            return False
        if self._include_keys and not any(_under_key(key, c) for c in self._include_keys):
            return False
        return not any(_under_key(key, c) for c in self._exclude_keys)

    def is_excluded(self, dn: str) -> bool:
        key = dn_key(dn)
        return any(_under_key(key, c) for c in self._exclude_keys)

    def object_type(self, object_classes: Iterable[str | bytes]) -> str | None:
        classes = {(c.decode() if isinstance(c, bytes) else c).lower() for c in object_classes}
        if classes & self._excluded_classes:
            return None
        for name, wanted in self._types:
            if classes & wanted:
                return name
        return None

    def search_bases(self) -> list[str]:
        """Where full imports search: the included containers, else the partitions."""
        if self.include:
            return [c for c in self.include if any(is_under(c, p) for p in self.partitions)]
        return list(self.partitions)

    def class_filter(self) -> str:
        """``(|(objectClass=a)(objectClass=b)...)`` over every configured class."""
        classes = sorted({c for _, wanted in self._types for c in wanted})
        return "(|" + "".join(f"(objectClass={c})" for c in classes) + ")"
