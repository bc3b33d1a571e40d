"""The clouddir bad-input corpus: one hostile HTTP request per file in tests/badinput/clouddir/,
sent byte for byte to a real clouddir (SQLite, or PostgreSQL in the PostgreSQL pass), each
with the status and Graph error code it must get, and the tenant's directory unchanged after.

A case file is JSON: ``method``, ``path`` (query included, sent as written), optional
``headers``, one of ``body`` (JSON), ``body_text`` or ``body_base64``; ``pad`` replaces
``@PAD@`` in ``body_text`` with that many ``x``; ``raw_content_length`` sends that header as
written (uvicorn's HTTP parser refuses a malformed one with a bare 400 before clouddir sees
it: such a case expects only the status). ``expect``: ``status`` and ``code`` (the error's
code) and ``message`` (a part of it); for a 200, ``results`` (the sync API's per-object error
codes) or ``items`` ($batch items). ``room_bytes``: the tenant's storage quota is set to that
many bytes above what it uses once seeded.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from tests.harness.clouddir_server import (  # noqa: F401 (a fixture)
    CloudDirServer,
    CloudDirTenant,
    clouddir_shared,
    user,
)

from clouddir.storage import open_store
from clouddir.storage import quotas as storage_quota


@pytest.fixture
def tenant(clouddir_shared: CloudDirServer) -> CloudDirTenant:  # noqa: F811
    return clouddir_shared.new_tenant()


CASES = sorted((Path(__file__).parent / "clouddir").glob("*.json"))


def _body(case: dict[str, Any]) -> bytes:
    if "body" in case:
        return json.dumps(case["body"]).encode()
    if "body_base64" in case:
        return base64.b64decode(case["body_base64"])
    text = case.get("body_text", "")
    if "pad" in case:
        text = text.replace("@PAD@", "x" * case["pad"])
    return text.encode()


def send(tenant: CloudDirTenant, case: dict[str, Any]) -> tuple[int, Any]:
    """The request as the file says, on a raw socket (no client library tidies it up)."""
    body = _body(case)
    headers = {"Host": "clouddir", "Authorization": f"Bearer {tenant.token}",
               "Connection": "close"}
    if "body" in case:
        headers["Content-Type"] = "application/json"
    headers.update(case.get("headers", {}))
    headers["Content-Length"] = case.get("raw_content_length", str(len(body)))
    head = f"{case['method']} {case['path']} HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    host, port = urlsplit(tenant.url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        # One write: a server that answers without reading the body (405, 415) must have it
        # in hand already, or its close resets the connection and loses the answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            # A large body may be refused before it is all sent: the answer waits all the same.
            sock.sendall(head.encode() + body)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(1 << 16):
                answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    head_lines, _, payload = rest.partition(b"\r\n\r\n")
    is_json = b"content-type: application/json" in head_lines.lower()
    return int(status_line.split()[1]), json.loads(payload) if is_json else payload


def snapshot(tenant: CloudDirTenant) -> Any:
    entries, _token, _pages = tenant.import_all(2)
    return sorted(json.dumps(e, sort_keys=True) for e in entries)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_request_gets_its_error_and_changes_nothing(tenant: CloudDirTenant,
                                                        path: Path) -> None:
    clouddir = tenant
    case = json.loads(path.read_text())
    expect = case["expect"]
    clouddir.export_ok(2, [user("1", "c2VlZA", "seed@contoso.test")])
    assert clouddir.graph_create("groups", {"displayName": "seed"}).status_code == 201
    if "room_bytes" in case:
        _leave_room(clouddir, case["room_bytes"])
    before = snapshot(clouddir)
    status, body = send(clouddir, case)
    assert status == expect["status"], body
    if "code" in expect:
        error = body["error"]
        assert error["code"] == expect["code"], error
        assert set(error["innerError"]) >= {"date", "request-id"}
        assert expect.get("message", "") in error["message"], error
    for code, result in zip(expect.get("results", []), body.get("results", []) if
                            "results" in expect else [], strict=True):
        assert result["status"] == "error" and result["errors"][0]["code"] == code, result
        assert result["id"] is None or isinstance(result["id"], str), result
        assert expect.get("message", "") in result["errors"][0]["detail"], result
    for item, answer in zip(expect.get("items", []), body.get("responses", []) if
                            "items" in expect else [], strict=True):
        assert (answer["id"], answer["status"]) == (item["id"], item["status"]), answer
        assert answer["body"]["error"]["code"] == item["code"], answer
    assert snapshot(clouddir) == before


def _leave_room(tenant: CloudDirTenant, room: int) -> None:
    store = open_store(tenant.server.database)
    try:
        used, _own = storage_quota.usage(store, tenant.tenant_id)
        storage_quota.set_max_bytes(store, tenant.tenant_id, (used or 0) + room)
    finally:
        store.close()
