"""The sync API's messages as the cloud connector sends and reads them (docs/sync-api.md).

The connector's own models, sharing nothing with the service's (it talks to clouddir, or to
any server of the API, only over HTTP). What it sends is built as these typed dicts, in the
key order of the wire (the bytes sent are what the benchmarks count); what it reads is parsed
into dataclasses at once, tolerating what the service may leave out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

#: A member reference: the member's cloud object id, or ``{"dn": DN}`` before it has one.
MemberRef = str | dict[str, str]


class MemberDelta(TypedDict):
    """v2: the members a change adds and removes."""

    add: list[MemberRef]
    remove: list[MemberRef]


class MemberReplace(TypedDict):
    """v2: a whole member list, for the service to diff."""

    replace: list[MemberRef]


class WireChange(TypedDict):
    """One change of an export batch."""

    ref: str
    op: str
    object_type: str | None
    id: str | None
    dn: NotRequired[str | None]
    attributes: NotRequired[dict[str, list[str]]]
    source_anchor: NotRequired[str | None]
    #: v1: the whole list; v2: a delta or a replace.
    members: NotRequired[list[MemberRef] | MemberDelta | MemberReplace]
    value_adds: NotRequired[dict[str, list[str]]]
    value_removes: NotRequired[dict[str, list[str]]]


class ExportBatch(TypedDict):
    """``POST /sync/v{1,2}/export``: applied once per ``batch_id`` (a retry is answered,
    not applied again)."""

    batch_id: str
    changes: list[WireChange]


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """The service's answer for one change."""

    status: str
    id: str | None = None
    dn: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, result: Mapping[str, Any]) -> ChangeResult:
        return cls(status=str(result.get("status")), id=result.get("id"), dn=result.get("dn"),
                   errors=list(result.get("errors") or []),
                   warnings=list(result.get("warnings") or []))


def export_results(answer: Mapping[str, Any]) -> list[ChangeResult]:
    """The results of an export answer, one per change sent, in order."""
    return [ChangeResult.from_json(r) for r in answer["results"]]


@dataclass(frozen=True, slots=True)
class ImportEntry:
    """One entry of an import page: an object as it is now (``upsert``) or a ``delete``."""

    op: str
    id: str | None
    object_type: str | None
    dn: str | None
    source_anchor: str | None = None
    sync_enabled: bool = False
    attributes: dict[str, list[Any]] = field(default_factory=dict)
    #: v1: a group's whole member list (DNs).
    members: list[str] | None = None
    #: v2: a group's member adds and removes (DNs); None for other objects.
    member_delta: Mapping[str, list[str]] | None = None
    #: v2 delta: the group was created since the token.
    created: bool = False
    #: The object's source of authority is the cloud (None: a server that does not say).
    cloud_managed: bool | None = None

    @classmethod
    def from_json(cls, entry: Mapping[str, Any], version: int) -> ImportEntry:
        members = entry.get("members")
        # An upsert names its object and type; a delete may know less.
        upsert = entry["op"] != "delete"
        return cls(op=entry["op"], id=entry["id"] if upsert else entry.get("id"),
                   object_type=entry["object_type"] if upsert else entry.get("object_type"),
                   dn=entry.get("dn"), source_anchor=entry.get("source_anchor"),
                   sync_enabled=bool(entry.get("sync_enabled")),
                   attributes=dict(entry.get("attributes") or {}),
                   members=(list(members or []) if version == 1 else None),
                   member_delta=(members if version == 2 else None),
                   created=bool(entry.get("created")),
                   cloud_managed=_flag(entry.get("cloud_managed")))


def _flag(value: Any) -> bool | None:
    """A boolean the entry may leave out (an older server); anything else says nothing."""
    return value if isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class ImportPage:
    """``GET /sync/v{1,2}/import``'s answer: entries, and either the cursor of the next page
    or (on the last page) the token a delta import starts from."""

    entries: list[ImportEntry]
    more: bool
    next: str | None
    #: The last page's token (as sent); "" on the pages before it.
    token: str

    @classmethod
    def from_json(cls, page: Mapping[str, Any], version: int) -> ImportPage:
        entries = page["objects" if version == 1 else "changes"]
        more = bool(page["more"])
        return cls([ImportEntry.from_json(e, version) for e in entries], more,
                   page["next"] if more else None,
                   "" if more else page["watermark" if version == 1 else "delta_token"])


@dataclass(frozen=True, slots=True)
class Ping:
    """``GET /sync/ping``: whose the token is, and the service's limits."""

    tenant_id: str | None
    #: None when the answer carries none (not a clouddir sync endpoint)
    limits: dict[str, Any] | None

    @classmethod
    def from_json(cls, answer: Mapping[str, Any]) -> Ping:
        # the tenant is checked before the limits are needed, as the connector always did
        return cls(answer.get("tenant_id"), answer.get("limits"))


@dataclass(frozen=True, slots=True)
class CloudWatermark:
    """Where the cloud change detector stands: the change number (``token``) the last import
    ended with. Both API versions count changes alike, so a token taken under one version is
    good for the other; ``api_version`` records which one took it. Stored as
    ``{"api_version": N, "token": T}``."""

    token: str
    api_version: int | None = None

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> CloudWatermark | None:
        """None when ``stored`` holds no token (no full import yet)."""
        if not stored or "token" not in stored:
            return None
        version = stored.get("api_version")
        return cls(str(stored["token"]), int(version) if version is not None else None)

    def to_stored(self) -> dict[str, Any]:
        return {"api_version": self.api_version, "token": self.token}
