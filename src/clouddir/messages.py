"""The sync API's messages (docs/sync-api.md) as typed models, validated at the edge.

A request is parsed here before any work: a body or query that breaks the envelope's rules is
refused whole with ``BadRequest`` (its status, Graph's error code and the message the client
reads). The changes of an export batch are the exception: each one is checked alone when it is
applied (clouddir.validation), because one bad change is refused alone and never fails the
batch; until then a change is the JSON object the client sent.

Answers are typed too (``ChangeResult``, ``ExportAnswer``); their key order is the wire's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

import orjson

from clouddir.membership import count_links
from clouddir.settings import Limits
from clouddir.value_limits import text_problem

MAX_BATCH_ID = 256

#: One change of an export batch, as sent (checked by clouddir.validation when applied).
ExportChange = dict[str, Any]


class BadRequest(Exception):
    """A request refused whole, before any work."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """``POST /sync/v{1,2}/export``: a batch of changes, applied once per ``batch_id``."""

    version: int
    batch_id: str
    changes: list[ExportChange]

    @staticmethod
    def check_media_type(declared: str | None) -> None:
        """Before the body is read: JSON or nothing declared."""
        if declared is not None and declared.split(";", 1)[0].strip().lower() != \
                "application/json":
            raise BadRequest(415, "UnsupportedMediaType",
                             f"Content-Type {declared[:60]!r} is not supported; send "
                             f"application/json")

    @classmethod
    def parse(cls, version: int, body: bytes, limits: Limits) -> ExportRequest:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise BadRequest(400, "BadRequest", "body is not JSON") from None
        if not isinstance(payload, dict):
            raise BadRequest(400, "BadRequest", "body must be an object")
        batch_id = payload.get("batch_id")
        changes = payload.get("changes")
        if not isinstance(batch_id, str) or not batch_id or not isinstance(changes, list) or \
                not all(isinstance(c, dict) for c in changes):
            raise BadRequest(400, "BadRequest", "need batch_id (string) and changes (list)")
        problem = text_problem("batch_id", batch_id, MAX_BATCH_ID)
        if problem:
            raise BadRequest(400, "BadRequest", problem)
        max_changes = limits.v1_batch_size if version == 1 else limits.v2_batch_size
        if len(changes) > max_changes:
            raise BadRequest(413, "BatchTooLarge",
                             f"{len(changes)} changes; API v{version} takes {max_changes}")
        if version == 2 and count_links(2, changes) > limits.v2_max_links:
            raise BadRequest(413, "BatchTooLarge",
                             f"more than {limits.v2_max_links} member references")
        return cls(version, batch_id, changes)


class ChangeResult(TypedDict):
    """The answer for one change: ``ok``, ``partial`` (applied, with errors such as members
    not found) or ``error`` (refused, nothing written)."""

    ref: object
    status: str
    id: object
    dn: str | None
    errors: list[dict[str, object]]
    warnings: list[dict[str, object]]


class RefusedChangeResult(TypedDict):
    """A refused change's answer (no ``dn``: nothing was written)."""

    ref: object
    status: str
    id: object
    errors: list[dict[str, object]]
    warnings: list[dict[str, object]]


@dataclass(frozen=True, slots=True)
class ExportAnswer:
    """What an export batch answers: the JSON text of ``{"batch_id", "results"}`` (stored
    as sent, so a replay answers the same bytes) and whether it is such a replay."""

    body: str
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """``GET /sync/v{1,2}/import``: where to start (the v1 ``watermark`` or v2
    ``delta_token``, or the ``cursor`` of the page before) and the page size, capped by the
    server's. Tokens and cursors are checked when read (clouddir.imports.BadCursor)."""

    version: int
    token: str | None
    cursor: str | None
    page_size: int

    @classmethod
    def parse(cls, version: int, params: Mapping[str, str], limits: Limits) -> ImportRequest:
        raw_size = params.get("page_size", str(limits.import_page_size))
        if not raw_size.isascii() or not raw_size.lstrip("-").isdigit() or len(raw_size) > 10:
            raise BadRequest(400, "BadRequest", "page_size must be an integer")
        page_size = min(int(raw_size), limits.import_page_size)
        if page_size < 1:
            raise BadRequest(400, "BadRequest", "page_size must be positive")
        token = params.get("watermark" if version == 1 else "delta_token")
        return cls(version, token, params.get("cursor"), page_size)
