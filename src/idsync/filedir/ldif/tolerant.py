"""Reading an LDIF file record by record, where a record that cannot be read is reported and
the next one is read anyway.

``read_ldif`` stops at the first malformed record (right for files idsync wrote itself). A
directory's content file or changelog written by someone else gets :func:`read_tolerant`: each
record comes back parsed, or as an :class:`Unreadable` naming its line, the reason and, when it
can still be told, its DN. What an unreadable record means for the objects it names is the
connector's and the engine's business (docs/decisions/ldif-input.md).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from idsync.filedir.ldif.reader import (
    RawRecord,
    _Parser,
    iter_raw_records,
    parse_raw,
    read_from,
)
from idsync.filedir.ldif.records import LdifError, LdifRecord
from idsync.filedir.ldif.urls import UrlValueRefused

# A dn: line inside a record: the blank line before the next record is missing, and two
# entries read as one (the second one's DN an attribute of the first).
_INNER_DN = re.compile(rb"\n[dD][nN]:")

TRUNCATED = ("the file ends in the middle of this record (no line break after its last line): "
             "it may be truncated; if the record is complete, end the file with a line break")


@dataclass(slots=True)
class Unreadable:
    """A record that could not be read."""

    #: The line the problem is on (1-based, counted from where reading started).
    line: int
    reason: str
    #: The record's DN when its ``dn:`` line could be read, else None.
    dn: str | None
    raw: RawRecord
    end_offset: int

    #: The record named a URL value (refused, or outside the allowed directory).
    url_refused: bool = False
    #: The record may hold several entries: no DN or anchor in it says which objects.
    ambiguous: bool = False

    def value_of(self, attribute: str) -> tuple[bool, bytes | None]:
        """(whether the record has a line for ``attribute``, its first value if readable)."""
        return first_value(self.raw, attribute)


def read_tolerant(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    binary_attributes: Iterable[str] = (),
    start: int = 0,
    end: int | None = None,
    file_urls_under: str | None = None,
) -> Iterator[LdifRecord | Unreadable]:
    """Like ``read_ldif``, but a malformed record is yielded as an :class:`Unreadable` and
    reading goes on with the next record."""
    yield from read_from(source, start,
                         lambda fp: _read(fp, binary_attributes, start, end, file_urls_under))


def _read(fp: BinaryIO, binary_attributes: Iterable[str], start: int, end: int | None,
          file_urls_under: str | None) -> Iterator[LdifRecord | Unreadable]:
    parser = _Parser(binary_attributes, file_urls_under, refuse_nul=True)
    first = True
    for raw in iter_raw_records(fp, start, end):
        try:
            if first and start == 0:
                problem = _version(raw, parser)
                if problem is not None:
                    # The version line is wrong, the records may still be LDIF: each is
                    # read (and reported) on its own. No DN: nothing is inferred deleted.
                    yield Unreadable(problem.line or raw.first_line, problem.message, None,
                                     raw, raw.end_offset)
            elif _version_alone(raw):
                continue  # a repeated "version: 1" (two files concatenated) says nothing
            first = False
            if (raw._lines is not None or raw.raw[:1] == b"#") and not raw.lines:
                # Comments only (or the version line alone). Lines are split only where
                # they may be empty: parse_raw's fast path wants them unsplit.
                continue
            if not raw.raw.endswith(b"\n"):
                # Only the last record of a file can end without a line break: cut short.
                yield Unreadable(raw.first_line + raw.raw.count(b"\n"), TRUNCATED,
                                 record_dn(raw), raw, raw.end_offset)
                continue
            inner = _INNER_DN.search(raw.raw)
            if inner is not None and _lines_before(raw.raw[:inner.start()]):
                line = raw.first_line + raw.raw.count(b"\n", 0, inner.start() + 1)
                yield Unreadable(line, "a dn: line inside a record: a blank line is missing "
                                 "before it, so two entries run together", None, raw,
                                 raw.end_offset, ambiguous=True)
                continue
            yield parse_raw(raw, parser)
        except LdifError as exc:
            first = False
            yield Unreadable(exc.line or raw.first_line, exc.message, record_dn(raw), raw,
                             raw.end_offset, isinstance(exc, UrlValueRefused))


def _lines_before(head: bytes) -> bool:
    """Whether a record has a line of its own before a dn: line (not a comment, a stray
    continuation or the file's version line)."""
    return any(line.strip(b"\r") and line[:1] not in (b" ", b"#")
               and not line.lower().startswith(b"version:") for line in head.split(b"\n"))


def _version(raw: RawRecord, parser: _Parser) -> LdifError | None:
    """Drop the version line of the file's first block; the problem with it, if any."""
    if not raw.lines or _Parser.name_of(raw.lines[0]) != "version":
        return None
    line = raw.lines[0]
    raw.lines = raw.lines[1:]
    try:
        version = parser.string(line, "version").strip()
    except LdifError as exc:
        return exc
    if version != "1":
        return LdifError(f"unsupported LDIF version {version!r} (only version: 1 exists); "
                         "the records were read as version 1", line[0], line[1])
    return None


def _version_alone(raw: RawRecord) -> bool:
    # Looked at for every record: a group's record may be megabytes, so only a short one.
    return len(raw.raw) < 16 and raw.raw.replace(b"\r", b"").strip() == b"version: 1"


def _physical(raw: RawRecord) -> list[tuple[int, bytes]]:
    """The record's lines unfolded by hand (comments and a leading continuation skipped): the
    parser's own unfolding may be what failed."""
    out: list[tuple[int, bytes]] = []
    in_comment = False
    for index, line in enumerate(raw.raw.split(b"\n")):
        line = line.removesuffix(b"\r")
        if line.startswith(b" "):
            if out and not in_comment:
                number, content = out[-1]
                out[-1] = (number, content + line[1:])
            continue
        in_comment = line.startswith(b"#")
        if not in_comment and line:
            out.append((raw.first_line + index, line))
    return out


def first_value(raw: RawRecord, attribute: str) -> tuple[bool, bytes | None]:
    """(whether the record has a line for ``attribute``, its first value's bytes when that
    line can be read)."""
    wanted = attribute.lower().encode("ascii", "replace")
    for _, line in _physical(raw):
        name, colon, rest = line.partition(b":")
        if not colon or name.lower() != wanted:
            continue
        return True, _decode_bytes(rest)
    return False, None


def record_dn(raw: RawRecord) -> str | None:
    """The DN of a record that could not be read, when its first line is a readable ``dn:``
    line (control characters make it unreadable: no store could hold or find it)."""
    lines = [line for line in _physical(raw) if not line[1].lower().startswith(b"version:")]
    if not lines:
        return None
    name, colon, rest = lines[0][1].partition(b":")
    if not colon or name.lower() != b"dn":
        return None
    return _decode(rest)


def _decode_bytes(rest: bytes) -> bytes | None:
    if rest[:1] == b"<":
        return None  # never followed here
    if rest[:1] == b":":
        try:
            return base64.b64decode(rest[1:].strip(b" "), validate=True)
        except (binascii.Error, ValueError):
            return None
    return rest.lstrip(b" ")


def _decode(rest: bytes) -> str | None:
    data = _decode_bytes(rest)
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 for c in text):
        return None
    return text
