"""The sync API's request models, checked at the edge (the HTTP contract of their refusals
is in tests/badinput/test_clouddir_requests.py)."""

from __future__ import annotations

import orjson
import pytest

from clouddir.messages import BadRequest, ExportRequest, ImportRequest
from clouddir.settings import Limits


def _refusal(body: object, version: int = 2, limits: Limits | None = None) -> tuple[int, str]:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    with pytest.raises(BadRequest) as caught:
        ExportRequest.parse(version, raw, limits or Limits())
    return caught.value.status, caught.value.message


def test_export_request_parses_a_batch() -> None:
    batch = ExportRequest.parse(1, b'{"batch_id": "b", "changes": [{"op": "delete"}]}', Limits())
    assert batch == ExportRequest(1, "b", [{"op": "delete"}])


def test_export_request_refusals() -> None:
    assert _refusal(b"{") == (400, "body is not JSON")
    assert _refusal([]) == (400, "body must be an object")
    assert _refusal({"batch_id": "", "changes": []})[0] == 400
    assert _refusal({"batch_id": "b", "changes": [1]})[0] == 400
    small = Limits().updated({"v1_batch_size": "1"})
    assert _refusal({"batch_id": "b", "changes": [{}, {}]}, 1, small) == (
        413, "2 changes; API v1 takes 1")


def test_media_type() -> None:
    ExportRequest.check_media_type(None)
    ExportRequest.check_media_type("application/json; charset=utf-8")
    with pytest.raises(BadRequest) as caught:
        ExportRequest.check_media_type("text/plain")
    assert caught.value.status == 415


def test_import_request() -> None:
    limits = Limits()
    asked = ImportRequest.parse(2, {"delta_token": "5", "page_size": "10"}, limits)
    assert asked == ImportRequest(2, "5", None, 10)
    assert ImportRequest.parse(1, {"watermark": "3"}, limits).token == "3"
    assert ImportRequest.parse(1, {}, limits).page_size == limits.import_page_size
    for bad in ("x", "0", "-1", "12345678901"):
        with pytest.raises(BadRequest):
            ImportRequest.parse(1, {"page_size": bad}, limits)
