"""The HTTP client of Microsoft Graph: one pooled httpx client (HTTP/1.1), the bearer token
from a token source (renewed once on a 401), 429 / 503 / 504 retried after ``Retry-After``
(else exponential backoff with jitter), JSON ``$batch`` with the throttled items sent again as
a smaller batch, and a client-side write budget (a token bucket) that keeps writes under
Graph's throttling instead of running into it.

The token sits in the request headers only; it is never logged or put in an error message.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import httpx
import orjson

from idsync.connectors.graph.errors import GraphApiError
from idsync.connectors.traffic import Traffic
from idsync.errors import ConnectivityError

log = logging.getLogger(__name__)

#: Answers that say "later": Graph's throttling and its transient gateway failures.
RETRIED_STATUS = frozenset({429, 503, 504})
#: Graph JSON batching takes at most 20 requests.
MAX_BATCH = 20
_BACKOFF_BASE = 0.5
_BACKOFF_MAX = 30.0
#: Longest Retry-After obeyed as given (a longer one is capped: the run is not parked).
_MAX_RETRY_AFTER = 300.0

T = TypeVar("T")
R = TypeVar("R")


class TokenSource(Protocol):
    def token(self) -> str: ...

    def renew(self) -> str: ...


def tls_verify(ca_file: str | None) -> ssl.SSLContext | bool:
    """httpx's ``verify``: a context trusting ``ca_file`` (a private authority), else True."""
    if not ca_file:
        return True
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConnectivityError(f"cannot read the CA file {ca_file}: {exc}") from exc


class WriteBudget:
    """A token bucket: ``budget`` writes per ``window`` seconds, refilled continuously, so a
    burst up to the budget goes at once and a long export settles at budget/window per
    second."""

    def __init__(self, budget: int, window: float,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(max(1, budget))
        self.rate = self.capacity / max(window, 1e-6)
        self.tokens = self.capacity
        self._sleep = sleep
        self._clock = clock
        self._updated = clock()
        self._lock = threading.Lock()

    def spend(self, writes: int) -> float:
        """Take ``writes`` tokens, waiting for them; returns the seconds waited."""
        want = min(float(writes), self.capacity)
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self.tokens >= want:
                    self.tokens -= want
                    return waited
                wait = (want - self.tokens) / self.rate
            self._sleep(wait)
            waited += wait


class GraphClient:
    def __init__(self, graph_url: str, tokens: TokenSource, *, timeout: float = 60.0,
                 max_retries: int = 5, concurrency: int = 4, write_budget: int = 3000,
                 write_window: float = 150.0, verify: ssl.SSLContext | bool = True,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.graph_url = graph_url.rstrip("/")
        self.tokens = tokens
        self.max_retries = max_retries
        self.concurrency = max(1, concurrency)
        self.budget = WriteBudget(write_budget, write_window, sleep)
        self._sleep = sleep
        self._traffic = Traffic()
        self._lock = threading.Lock()
        self._http = httpx.Client(
            base_url=self.graph_url, timeout=timeout, http2=False, verify=verify,
            # A CA file names the one authority to trust: no proxy or CA bundle from the
            # environment (REQUESTS_CA_BUNDLE, SSL_CERT_FILE) overrides it.
            trust_env=verify is True,
            headers={"Accept": "application/json"},
            limits=httpx.Limits(max_keepalive_connections=self.concurrency + 1,
                                max_connections=self.concurrency + 1))

    def close(self) -> None:
        self._http.close()

    @property
    def traffic(self) -> Traffic:
        with self._lock:
            t = self._traffic
            return Traffic(t.requests, t.bytes_sent, t.bytes_received)

    # --- reads -------------------------------------------------------------------------------

    def get(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One GET: a path under ``graph_url`` (``/users``) or an absolute URL (a nextLink)."""
        return self._send("GET", path_or_url, params=params)

    def pages(self, path: str, params: Mapping[str, Any] | None = None
              ) -> Iterator[dict[str, Any]]:
        """Every page of a collection, following ``@odata.nextLink``; the last page holds the
        ``@odata.deltaLink`` of a delta query."""
        page = self.get(path, params)
        yield page
        while page.get("@odata.nextLink"):
            page = self.get(str(page["@odata.nextLink"]))
            yield page

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn`` over ``items`` with up to ``concurrency`` requests in flight, in order."""
        if self.concurrency == 1:
            yield from map(fn, items)
            return
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="graph") as pool:
            yield from pool.map(fn, items)

    # --- writes ------------------------------------------------------------------------------

    def batch(self, requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """One JSON ``$batch`` of at most 20 requests; ``{id: {status, headers, body}}``.
        Items answered 429 / 503 / 504 (and those that failed only because they depend on
        one, 424) are sent again as a smaller batch after ``Retry-After``."""
        if not requests:
            return {}
        if len(requests) > MAX_BATCH:
            raise ValueError(f"a Graph batch takes at most {MAX_BATCH} requests, "
                             f"not {len(requests)}")
        results: dict[str, dict[str, Any]] = {}
        pending = list(requests)
        attempt = 0
        while True:
            self.budget.spend(sum(1 for r in pending if r.get("method", "GET").upper()
                                  != "GET"))
            answer = self._send("POST", "/$batch", body={"requests": pending})
            answered = {str(r.get("id")): _item(r) for r in answer.get("responses") or []}
            retried = {i for i, r in answered.items() if r["status"] in RETRIED_STATUS}
            # Dependents of a retried item failed with 424 only because of it: they go too.
            retried |= {str(r["id"]) for r in pending if answered.get(str(r["id"]), {})
                        .get("status") == 424 and set(r.get("dependsOn") or []) & retried}
            results.update({i: r for i, r in answered.items() if i not in retried})
            if not retried or attempt >= self.max_retries:
                results.update({i: answered[i] for i in retried})
                return results
            attempt += 1
            waits = [_retry_after(answered[i]["headers"]) for i in retried]
            given = [w for w in waits if w is not None]
            self._wait(attempt, max(given) if given else None,
                       f"{len(retried)} of {len(pending)} batched requests throttled")
            pending = [_without_missing_dependencies(r, retried) for r in pending
                       if str(r["id"]) in retried]

    # --- transport ---------------------------------------------------------------------------

    def _send(self, method: str, path: str, params: Mapping[str, Any] | None = None,
              body: Any = None) -> dict[str, Any]:
        content = orjson.dumps(body) if body is not None else None
        attempt = 0
        renewed = False
        token = self.tokens.token()
        while True:
            headers = {"Authorization": f"Bearer {token}"}
            if content is not None:
                headers["Content-Type"] = "application/json"
            try:
                response = self._http.request(method, path, params=params, content=content,
                                              headers=headers)
            except httpx.TransportError as exc:
                self._count(len(content or b""), 0)
                attempt += 1
                if attempt > self.max_retries:
                    raise ConnectivityError(f"{method} {_shown(path)}: cannot reach Graph: "
                                            f"{type(exc).__name__}: {exc}") from exc
                self._wait(attempt, None, type(exc).__name__)
                continue
            self._count(len(content or b""), response.num_bytes_downloaded)
            status = response.status_code
            if status == 401 and not renewed:
                # An expired or revoked token: one new token, then the answer stands.
                renewed = True
                token = self.tokens.renew()
                continue
            if status in RETRIED_STATUS and attempt < self.max_retries:
                attempt += 1
                self._wait(attempt, _retry_after(response.headers), f"HTTP {status}")
                continue
            if status >= 400:
                code, message = _error_of(response)
                raise GraphApiError(status, code, message)
            if status == 204 or not response.content:
                return {}
            try:
                answer = orjson.loads(response.content)
            except orjson.JSONDecodeError as exc:
                raise GraphApiError(status, "InvalidResponse",
                                    f"{method} {_shown(path)} answered {status} with a body "
                                    "that is not JSON") from exc
            return answer if isinstance(answer, dict) else {"value": answer}

    def _count(self, sent: int, received: int) -> None:
        with self._lock:
            self._traffic.requests += 1
            self._traffic.bytes_sent += sent
            self._traffic.bytes_received += received

    def _wait(self, attempt: int, retry_after: float | None, reason: str) -> None:
        if retry_after is not None:
            delay = min(retry_after, _MAX_RETRY_AFTER)
        else:
            delay = min(_BACKOFF_MAX, _BACKOFF_BASE * 2 ** (attempt - 1))
            delay *= 0.5 + random.random() / 2  # jitter: clients do not retry in step
        log.warning("Graph: %s; retry %d in %.1fs", reason, attempt, delay)
        self._sleep(delay)


def _item(raw: Mapping[str, Any]) -> dict[str, Any]:
    headers = raw.get("headers") or {}
    return {"status": int(raw.get("status") or 0),
            "headers": dict(headers) if isinstance(headers, Mapping) else {},
            "body": raw.get("body")}


def _without_missing_dependencies(request: dict[str, Any], kept: set[str]) -> dict[str, Any]:
    """A resent item depends only on items resent with it (the others already succeeded)."""
    depends = [d for d in request.get("dependsOn") or [] if d in kept]
    out = {k: v for k, v in request.items() if k != "dependsOn"}
    if depends:
        out["dependsOn"] = depends
    return out


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    raw = None
    for key, value in headers.items():
        if str(key).lower() == "retry-after":
            raw = value
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except (TypeError, ValueError):
        return None  # an HTTP date: fall back to backoff


def _error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        error = orjson.loads(response.content).get("error") or {}
        return str(error.get("code") or f"HTTP{response.status_code}"), \
            str(error.get("message") or "")
    except (orjson.JSONDecodeError, AttributeError):
        return f"HTTP{response.status_code}", response.text[:200]


def _shown(path: str) -> str:
    """A path for a message: no query (a nextLink's skip token is long and says nothing)."""
    return path.split("?", 1)[0]
