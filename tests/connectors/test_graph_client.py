"""GraphClient: 429 from a clouddir whose write budget is tiny, 503 / 504 from a local stub
(the only fake: clouddir does not fail on purpose), Retry-After honoured, throttled batch items
sent again alone, a token renewed once on 401, the client-side write budget."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.connectors.graph_helpers import PASSWORD, StaticTokens
from tests.harness.clouddir_server import CloudDirTenant

from idsync.connectors.graph import GraphApiError, GraphClient
from idsync.connectors.graph.client import WriteBudget


def user_request(i: int) -> dict[str, Any]:
    return {"id": str(i), "method": "POST", "url": "/users",
            "headers": {"Content-Type": "application/json"},
            "body": {"displayName": f"t{i}", "mailNickname": f"t{i}",
                     "userPrincipalName": f"t{i}@contoso.test", "accountEnabled": True,
                     "passwordProfile": PASSWORD}}


def test_throttled_batch_items_are_sent_again_after_retry_after(clouddir_factory: Any) -> None:
    tenant: CloudDirTenant = clouddir_factory(write_budget=3, write_window=3)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    client = GraphClient(f"{tenant.url}/v1.0", StaticTokens(tenant.token), max_retries=10,
                         sleep=sleep)
    answers = client.batch([user_request(i) for i in range(6)])
    assert sorted(answers) == [str(i) for i in range(6)]
    assert {a["status"] for a in answers.values()} == {201}
    assert waits and all(w >= 1 for w in waits)  # clouddir's Retry-After, not a guess
    with tenant.client() as http:
        names = {u["displayName"] for u in http.get("/v1.0/users").json()["value"]}
    assert names == {f"t{i}" for i in range(6)}  # each created once
    client.close()


def test_a_401_renews_the_token_once(clouddir: CloudDirTenant) -> None:
    tokens = StaticTokens("expired", renewals=[clouddir.token])
    client = GraphClient(f"{clouddir.url}/v1.0", tokens)
    assert client.get("/users", {"$top": 1})["value"] == []
    assert tokens.renewed == 1
    refused = GraphClient(f"{clouddir.url}/v1.0", StaticTokens("bad", renewals=["worse"]))
    with pytest.raises(GraphApiError) as caught:
        refused.get("/users")
    assert caught.value.status == 401 and caught.value.code == "InvalidAuthenticationToken"
    assert "bad" not in str(caught.value) and "worse" not in str(caught.value)


class _Stub(BaseHTTPRequestHandler):
    """Answers from a script: each request takes the next (status, headers, body)."""

    script: list[tuple[int, dict[str, str], Any]] = []
    seen: list[tuple[str, str, Any]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        type(self).seen.append((self.command, self.path, body))
        status, headers, payload = type(self).script.pop(0)
        raw = json.dumps(payload).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[tuple[str, type[_Stub]]]:
    handler = type("Handler", (_Stub,), {"script": [], "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1.0", handler
    server.shutdown()
    server.server_close()


def test_503_and_504_are_retried_with_retry_after_then_backoff(
        stub: tuple[str, type[_Stub]]) -> None:
    url, handler = stub
    error = {"error": {"code": "serviceNotAvailable", "message": "later"}}
    handler.script = [(503, {"Retry-After": "7"}, error), (504, {}, error),
                      (200, {}, {"value": [{"id": "1"}]})]
    waits: list[float] = []
    client = GraphClient(url, StaticTokens("t"), sleep=waits.append)
    assert client.get("/users")["value"] == [{"id": "1"}]
    assert waits[0] == 7.0 and 0 < waits[1] <= 1.0  # Retry-After, then backoff
    assert client.traffic.requests == 3
    handler.script = [(503, {}, error)] * 3
    with pytest.raises(GraphApiError) as caught:
        GraphClient(url, StaticTokens("t"), max_retries=2, sleep=waits.append).get("/users")
    assert (caught.value.status, caught.value.code) == (503, "serviceNotAvailable")


def test_batch_items_answered_503_go_again_alone_with_their_dependents(
        stub: tuple[str, type[_Stub]]) -> None:
    url, handler = stub
    first = {"responses": [
        {"id": "1", "status": 201, "headers": {}, "body": {"id": "a"}},
        {"id": "2", "status": 503, "headers": {"Retry-After": "2"}, "body": {}},
        {"id": "3", "status": 424, "headers": {}, "body": {}}]}
    second = {"responses": [{"id": "2", "status": 201, "headers": {}, "body": {"id": "b"}},
                            {"id": "3", "status": 204, "headers": {}}]}
    handler.script = [(200, {}, first), (200, {}, second)]
    waits: list[float] = []
    client = GraphClient(url, StaticTokens("t"), sleep=waits.append)
    answers = client.batch([
        {"id": "1", "method": "POST", "url": "/users", "body": {}},
        {"id": "2", "method": "POST", "url": "/groups", "body": {}, "dependsOn": ["1"]},
        {"id": "3", "method": "PATCH", "url": "/groups/x", "body": {}, "dependsOn": ["2"]}])
    assert {k: v["status"] for k, v in answers.items()} == {"1": 201, "2": 201, "3": 204}
    assert waits == [2.0]
    resent = handler.seen[1][2]["requests"]
    assert [r["id"] for r in resent] == ["2", "3"]
    assert "dependsOn" not in resent[0] and resent[1]["dependsOn"] == ["2"]
    with pytest.raises(ValueError, match="at most 20"):
        client.batch([{"id": str(i), "method": "GET", "url": "/users"} for i in range(21)])


def test_the_write_budget_is_a_token_bucket() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    budget = WriteBudget(10, 5.0, sleep=sleep, clock=lambda: now[0])
    assert budget.spend(10) == 0  # a burst up to the budget goes at once
    assert budget.spend(4) == pytest.approx(2.0)  # then 2 writes a second
    now[0] += 100
    assert budget.spend(30) == 0  # more than the budget: charged the whole budget
