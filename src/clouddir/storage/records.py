"""What the storage package hands out and takes: tenants, directory objects, change-log rows
and quarantined values, plus the one error a database URL can raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ChangeKind(StrEnum):
    """The kind of a change-log row (stored as these one-letter values)."""

    OBJECT_CREATED = "n"
    OBJECT_CHANGED = "o"
    OBJECT_DELETED = "d"
    MEMBER_ADDED = "+"
    MEMBER_REMOVED = "-"


# The names callers used before the enum existed.
OBJECT_CREATED = ChangeKind.OBJECT_CREATED
OBJECT_CHANGED = ChangeKind.OBJECT_CHANGED
OBJECT_DELETED = ChangeKind.OBJECT_DELETED
MEMBER_ADDED = ChangeKind.MEMBER_ADDED
MEMBER_REMOVED = ChangeKind.MEMBER_REMOVED


@dataclass(slots=True)
class Tenant:
    id: str
    name: str


@dataclass(slots=True)
class DirObject:
    tenant_id: str
    id: str
    object_type: str
    dn: str | None
    source_anchor: str | None
    sync_enabled: bool
    attributes: dict[str, list[str]] = field(default_factory=dict)
    member_count: int = 0
    seq: int = 0
    stored_bytes: int = 0  # its weight as read or written (clouddir.storage.quotas)
    #: Its source of authority is the cloud: sync writes are refused (storage.authority).
    cloud_managed: bool = False


@dataclass(slots=True)
class Change:
    usn: int
    object_seq: int
    kind: ChangeKind
    member_seq: int | None
    object_id: str | None
    object_type: str | None
    dn: str | None


@dataclass(slots=True)
class Quarantined:
    object_seq: int
    kind: str
    attribute: str
    value: str
    replacement: str | None
    conflicting_seq: int


class StoreError(ValueError):
    """A database URL the store cannot use: unknown scheme, unreachable server, bad path."""
