"""The LDIF reader: bytes in 1 MiB blocks -> raw records (with byte offsets) -> records."""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, TypeVar

from idsync.filedir.ldif.records import (
    _ATTR_DESCRIPTION,
    AddRecord,
    ChangeRecord,
    ContentRecord,
    Control,
    DeleteRecord,
    LdifError,
    LdifRecord,
    ModDnRecord,
    Modification,
    ModifyRecord,
    Value,
)
from idsync.filedir.ldif.urls import read_url_value

T = TypeVar("T")

# A plain ``name: value`` line; FILL spaces after the colon are not part of the value.
_PLAIN_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9;.-]*): *(.*)$", re.MULTILINE)
_CONTROL = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)*)(?:\s+(true|false))?\s*(:.*)?$", re.DOTALL)

# --- reading: physical lines -> raw records -----------------------------------------------


class RawRecord:
    """One record as it sits in the file: the exact bytes (comments and folding kept) and,
    computed on first use, the unfolded logical lines (comments dropped), each as
    ``(line number, byte offset of the record, content)``."""

    __slots__ = ("_lines", "end_offset", "first_line", "raw", "start_offset")

    def __init__(self, raw: bytes, first_line: int, start_offset: int, end_offset: int) -> None:
        self.raw = raw
        self.first_line = first_line
        self.start_offset = start_offset
        self.end_offset = end_offset
        self._lines: list[tuple[int, int, bytes]] | None = None

    @property
    def lines(self) -> list[tuple[int, int, bytes]]:
        if self._lines is None:
            self._lines = _logical_lines(self.raw, self.first_line, self.start_offset)
        return self._lines

    @lines.setter
    def lines(self, lines: list[tuple[int, int, bytes]]) -> None:
        self._lines = lines


_CHUNK = 1 << 20
_SEPARATOR = re.compile(rb"\n(?:\r?\n)+")  # end of a line, then one or more blank lines
_BLANKS = re.compile(rb"(?:\r?\n)*")


def iter_raw_records(
    fp: BinaryIO, start: int = 0, end: int | None = None
) -> Iterator[RawRecord]:
    """Split a binary stream positioned at ``start`` into records, reading no further than
    byte ``end``. Reads in 1 MiB blocks and splits on blank lines; one record at a time is
    held (plus the block it sits in).

    Blocks holding only comments are yielded too (with no lines) so a rewrite can copy them.
    """
    buf = b""
    base = start  # file offset of buf[0]
    pos = 0
    lineno = 1  # line number at buf[pos], counted from ``start``
    searched = 0  # where in buf the separator search may resume
    remaining = None if end is None else max(0, end - start)
    eof = False
    while True:
        blank = _BLANKS.match(buf, pos)
        if blank is not None and blank.end() > pos:
            lineno += buf.count(b"\n", pos, blank.end())
            pos = blank.end()
        sep = _SEPARATOR.search(buf, max(pos, searched))
        if sep is None and not eof:
            buf, base, pos = buf[pos:], base + pos, 0
            searched = max(0, len(buf) - 2)
            size = _CHUNK if remaining is None else min(_CHUNK, remaining)
            chunk = fp.read(size) if size else b""
            if remaining is not None:
                remaining -= len(chunk)
            eof = not chunk
            buf += chunk
            continue
        if sep is None:
            if pos >= len(buf):
                return
            text, following = buf[pos:], len(buf)
        else:
            text, following = buf[pos : sep.start() + 1], sep.end()
        yield _raw_record(text, lineno, base + pos)
        lineno += buf.count(b"\n", pos, following)
        pos = following
        searched = pos


def _raw_record(text: bytes, lineno: int, offset: int) -> RawRecord:
    return RawRecord(text, lineno, offset, offset + len(text))


def _logical_lines(text: bytes, lineno: int, offset: int) -> list[tuple[int, int, bytes]]:
    physical = text.split(b"\n")
    if physical[-1] == b"":
        physical.pop()
    if b"\r" in text:
        physical = [line[:-1] if line.endswith(b"\r") else line for line in physical]
    if b"\n " not in text and b"\n#" not in text and text[:1] not in (b" ", b"#"):
        # The common case: no folding, no comments.
        return [(lineno + i, offset, line) for i, line in enumerate(physical)]
    lines: list[tuple[int, int, bytes]] = []
    in_comment = False
    for index, line in enumerate(physical):
        if line.startswith(b" "):
            if in_comment:
                continue
            if not lines:
                raise LdifError("continuation line with no line to continue", lineno + index,
                                offset)
            number, _, content = lines[-1]
            lines[-1] = (number, offset, content + line[1:])
        elif line.startswith(b"#"):
            in_comment = True
        else:
            in_comment = False
            lines.append((lineno + index, offset, line))
    return lines


# --- reading: raw record -> record --------------------------------------------------------


_NUL = "a NUL character is not allowed in a text value (binary attributes may hold one)"


class _Parser:
    def __init__(self, binary_attributes: Iterable[str],
                 file_urls_under: str | None = None, *, refuse_nul: bool = False) -> None:
        self.binary = {name.lower() for name in binary_attributes}
        #: Refuse a base64 text value holding NUL too (a plain one is never SAFE-STRING).
        self.refuse_nul = refuse_nul
        #: The one directory file: URL values may be read from (None: URL values refused).
        self.file_urls_under = file_urls_under
        self._names: dict[bytes, str] = {}  # validated attribute descriptions
        self._binary_cache: dict[str, bool] = {}
        self._valid_names: set[str] = set()

    def is_binary(self, attribute: str) -> bool:
        known = self._binary_cache.get(attribute)
        if known is None:
            base, *options = attribute.split(";")
            known = base.lower() in self.binary or any(o.lower() == "binary" for o in options)
            self._binary_cache[attribute] = known
        return known

    def split(self, line: tuple[int, int, bytes]) -> tuple[str, bytes, str]:
        """-> (attribute, value bytes, how: 'text' | 'base64' | 'url')."""
        lineno, offset, content = line
        raw_name, colon, rest = content.partition(b":")
        name = self._names.get(raw_name)
        if name is None:
            if not colon or not raw_name:
                raise LdifError(f"expected 'attribute: value', got {_shown(content)}",
                                lineno, offset)
            name = raw_name.decode("ascii", errors="replace")
            if not _ATTR_DESCRIPTION.match(name):
                raise LdifError(f"invalid attribute description {name!r}", lineno, offset)
            if len(self._names) < 10_000:
                self._names[raw_name] = name
        first = rest[:1]
        if first == b":":
            encoded = rest[1:].strip(b" ")
            try:
                return name, base64.b64decode(encoded, validate=True), "base64"
            except (binascii.Error, ValueError):
                raise LdifError(f"invalid base64 value for {name}", lineno, offset) from None
        if first == b"<":
            return name, read_url_value(name, rest[1:].strip(b" "), self.file_urls_under,
                                        lineno, offset), "url"
        return name, rest.lstrip(b" ") if first == b" " else rest, "text"

    def value(self, line: tuple[int, int, bytes]) -> tuple[str, Value]:
        name, data, how = self.split(line)
        if how == "text":
            if b"\0" in data:
                raise LdifError(f"{name}: {_NUL}", *line[:2])
            try:
                return name, data.decode("utf-8")
            except UnicodeDecodeError:
                raise LdifError(f"{name}: value is not valid UTF-8 (use base64)",
                                *line[:2]) from None
        if self.is_binary(name):
            return name, data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return name, data
        if self.refuse_nul and "\0" in text:
            # The stores keep text values in text columns (join index, DNs), where PostgreSQL
            # refuses NUL; a directory string holding one is an error, not data.
            raise LdifError(f"{name}: {_NUL}", *line[:2])
        return name, text

    @staticmethod
    def text(data: bytes, line: tuple[int, int, bytes]) -> str:
        if b"\0" in data:
            raise LdifError(_NUL, line[0], line[1])
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise LdifError("value is not valid UTF-8 (use base64)", line[0], line[1]) from None

    def string(self, line: tuple[int, int, bytes], expected: str) -> str:
        """A value that must be text (dn, newrdn, changetype...)."""
        name, data, _how = self.split(line)
        if name.lower() != expected:
            raise LdifError(f"expected '{expected}:', got '{name}:'", line[0], line[1])
        return self.text(data, line)

    def plain_entry(self, raw: RawRecord) -> ContentRecord | None:
        """The fast path of content records with only plain ``name: value`` lines (no
        base64, URLs, folding, comments or CR): one decode and one regex pass in C. None when
        the record needs the full parser, which also reports any error."""
        text = raw.raw
        if (b"::" in text or b":<" in text or b"\n " in text or b"\n#" in text
                or b"\r" in text or b"\0" in text or text[:1] in (b" ", b"#")):
            return None
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError:
            return None
        pairs = _PLAIN_LINE.findall(decoded)
        lines = decoded.count("\n") + (not decoded.endswith("\n"))
        if len(pairs) != lines or len(pairs) < 2 or pairs[0][0].lower() != "dn" or pairs[1][
                0].lower() in ("changetype", "control"):
            return None
        valid = self._valid_names
        attributes: dict[str, list[Value]] = {}
        keys: dict[str, str] = {}
        for name, value in pairs[1:]:
            values = attributes.get(name)
            if values is None:
                if name not in valid:
                    if not _ATTR_DESCRIPTION.match(name):
                        return None
                    valid.add(name)
                key = keys.setdefault(name.lower(), name)
                values = attributes.setdefault(key, [])
            values.append(value)
        return ContentRecord(pairs[0][1], attributes, line=raw.first_line,
                             end_offset=raw.end_offset)

    def record(self, raw: RawRecord) -> LdifRecord:
        lines = raw.lines
        first = lines[0]
        dn = self.string(first, "dn")
        controls: list[Control] = []
        index = 1
        while index < len(lines) and self.name_of(lines[index]) == "control":
            controls.append(self.control(lines[index]))
            index += 1
        lineno = first[0]
        if index < len(lines) and self.name_of(lines[index]) == "changetype":
            changetype = self.string(lines[index], "changetype").strip().lower()
            body = lines[index + 1 :]
            return self.change(dn, changetype, body, controls, lines[index], raw, lineno)
        if controls:
            raise LdifError("control: is only allowed in change records", lines[1][0],
                            lines[1][1])
        attributes = self.attributes(lines[1:])
        if not attributes:
            raise LdifError(f"entry {dn!r} has no attributes", lineno, first[1])
        return ContentRecord(dn, attributes, line=lineno, end_offset=raw.end_offset)

    @staticmethod
    def name_of(line: tuple[int, int, bytes]) -> str:
        return line[2].split(b":", 1)[0].decode("ascii", errors="replace").strip().lower()

    def attributes(self, lines: list[tuple[int, int, bytes]]) -> dict[str, list[Value]]:
        # The hot loop of every import: plain text values of known names are decoded inline;
        # anything else (base64, URLs, new names, errors) goes through value().
        attributes: dict[str, list[Value]] = {}
        keys: dict[str, str] = {}  # lowercased -> first spelling seen in this record
        names = self._names
        for line in lines:
            raw_name, _, rest = line[2].partition(b":")
            name = names.get(raw_name)
            first = rest[:1]
            value: Value
            if name is None or first == b":" or first == b"<" or b"\0" in rest:
                name, value = self.value(line)
            else:
                try:
                    value = (rest.lstrip(b" ") if first == b" " else rest).decode("utf-8")
                except UnicodeDecodeError:
                    name, value = self.value(line)  # raises with the line number
            values = attributes.get(name)
            if values is None:
                key = keys.setdefault(name.lower(), name)
                values = attributes.setdefault(key, [])
            values.append(value)
        return attributes

    def control(self, line: tuple[int, int, bytes]) -> Control:
        _, data, how = self.split(line)
        match = _CONTROL.match(data.decode("utf-8", errors="replace")) if how == "text" else None
        if not match:
            raise LdifError("malformed control: line", line[0], line[1])
        oid, critical, spec = match.groups()
        value: Value | None = None
        if spec is not None:
            fake = (line[0], line[1], b"value" + spec.encode("utf-8"))
            value = self.value(fake)[1]
        return Control(oid, critical == "true", value)

    def change(
        self,
        dn: str,
        changetype: str,
        body: list[tuple[int, int, bytes]],
        controls: list[Control],
        ct_line: tuple[int, int, bytes],
        raw: RawRecord,
        lineno: int,
    ) -> ChangeRecord:
        end = raw.end_offset
        if changetype == "add":
            attributes = self.attributes(body)
            if not attributes:
                raise LdifError(f"changetype add of {dn!r} has no attributes", *ct_line[:2])
            return AddRecord(dn, attributes, controls, line=lineno, end_offset=end)
        if changetype == "delete":
            if body:
                raise LdifError("changetype delete takes no attributes", *body[0][:2])
            return DeleteRecord(dn, controls, line=lineno, end_offset=end)
        if changetype == "modify":
            return ModifyRecord(dn, self.modifications(body), controls, line=lineno,
                                end_offset=end)
        if changetype in ("modrdn", "moddn"):
            return self.moddn(dn, body, controls, ct_line, lineno, end)
        raise LdifError(f"unknown changetype {changetype!r}", *ct_line[:2])

    def modifications(self, body: list[tuple[int, int, bytes]]) -> list[Modification]:
        mods: list[Modification] = []
        current: Modification | None = None
        for line in body:
            if line[2].rstrip(b" ") == b"-":
                if current is None:
                    raise LdifError("'-' with no modification to end", *line[:2])
                mods.append(current)
                current = None
                continue
            if current is None:
                op, data, how = self.split(line)
                op = op.lower()
                if op not in ("add", "delete", "replace"):
                    raise LdifError(f"expected add:, delete: or replace:, got {op!r}", *line[:2])
                attribute = self.text(data, line).strip() if how == "text" else ""
                if not _ATTR_DESCRIPTION.match(attribute):
                    raise LdifError(f"invalid attribute {attribute!r} in {op}:", *line[:2])
                current = Modification(op, attribute)  # type: ignore[arg-type]
                continue
            name, value = self.value(line)
            if name.lower() != current.attribute.lower():
                raise LdifError(
                    f"value for {name!r} inside the {current.op}: {current.attribute} part "
                    "(missing '-'?)", *line[:2])
            current.values.append(value)
        if current is not None:  # tolerate a missing final '-'
            mods.append(current)
        return mods

    def moddn(
        self,
        dn: str,
        body: list[tuple[int, int, bytes]],
        controls: list[Control],
        ct_line: tuple[int, int, bytes],
        lineno: int,
        end: int,
    ) -> ModDnRecord:
        fields: dict[str, str] = {}
        for line in body:
            name, data, _how = self.split(line)
            name = name.lower()
            if name not in ("newrdn", "deleteoldrdn", "newsuperior") or name in fields:
                raise LdifError(f"unexpected {name}: in a modrdn record", *line[:2])
            fields[name] = self.text(data, line)
        if "newrdn" not in fields:
            raise LdifError("modrdn record without newrdn:", *ct_line[:2])
        delete_old = fields.get("deleteoldrdn", "1").strip()
        if delete_old not in ("0", "1"):
            raise LdifError(f"deleteoldrdn must be 0 or 1, got {delete_old!r}", *ct_line[:2])
        return ModDnRecord(dn, fields["newrdn"], delete_old == "1", fields.get("newsuperior"),
                           controls, line=lineno, end_offset=end)


def read_ldif(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    binary_attributes: Iterable[str] = (),
    start: int = 0,
    end: int | None = None,
    file_urls_under: str | None = None,
) -> Iterator[LdifRecord]:
    """Stream the records of an LDIF file (path or seekable binary file object) from byte
    ``start`` up to byte ``end``. Each record's ``end_offset`` is where reading can resume
    after it. URL values are refused unless ``file_urls_under`` names the directory whose
    files ``file:`` URLs may read (idsync.filedir.ldif.urls)."""
    yield from read_from(source, start,
                         lambda fp: _read(fp, binary_attributes, start, end, file_urls_under))


def read_from(source: str | os.PathLike[str] | BinaryIO, start: int,
              read: Callable[[BinaryIO], Iterator[T]]) -> Iterator[T]:
    """``read`` over ``source`` (a path, opened and closed here, or a binary file object)
    positioned at byte ``start``: how every LDIF reader of this package opens its input."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            handle.seek(start)
            yield from read(handle)
    else:
        if start or source.seekable():
            source.seek(start)
        yield from read(source)


def _read(fp: BinaryIO, binary_attributes: Iterable[str], start: int,
          end: int | None, file_urls_under: str | None = None) -> Iterator[LdifRecord]:
    parser = _Parser(binary_attributes, file_urls_under)
    first = True
    for raw in iter_raw_records(fp, start, end):
        if first:
            first = False
            if start == 0 and raw.lines and parser.name_of(raw.lines[0]) == "version":
                version = parser.string(raw.lines[0], "version").strip()
                if version != "1":
                    raise LdifError(f"unsupported LDIF version {version!r}",
                                    *raw.lines[0][:2])
                raw.lines = raw.lines[1:]
        if (raw._lines is not None or raw.raw[:1] == b"#") and not raw.lines:
            continue  # comments only (or the version line alone)
        yield parse_raw(raw, parser)


def parse_raw(raw: RawRecord, parser: _Parser | None = None,
              binary_attributes: Iterable[str] = ()) -> LdifRecord:
    """Parse one raw record (from :func:`iter_raw_records`)."""
    parser = parser or _Parser(binary_attributes)
    if raw._lines is None:
        fast = parser.plain_entry(raw)
        if fast is not None:
            return fast
    if parser.name_of(raw.lines[0]) != "dn":
        line = raw.lines[0]
        raise LdifError(f"a record must start with 'dn:', got {_shown(line[2])}", *line[:2])
    return parser.record(raw)


def _shown(content: bytes) -> str:
    """A line in a message: its start, as text, quoted."""
    return repr(content[:40].decode("utf-8", errors="backslashreplace"))


_DN_PARSER = _Parser([])


def raw_dn(raw: RawRecord) -> str | None:
    """The DN of a raw record without parsing the rest (None for a comment block)."""
    text = raw.raw
    if text[:4] == b"dn: ":
        newline = text.find(b"\n")
        first = text if newline < 0 else text[:newline]
        if text[newline + 1 : newline + 2] != b" " and not first.endswith(b"\r"):
            try:
                return first[4:].lstrip(b" ").decode("utf-8")
            except UnicodeDecodeError:
                pass  # the full parser reports it
    for line in raw.lines:
        if _Parser.name_of(line) == "version":
            continue
        return _DN_PARSER.string(line, "dn") if _Parser.name_of(line) == "dn" else None
    return None

