"""The file connector's unreadable records: what in its LDIF files cannot be imported, reported
as import errors (``ldif-record-unreadable``, ``ldif-url-refused``) with the file, the line
and the reason, while the rest of the file is imported.

On top of the LDIF syntax (``ldif.tolerant``) a record is refused here when its DN is not a
DN (RFC 4514), when the content file repeats a DN (a directory holds one entry per DN: the
first one is imported) and when a record is of the wrong kind for its file (a change record in
the content file, an entry in the changelog). Each refusal carries the DN and anchor of the
object the record stands for when they can still be read, so the engine keeps that object as it
is instead of inferring it deleted (idsync.engine.unreadable).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from idsync.connectors.base import UnreadableRecord
from idsync.error_codes import ErrorCode
from idsync.filedir.dn import _strip, normalize_dn, split_dn
from idsync.filedir.entries import anchor_string
from idsync.filedir.ldif import ContentRecord, LdifRecord, Value
from idsync.filedir.ldif.tolerant import Unreadable, read_tolerant

_ATTRIBUTE_TYPE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$")
_HEX = frozenset("0123456789abcdefABCDEF")
_ESCAPABLE = frozenset(' "#+,;<=>\\')
# The usual DN (no escapes, quotes, multi-valued RDNs or hex values), checked in one C pass:
# a full import checks every entry's DN.
_PLAIN_RDN = r'[A-Za-z][A-Za-z0-9-]*=[^,+"\\<>;#\x00 ][^,+"\\<>;\x00]*'
_PLAIN_DN = re.compile(rf"{_PLAIN_RDN}(?:,{_PLAIN_RDN})*")


def dn_problem(dn: str) -> str | None:
    """Why ``dn`` is not an RFC 4514 distinguished name (None when it is one). Blanks around
    separators, ``;`` separators and quoted values (RFC 1779) are accepted as idsync.dn reads
    them."""
    if _PLAIN_DN.fullmatch(dn):
        return None
    if not dn.strip():
        return "an entry needs a DN"
    for rdn in split_dn(dn):
        if not rdn:
            return "empty RDN (two commas in a row, or a comma at an end)"
        for ava in _split_avas(rdn):
            attribute, equals, value = ava.partition("=")
            if not equals:
                return f"RDN {rdn!r} has no '='"
            if not _ATTRIBUTE_TYPE.match(attribute.strip(" ")):
                return f"invalid attribute type {attribute.strip()!r} in RDN '{rdn}'"
            problem = _value_problem(_strip(value))
            if problem:
                return f"{problem} in RDN '{rdn}'"
    return None


def _split_avas(rdn: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    escaped = quoted = False
    for char in rdn:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "+" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _value_problem(value: str) -> str | None:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return None  # an RFC 1779 quoted value
    if value.startswith("#"):
        body = value[1:]
        if body and len(body) % 2 == 0 and all(c in _HEX for c in body):
            return None  # a BER-encoded value in hex
    escaped = bytearray()
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\":
            pair = value[i + 1 : i + 3]
            if len(pair) == 2 and all(c in _HEX for c in pair):
                escaped.append(int(pair, 16))
                i += 3
                continue
            if _flush(escaped):
                return "an escape sequence that is not UTF-8"
            if i + 1 >= len(value):
                return "a trailing backslash"
            if value[i + 1] not in _ESCAPABLE:
                return f"an invalid escape '\\{value[i + 1]}'"
            i += 2
            continue
        if _flush(escaped):
            return "an escape sequence that is not UTF-8"
        if char in '"<>':
            return f"an unescaped {char!r}"
        i += 1
    if _flush(escaped):
        return "an escape sequence that is not UTF-8"
    return None


def _flush(escaped: bytearray) -> bool:
    """Whether the hex escapes collected so far are not UTF-8 (and forget them)."""
    if not escaped:
        return False
    try:
        bytes(escaped).decode("utf-8")
    except UnicodeDecodeError:
        return True
    finally:
        escaped.clear()
    return False


@dataclass(slots=True)
class Refused:
    """An unreadable record and the byte offset after it (a delta import's watermark)."""

    error: UnreadableRecord
    end_offset: int


class RecordChecks:
    """Reads one of the connector's files tolerantly and refuses what cannot be imported."""

    def __init__(self, binary_attributes: Iterable[str], anchor_attribute: str,
                 dn_anchor: Callable[[str], str], file_urls_under: str | None) -> None:
        self.binary = frozenset(name.lower() for name in binary_attributes)
        self._binary_names = tuple(binary_attributes)
        self.anchor_attribute = anchor_attribute
        self.dn_anchor = dn_anchor
        self.file_urls_under = file_urls_under

    def entries(self, source: BinaryIO, path: str) -> Iterator[ContentRecord | Refused]:
        """The content file's entries; change records, bad DNs and repeated DNs refused."""
        # A directory's content file holds one entry per DN. Each DN is remembered by its
        # 64-bit hash (a 262,000-entry file keeps ~20 MB, not its DNs): a collision would
        # refuse one entry with a wrong message, at odds of about 1 in 10^8.
        first_at: dict[int, int] = {}
        for item in self._read(source, 0, None):
            if isinstance(item, Unreadable):
                yield self._refused(item, path)
                continue
            if not isinstance(item, ContentRecord):
                kind = type(item).__name__.removesuffix("Record").lower()
                yield self.refuse(path, item.line, item.dn, item.end_offset,
                                  f"a change record (changetype: {kind}) in the content file, "
                                  "which holds entries only")
                continue
            problem = dn_problem(item.dn)
            if problem:
                yield self.refuse(path, item.line, item.dn, item.end_offset,
                                  f"invalid DN '{item.dn}': {problem}", attributes=item)
                continue
            key = hash(normalize_dn(item.dn))
            seen = first_at.setdefault(key, item.line)
            if seen != item.line:
                yield self.refuse(path, item.line, item.dn, item.end_offset,
                                  f"the DN '{item.dn}' is already the entry at line {seen}; "
                                  "a DN names one entry: this one is not imported",
                                  attributes=item)
                continue
            yield item

    def changes(self, path: str, start: int, end: int) -> Iterator[LdifRecord | Refused]:
        """The changelog's change records; entries without changetype refused."""
        for item in self._read(path, start, end):
            if isinstance(item, Unreadable):
                yield self._refused(item, path)
            elif isinstance(item, ContentRecord):
                yield self.refuse(path, item.line, item.dn, item.end_offset,
                                  "an entry without changetype in the changes file, which "
                                  "holds change records only")
            elif dn_problem(item.dn):
                yield self.refuse(path, item.line, item.dn, item.end_offset,
                                  f"invalid DN '{item.dn}': {dn_problem(item.dn)}")
            else:
                yield item

    def _read(self, source: str | BinaryIO, start: int, end: int | None
              ) -> Iterator[LdifRecord | Unreadable]:
        return read_tolerant(source, binary_attributes=self._binary_names, start=start,
                             end=end, file_urls_under=self.file_urls_under)

    def _refused(self, item: Unreadable, path: str) -> Refused:
        code = (ErrorCode.LDIF_URL_REFUSED if item.url_refused
                else ErrorCode.LDIF_RECORD_UNREADABLE)
        has_line, value = item.value_of(self.anchor_attribute)
        anchor = None
        if item.ambiguous:
            pass  # several entries' lines: none of their anchors or DNs speaks for all
        elif has_line:
            anchor = anchor_string(self._typed(value)) if value is not None else None
        elif item.dn is not None:
            anchor = self.dn_anchor(item.dn)  # what the entry is imported under
        return Refused(UnreadableRecord(code, f"{path}, line {item.line}: {item.reason}",
                                        item.dn, anchor), item.end_offset)

    def refuse(self, path: str, line: int, dn: str, end_offset: int, reason: str, *,
               attributes: ContentRecord | None = None) -> Refused:
        anchor = None
        if attributes is not None:
            value = next(iter(_values(attributes, self.anchor_attribute)), None)
            anchor = anchor_string(value) if value is not None else self.dn_anchor(dn)
        return Refused(UnreadableRecord(ErrorCode.LDIF_RECORD_UNREADABLE,
                                        f"{path}, line {line}: {reason}", dn, anchor), end_offset)

    def _typed(self, value: bytes) -> str | bytes:
        # As the reader types it: bytes for a binary attribute or a value that is not UTF-8.
        if self.anchor_attribute.lower() in self.binary:
            return value
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value


def _values(record: ContentRecord, name: str) -> list[Value]:
    lowered = name.lower()
    for key, values in record.attributes.items():
        if key.lower() == lowered:
            return list(values)
    return []
