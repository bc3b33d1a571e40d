"""Retry policy of the sync API client (pure logic, driven by httpx's mock transport)."""

from __future__ import annotations

import httpx
import pytest

from idsync.connectors.cloud.client import RetryPolicy, SyncApiClient
from idsync.errors import ConnectivityError


def client_with(answers: list[httpx.Response]) -> tuple[SyncApiClient, list[float]]:
    slept: list[float] = []
    client = SyncApiClient("http://clouddir.test", "secret", sleep=slept.append,
                           retry=RetryPolicy(max_retries=2, backoff_base=1.0))
    queue = iter(answers)
    client._http._transport = httpx.MockTransport(lambda request: next(queue))
    return client, slept


def test_transient_errors_are_retried_with_backoff() -> None:
    client, slept = client_with([httpx.Response(503), httpx.Response(502),
                                 httpx.Response(200, json={"ok": 1})])
    assert client.get("/x") == {"ok": 1}
    assert len(slept) == 2 and slept[1] > slept[0] * 0.9
    assert client.traffic.retries == 2


def test_retry_after_is_obeyed_on_429() -> None:
    client, slept = client_with([httpx.Response(429, headers={"Retry-After": "7"}),
                                 httpx.Response(200, json={})])
    client.get("/x")
    assert slept == [7.0] and client.traffic.throttled == 1


def test_gives_up_after_max_retries() -> None:
    client, _ = client_with([httpx.Response(500)] * 3)
    with pytest.raises(ConnectivityError):
        client.get("/x")
