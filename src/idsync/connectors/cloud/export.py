"""Export to the cloud directory: ``ExportChange``s become sync API changes, packed into
requests within the service's batch and link limits, and per-object results become
``ExportResult``s.

v1 sends a group's whole member list (the engine gives a connector without value deltas the
whole list); v2 sends member adds and removes, and splits a delta larger than one request's
link limit into continuation changes of the same group in the following requests.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from idsync.connectors.base import ExportChange, ExportRef, ExportResult, ExportValue
from idsync.connectors.cloud.client import RequestRefused, SyncApiClient
from idsync.connectors.cloud.messages import (
    ChangeResult,
    ExportBatch,
    MemberDelta,
    MemberRef,
    WireChange,
    export_results,
)
from idsync.error_codes import ErrorCode
from idsync.model import ExportKind

MEMBER = "member"
#: Attributes that carry the source anchor (onPremisesImmutableId) rather than a value.
SOURCE_ANCHOR_ATTRIBUTES = ("sourceAnchor", "onPremisesImmutableId")


@dataclass(slots=True)
class Part:
    """One wire change; a large v2 membership delta is several parts of one ExportChange."""

    cs_id: int
    body: WireChange
    links: int
    index: int
    last: bool


@dataclass(slots=True)
class Pending:
    """Results of an ExportChange's parts so far."""

    change: ExportChange
    object_id: str | None
    dn: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    failed: bool = False


def _value(value: ExportValue) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, ExportRef):
        return value.dn  # non-member references travel as the target's DN
    return value


def _member_ref(value: ExportValue) -> MemberRef:
    if isinstance(value, ExportRef):
        return value.anchor if value.anchor else {"dn": value.dn}
    return str(value)  # already a cloud object id


def _source_anchor(change: ExportChange) -> str | None:
    for name in SOURCE_ANCHOR_ATTRIBUTES:
        values = change.attributes.get(name)
        if values:
            return _value(values[0])
    return None


def _plain(attributes: dict[str, list[ExportValue]]) -> dict[str, list[str]]:
    return {name: [_value(v) for v in values] for name, values in attributes.items()
            if name != MEMBER and name not in SOURCE_ANCHOR_ATTRIBUTES}


def plan(change: ExportChange, version: int, max_links: int) -> list[Part]:
    """The wire changes for one ExportChange, in order."""
    ref = str(change.cs_id)
    if change.kind == ExportKind.DELETE:
        gone: WireChange = {"ref": ref, "op": "delete", "id": change.anchor,
                            "source_anchor": _source_anchor(change),
                            "object_type": change.object_type}
        return [Part(change.cs_id, gone, 0, 0, True)]
    body: WireChange = {
        "ref": ref, "op": "add" if change.kind == ExportKind.ADD else "update",
        "object_type": change.object_type, "id": change.anchor,
        "dn": change.new_dn or change.dn, "attributes": _plain(change.attributes),
    }
    anchor = _source_anchor(change)
    if anchor is not None:
        body["source_anchor"] = anchor
    if version == 1:
        if MEMBER in change.attributes:
            whole_list = [_member_ref(v) for v in change.attributes[MEMBER]]
            body["members"] = whole_list
            return [Part(change.cs_id, body, len(whole_list), 0, True)]
        return [Part(change.cs_id, body, 0, 0, True)]
    value_adds = _plain(change.value_adds)
    value_removes = _plain(change.value_removes)
    if value_adds:
        body["value_adds"] = value_adds
    if value_removes:
        body["value_removes"] = value_removes
    adds = [_member_ref(v) for v in change.value_adds.get(MEMBER, [])]
    removes = [_member_ref(v) for v in change.value_removes.get(MEMBER, [])]
    if MEMBER in change.attributes:
        whole = [_member_ref(v) for v in change.attributes[MEMBER]]
        if change.kind == ExportKind.ADD:
            adds = whole + adds  # a new group: its whole list is the delta
        else:
            # No delta given: the service diffs. A replace cannot be split, so it travels in a
            # request of its own (counted as a full request's worth of links).
            body["members"] = {"replace": whole}
            return [Part(change.cs_id, body, max_links, 0, True)]
    return _split(change.cs_id, body, adds, removes, max_links)


def _split(cs_id: int, body: WireChange, adds: list[MemberRef], removes: list[MemberRef],
           max_links: int) -> list[Part]:
    if not adds and not removes:
        return [Part(cs_id, body, 0, 0, True)]
    # Removes first, then adds, max_links references per slice: only the last slice of a
    # split change is short, so a continuation never shares a request with its first part.
    tagged: list[tuple[Literal["add", "remove"], MemberRef]] = [
        *(("remove", r) for r in removes), *(("add", a) for a in adds)]
    slices: list[MemberDelta] = []
    for start in range(0, len(tagged), max_links):
        members: MemberDelta = {"add": [], "remove": []}
        for kind, ref in tagged[start:start + max_links]:
            members[kind].append(ref)
        slices.append(members)
    parts = []
    for index, members in enumerate(slices):
        part_body: WireChange
        if index == 0:
            part_body = {**body, "members": members}
        else:
            # Continuation: the same group, by id (filled in once the first part answers).
            part_body = {"ref": body["ref"], "op": "update",
                         "object_type": body["object_type"], "id": body.get("id"),
                         "members": members}
            if "source_anchor" in body:
                part_body["source_anchor"] = body["source_anchor"]
        parts.append(Part(cs_id, part_body, len(members["add"]) + len(members["remove"]),
                          index, index == len(slices) - 1))
    return parts


class CloudExporter:
    """Packs parts into requests and turns the answers into ExportResults."""

    def __init__(self, client: SyncApiClient, version: int, batch_size: int,
                 max_links: int) -> None:
        self.client = client
        self.version = version
        self.batch_size = batch_size
        self.max_links = max_links
        self._path = f"/sync/v{version}/export"

    def export(self, changes: Iterable[ExportChange]) -> Iterator[ExportResult]:
        pending: dict[int, Pending] = {}
        request: list[Part] = []
        links = 0
        for change in changes:
            pending[change.cs_id] = Pending(change, change.anchor)
            for part in plan(change, self.version, self.max_links):
                if request and (len(request) >= self.batch_size
                                or links + part.links > self.max_links):
                    yield from self._send(request, pending)
                    request, links = [], 0
                request.append(part)
                links += part.links
        if request:
            yield from self._send(request, pending)

    def _send(self, parts: list[Part], pending: dict[int, Pending]) -> Iterator[ExportResult]:
        bodies: list[WireChange] = []
        sent: list[Part] = []
        for part in parts:
            state = pending[part.cs_id]
            if state.failed:
                if part.last:
                    yield self._result(pending.pop(part.cs_id))
                continue
            if part.index > 0:
                part.body["id"] = state.object_id
            bodies.append(part.body)
            sent.append(part)
        if not sent:
            return
        try:
            # One batch id per request, kept across retries: the service applies it once.
            batch: ExportBatch = {"batch_id": str(uuid.uuid4()), "changes": bodies}
            results = export_results(self.client.post(self._path, batch))
        except RequestRefused as refused:
            results = [ChangeResult("error", errors=[{"code": refused.code,
                                                      "detail": refused.message,
                                                      "retryable": False}])] * len(sent)
        for part, result in zip(sent, results, strict=True):
            state = pending[part.cs_id]
            state.object_id = result.id or state.object_id
            state.dn = result.dn or state.dn
            state.errors += result.errors
            state.warnings += result.warnings
            if result.status == "error":
                state.failed = True  # the change failed; its later parts are not sent
            if part.last:
                yield self._result(pending.pop(part.cs_id))

    @staticmethod
    def _result(state: Pending) -> ExportResult:
        change = state.change
        requested_dn = change.new_dn or change.dn
        dn = state.dn if state.dn and state.dn != requested_dn else None
        anchor = state.object_id if change.kind != ExportKind.DELETE else change.anchor
        if state.errors:
            first = state.errors[0]
            detail = "; ".join(f"{e.get('code')}: {e.get('detail')}" for e in state.errors)
            if any(e.get("code") == ErrorCode.OBJECT_CLOUD_MANAGED for e in state.errors):
                # The object's authority moved to the cloud after the last import: held by
                # the engine, not an error (idsync.engine.authority).
                return ExportResult(change.cs_id, ok=False, anchor=anchor, dn=dn,
                                    error_code=ErrorCode.OBJECT_CLOUD_MANAGED,
                                    error_detail=detail, retryable=False, cloud_managed=True)
            return ExportResult(change.cs_id, ok=False, anchor=anchor, dn=dn,
                                error_code=str(first.get("code")), error_detail=detail,
                                retryable=all(bool(e.get("retryable")) for e in state.errors))
        if state.warnings:
            # Duplicate attribute resiliency: applied, value quarantined; a success that
            # carries the code so it is reported, and is not retried.
            detail = "; ".join(f"{w.get('attribute')}={w.get('value')} quarantined (held by "
                               f"{w.get('conflicting_object_id')})" for w in state.warnings)
            return ExportResult(change.cs_id, ok=True, anchor=anchor, dn=dn,
                                error_code=ErrorCode.ATTRIBUTE_VALUE_MUST_BE_UNIQUE,
                                error_detail=detail)
        return ExportResult(change.cs_id, ok=True, anchor=anchor, dn=dn)
