"""LDIF records: content records and the four kinds of change records, as dataclasses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from idsync.errors import IdsyncError

Value = str | bytes

_ATTR_DESCRIPTION = re.compile(
    r"^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)(?:;[A-Za-z0-9-]+)*$"
)


class LdifError(IdsyncError):
    """Malformed LDIF. ``line`` is the 1-based line number (counted from where reading
    started) and ``offset`` the byte offset of the record holding it."""

    def __init__(self, message: str, line: int | None = None, offset: int | None = None) -> None:
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{message}")
        self.line = line
        self.offset = offset
        self.message = message


# --- records ------------------------------------------------------------------------------


@dataclass(slots=True)
class Control:
    oid: str
    criticality: bool = False
    value: Value | None = None


@dataclass(slots=True)
class Modification:
    op: Literal["add", "delete", "replace"]
    attribute: str
    #: For ``delete``, no values deletes the whole attribute; for ``replace``, no values
    #: removes it.
    values: list[Value] = field(default_factory=list)


@dataclass(slots=True)
class ContentRecord:
    dn: str
    attributes: dict[str, list[Value]] = field(default_factory=dict)
    line: int = field(default=0, compare=False)
    end_offset: int = field(default=0, compare=False)


@dataclass(slots=True)
class AddRecord:
    dn: str
    attributes: dict[str, list[Value]] = field(default_factory=dict)
    controls: list[Control] = field(default_factory=list)
    line: int = field(default=0, compare=False)
    end_offset: int = field(default=0, compare=False)


@dataclass(slots=True)
class DeleteRecord:
    dn: str
    controls: list[Control] = field(default_factory=list)
    line: int = field(default=0, compare=False)
    end_offset: int = field(default=0, compare=False)


@dataclass(slots=True)
class ModifyRecord:
    dn: str
    modifications: list[Modification] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)
    line: int = field(default=0, compare=False)
    end_offset: int = field(default=0, compare=False)


@dataclass(slots=True)
class ModDnRecord:
    """``changetype: modrdn`` (or its synonym ``moddn``): rename and/or move."""

    dn: str
    newrdn: str
    deleteoldrdn: bool = True
    newsuperior: str | None = None
    controls: list[Control] = field(default_factory=list)
    line: int = field(default=0, compare=False)
    end_offset: int = field(default=0, compare=False)


ChangeRecord = AddRecord | DeleteRecord | ModifyRecord | ModDnRecord
LdifRecord = ContentRecord | ChangeRecord


def is_attribute_description(name: str) -> bool:
    """An RFC 4512 attribute description: a name or OID, then ``;options``."""
    return bool(_ATTR_DESCRIPTION.match(name))


def get_values(attributes: dict[str, list[Value]], name: str) -> list[Value]:
    """The values of ``name`` (attribute names are case-insensitive in LDAP)."""
    key = find_key(attributes, name)
    return attributes[key] if key is not None else []


def find_key(attributes: dict[str, list[Value]], name: str) -> str | None:
    if name in attributes:
        return name
    lowered = name.lower()
    for key in attributes:
        if key.lower() == lowered:
            return key
    return None

