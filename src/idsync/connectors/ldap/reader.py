"""Reading entries and turning them into import records: attribute lists, anchors, value
decoding, ranged retrieval, scope. Shared by the full import and every change detector."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import ldap
from idsync.connectors.base import ImportContext, ImportKind, ImportRecord, Value
from idsync.connectors.ldap.flavor import DirectoryFlavor
from idsync.connectors.ldap.paging import Entry, paged_search
from idsync.connectors.ldap.ranged import complete_ranges, has_ranges
from idsync.connectors.ldap.scope import Scope, is_under
from idsync.connectors.ldap.settings import LdapSettings


class DirectoryReader:
    def __init__(self, conn: Any, settings: LdapSettings, flavor: DirectoryFlavor) -> None:
        self.conn = conn
        self.settings = settings
        self.scope = Scope(settings)
        #: What differs by kind of server (Active Directory's is in the ``ad`` package).
        self.flavor = flavor
        self.anchor_attribute = flavor.anchor_attribute
        self._binary = {a.lower() for a in settings.binary_attributes}
        self._binary_names: dict[str, bool] = {}

    # --- what to ask for ---------------------------------------------------------------
    def request_attributes(self, context: ImportContext | None = None) -> list[str]:
        wanted: Iterable[str]
        if context is not None and context.attributes is not None:
            wanted = context.attributes
        elif self.settings.attributes is not None:
            wanted = self.settings.attributes
        else:
            wanted = ("*", "memberOf")
        names = sorted({*wanted, "objectClass", self.anchor_attribute})
        return self.flavor.request_attributes(names, self.settings)

    # --- conversion ---------------------------------------------------------------------
    def anchor_of(self, attrs: dict[str, list[bytes]]) -> str | None:
        values = attrs.get(self.anchor_attribute)
        if values is None:  # the server may spell the name in another case
            values = next((v for k, v in attrs.items()
                           if k.lower() == self.anchor_attribute.lower()), None)
        if not values:
            return None
        return self.flavor.anchor_text(values[0])

    def decode(self, name: str, values: Sequence[bytes]) -> list[Value]:
        binary = self._binary_names.get(name)
        if binary is None:  # a name seen for the first time: one lower() per name, not value
            binary = self._binary_names[name] = name.lower() in self._binary
        if binary:
            return list(values)
        try:
            return [v.decode("utf-8") for v in values]
        except UnicodeDecodeError:
            # An undeclared binary attribute: keep the values that are not text as bytes.
            return [_text_or_bytes(v) for v in values]

    def to_record(self, dn: str, attrs: dict[str, list[bytes]],
                  kind: ImportKind = ImportKind.FULL, *,
                  under_search_base: bool = False) -> ImportRecord | None:
        """The record for an entry in scope, or None when the entry is out of scope.
        ``under_search_base``: the entry came from a search under ``scope.search_bases()``,
        so only the excluded containers remain to check (parsing every DN costs ~10%)."""
        if under_search_base:
            if self.scope.exclude and self.scope.is_excluded(dn):
                return None
        elif not self.scope.contains_dn(dn):
            return None
        classes = attrs.get("objectClass") or next(
            (v for k, v in attrs.items() if k.lower() == "objectclass"), [])
        object_type = self.scope.object_type(classes)
        if object_type is None:
            return None
        if has_ranges(attrs):
            attrs = complete_ranges(dn, attrs, self._fetch_range,
                                    self.flavor.range_step(self.settings))
        # The anchor attribute stays among the attributes too: sync rules read it
        # (sourceAnchor <- ConvertToBase64([objectGUID]), joins on objectGUID / entryUUID).
        return ImportRecord(kind=kind, anchor=self.anchor_of(attrs), dn=dn,
                            object_type=object_type, attributes=self._decode_all(attrs))

    def _decode_all(self, attrs: dict[str, list[bytes]]) -> dict[str, list[Value]]:
        # The hot loop of a full import: inlined, one binary-name lookup per attribute.
        binary_names = self._binary_names
        decoded: dict[str, list[Value]] = {}
        try:
            for name, values in attrs.items():
                binary = binary_names.get(name)
                if binary is None:
                    binary = binary_names[name] = name.lower() in self._binary
                decoded[name] = list(values) if binary else [v.decode() for v in values]
        except UnicodeDecodeError:
            return {name: self.decode(name, values) for name, values in attrs.items()}
        return decoded

    def _fetch_range(self, dn: str, attribute: str) -> dict[str, list[bytes]]:
        result = self.conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", [attribute])
        return result[0][1] if result else {}

    # --- searches -----------------------------------------------------------------------
    def entries(self, attributes: Sequence[str]) -> Iterator[list[Entry]]:
        """Pages of every entry of a configured class under the search bases."""
        return self.entries_matching(self.scope.class_filter(), attributes)

    def entries_matching(self, filterstr: str, attributes: Sequence[str]
                         ) -> Iterator[list[Entry]]:
        bases = self.scope.search_bases()
        # A base under another base would be read twice.
        bases = [b for b in bases if not any(b != o and _under(b, o) for o in bases)]
        for base in bases:
            yield from paged_search(self.conn, base, filterstr, attributes,
                                    self.settings.page_size,
                                    prefetch=self.flavor.prefetch_pages)

    def read_by_anchor(self, anchors: Sequence[str], attributes: Sequence[str]
                       ) -> dict[str, Entry]:
        """The current entries for these anchors (missing anchors are gone)."""
        found: dict[str, Entry] = {}
        for start in range(0, len(anchors), 200):
            chunk = anchors[start:start + 200]
            terms = "".join(f"({self.anchor_attribute}={self.flavor.anchor_filter_value(a)})"
                            for a in chunk)
            for partition in self.settings.partitions:
                # Not paged: callers read this between pages of another paged search, and
                # OpenLDAP keeps one paged-results state per connection.
                for dn, attrs in self.conn.search_s(partition, ldap.SCOPE_SUBTREE,
                                                    f"(|{terms})", list(attributes)):
                    anchor = self.anchor_of(attrs) if dn else None
                    if anchor:
                        found[anchor] = (dn, attrs)
        return found


    def read_entry(self, dn: str, anchor: str | None, attributes: Sequence[str]
                   ) -> Entry | None:
        """One entry by a base-scope search on its DN; by its anchor when the DN is gone (a
        rename since the last import). None: the directory has no such entry."""
        try:
            found = self.conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)",
                                       list(attributes))
        except ldap.NO_SUCH_OBJECT:
            found = []
        for entry_dn, attrs in found:
            if entry_dn:
                return (entry_dn, attrs)
        if anchor:
            return self.read_by_anchor([anchor], attributes).get(anchor)
        return None


def _under(dn: str, container: str) -> bool:
    return is_under(dn, container)


def _text_or_bytes(value: bytes) -> Value:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value
