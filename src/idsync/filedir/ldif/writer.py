"""The LDIF writer: base64 where a value is not a plain ASCII SAFE-STRING, folding at 76."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from typing import BinaryIO

from idsync.filedir.ldif.records import (
    _ATTR_DESCRIPTION,
    AddRecord,
    ContentRecord,
    Control,
    DeleteRecord,
    LdifError,
    LdifRecord,
    ModDnRecord,
    ModifyRecord,
    Value,
)

FOLD_COLUMN = 76


# --- writing ------------------------------------------------------------------------------


def _spec(name: str, value: Value) -> str:
    """``name: value`` or ``name:: base64``, unfolded, always ASCII.

    A plain line needs an RFC 2849 SAFE-STRING: no NUL, CR or LF, no leading space, colon or
    '<', no trailing space. Non-ASCII values are base64-encoded too, so our files stay ASCII.
    """
    if type(value) is str:
        if not value:
            return f"{name}:"
        if (value.isascii() and value[0] not in " :<" and value[-1] != " "
                and "\n" not in value and "\r" not in value and "\0" not in value):
            return f"{name}: {value}"
        data = value.encode("utf-8")
    elif isinstance(value, str):  # a str subclass: always base64, as bytes would crash
        data = value.encode("utf-8")
    else:
        data = bytes(value)
    return f"{name}:: {base64.b64encode(data).decode('ascii')}"


def _fold(line: str, out: list[str]) -> None:
    # Every line we write is ASCII, so folding by characters is folding by bytes.
    if len(line) <= FOLD_COLUMN:
        out.append(line)
        return
    out.append(line[:FOLD_COLUMN])
    for index in range(FOLD_COLUMN, len(line), FOLD_COLUMN - 1):
        out.append(" " + line[index : index + FOLD_COLUMN - 1])


def format_attribute(name: str, value: Value) -> bytes:
    """One ``name: value`` line (base64 and folding as needed), newline included: for writers
    that stream one huge entry (a 250,000-member group) without building it in memory."""
    out: list[str] = []
    _fold(_spec(_check_name(name), value), out)
    out.append("")
    return "\n".join(out).encode("ascii")


_VALID_NAMES: set[str] = set()


def _check_name(name: str) -> str:
    if name not in _VALID_NAMES:
        if not _ATTR_DESCRIPTION.match(name):
            raise LdifError(f"invalid attribute description {name!r}")
        if len(_VALID_NAMES) < 10_000:
            _VALID_NAMES.add(name)
    return name


def _control_line(control: Control) -> str:
    head = f"control: {control.oid} {'true' if control.criticality else 'false'}"
    if control.value is None:
        return head
    return head + _spec("x", control.value)[1:]  # "x: ..." / "x:: ..." -> ": ..." / ":: ..."


def format_record(record: LdifRecord) -> bytes:
    """One record as LDIF bytes, ending with its blank separator line."""
    lines: list[str] = []
    _fold(_spec("dn", record.dn), lines)
    if not isinstance(record, ContentRecord):
        for control in record.controls:
            _fold(_control_line(control), lines)
    if isinstance(record, ContentRecord | AddRecord):
        if isinstance(record, AddRecord):
            lines.append("changetype: add")
        elif record.attributes and next(iter(record.attributes)).lower() in (
                "changetype", "control"):
            raise LdifError("a content record cannot start with changetype: or control:")
        for name, values in record.attributes.items():
            _check_name(name)
            for value in values:
                _fold(_spec(name, value), lines)
    elif isinstance(record, DeleteRecord):
        lines.append("changetype: delete")
    elif isinstance(record, ModifyRecord):
        lines.append("changetype: modify")
        for mod in record.modifications:
            _fold(f"{mod.op}: {_check_name(mod.attribute)}", lines)
            for value in mod.values:
                _fold(_spec(mod.attribute, value), lines)
            lines.append("-")
    elif isinstance(record, ModDnRecord):
        lines.append("changetype: modrdn")
        _fold(_spec("newrdn", record.newrdn), lines)
        lines.append("deleteoldrdn: " + ("1" if record.deleteoldrdn else "0"))
        if record.newsuperior is not None:
            _fold(_spec("newsuperior", record.newsuperior), lines)
    else:  # pragma: no cover - the union is closed
        raise TypeError(f"not an LDIF record: {record!r}")
    lines.append("\n")
    return "\n".join(lines).encode("ascii")


class LdifWriter:
    """Writes records to a binary stream; ``version: 1`` first when asked."""

    def __init__(self, fp: BinaryIO, *, version: bool = False) -> None:
        self.fp = fp
        if version:
            fp.write(b"version: 1\n\n")

    def write(self, record: LdifRecord) -> None:
        self.fp.write(format_record(record))

    def write_all(self, records: Iterable[LdifRecord]) -> None:
        for record in records:
            self.write(record)


def write_ldif(path: str | os.PathLike[str], records: Iterable[LdifRecord], *,
               version: bool = True) -> None:
    """Write records to a new file (not atomic; see the connector for atomic rewrites)."""
    with open(path, "wb") as handle:
        LdifWriter(handle, version=version).write_all(records)

