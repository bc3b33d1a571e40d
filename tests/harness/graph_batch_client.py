"""A minimal Graph ``$batch`` client for tests of the graph exporter, shaped like contract B's
``GraphClient.batch`` (connectors/graph/client.py, helper "connector"): POST
``{graph_url}/$batch`` with the tenant's bearer token; items answered 429/503/504 are sent
again, as a smaller batch, after ``Retry-After`` (else a short backoff), up to
``max_retries``; a ``$batch`` refused whole raises ``BatchRefused(status, code, message)``.
Test-only: the connector's own client replaces it once merged."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

RETRIED = frozenset({429, 503, 504})


class BatchRefused(Exception):
    """The whole ``$batch`` refused (contract B's ``GraphApiError`` shape)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass
class BatchTraffic:
    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    retried_items: int = 0


class GraphBatchClient:
    def __init__(self, graph_url: str, token: str, *, max_retries: int = 8,
                 max_wait: float = 5.0) -> None:
        self.graph_url = graph_url.rstrip("/")
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.traffic = BatchTraffic()
        #: Every item sent, in order (for tests that count requests by kind).
        self.sent: list[dict[str, Any]] = []
        self._http = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60)

    def close(self) -> None:
        self._http.close()

    def batch(self, requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        assert 0 < len(requests) <= 20
        answers: dict[str, dict[str, Any]] = {}
        todo = list(requests)
        for attempt in range(self.max_retries + 1):
            got = self._post(todo)
            answers.update(got)
            again = [r for r in todo if got[r["id"]]["status"] in RETRIED]
            if not again or attempt == self.max_retries:
                break
            self.traffic.retried_items += len(again)
            time.sleep(self._wait(again, got, attempt))
            # A retried item no longer waits for one that is done (its dependency ran).
            ids = {r["id"] for r in again}
            todo = [{**r, "dependsOn": [d for d in r.get("dependsOn", []) if d in ids]}
                    if r.get("dependsOn") else r for r in again]
            for r in todo:
                if "dependsOn" in r and not r["dependsOn"]:
                    del r["dependsOn"]
        return answers

    def _wait(self, again: list[dict[str, Any]], got: dict[str, dict[str, Any]],
              attempt: int) -> float:
        waits = []
        for r in again:
            headers = {k.lower(): v for k, v in (got[r["id"]].get("headers") or {}).items()}
            try:
                waits.append(float(headers["retry-after"]))
            except (KeyError, ValueError):
                waits.append(0.2 * 2 ** attempt)
        return min(max(waits), self.max_wait)

    def _post(self, requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        content = orjson.dumps({"requests": requests})
        self.sent += requests
        self.traffic.requests += 1
        self.traffic.bytes_sent += len(content)
        response = self._http.post(f"{self.graph_url}/$batch", content=content,
                                   headers={"Content-Type": "application/json"})
        self.traffic.bytes_received += len(response.content)
        if response.status_code != 200:
            error = (response.json().get("error") or {}) if response.content else {}
            raise BatchRefused(response.status_code, str(error.get("code") or "Error"),
                               str(error.get("message") or response.text[:200]))
        return {str(r["id"]): r for r in response.json()["responses"]}
