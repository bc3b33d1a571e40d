"""The HTTP client of the sync API: one pooled httpx connection, Retry-After honoured,
transient failures retried with exponential backoff and jitter.

The bearer token sits in the client's default headers only; it is never logged or put in an
error message.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from idsync.error_codes import ErrorCode
from idsync.errors import ConfigurationError, ConnectivityError

log = logging.getLogger(__name__)

_TRANSIENT_STATUS = frozenset({500, 502, 503, 504})


@dataclass(slots=True)
class RetryPolicy:
    #: Attempts after the first for transport errors and 5xx answers.
    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    #: Throttled (429) answers waited out before giving up.
    max_throttle_waits: int = 20
    #: Longest Retry-After obeyed; a longer one is waited this long and retried.
    max_retry_after: float = 300.0


@dataclass(slots=True)
class Traffic:
    """What went over the wire, for run statistics and the benchmark."""

    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    throttled: int = 0
    retries: int = 0


class RequestRefused(Exception):
    """The service refused a whole request (400 / 413): a bug or a limit, not transient."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class SyncApiClient:
    def __init__(self, url: str, token: str, timeout: float = 60.0,
                 retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.retry = retry or RetryPolicy()
        self.traffic = Traffic()
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=url.rstrip("/"), timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            limits=httpx.Limits(max_keepalive_connections=4, max_connections=4),
        )

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("POST", path, content=orjson.dumps(body))

    def _call(self, method: str, path: str, params: dict[str, Any] | None = None,
              content: bytes | None = None) -> dict[str, Any]:
        failures = 0
        throttles = 0
        while True:
            try:
                response = self._http.request(method, path, params=params, content=content)
            except httpx.TransportError as exc:
                failures += 1
                if failures > self.retry.max_retries:
                    raise ConnectivityError(
                        f"{method} {path}: cannot reach the cloud directory: {exc!r}") from exc
                self._backoff(failures, f"{type(exc).__name__}")
                continue
            finally:
                self.traffic.requests += 1
                self.traffic.bytes_sent += len(content or b"")
            # On the wire (compressed), as received.
            self.traffic.bytes_received += response.num_bytes_downloaded
            status = response.status_code
            if status == 429:
                throttles += 1
                self.traffic.throttled += 1
                if throttles > self.retry.max_throttle_waits:
                    raise ConnectivityError(f"{method} {path}: still throttled after "
                                            f"{throttles - 1} waits")
                wait = _retry_after(response) or self._delay(throttles)
                log.info("throttled on %s %s; waiting %.1fs as Retry-After asks", method, path,
                         wait)
                self._sleep(min(wait, self.retry.max_retry_after))
                continue
            if status in _TRANSIENT_STATUS:
                failures += 1
                if failures > self.retry.max_retries:
                    raise ConnectivityError(f"{method} {path}: the cloud directory answers "
                                            f"{status}")
                self._backoff(failures, f"HTTP {status}", _retry_after(response))
                continue
            if status in (401, 403):
                raise ConnectivityError(f"{method} {path}: the cloud directory refused the "
                                        f"token ({status})")
            if status >= 400:
                code, message = _error_of(response)
                if status == 404 and code == "NotFound":
                    raise ConfigurationError(f"{path} not found: is the url a clouddir?")
                raise RequestRefused(status, code, message)
            return orjson.loads(response.content)

    def _delay(self, attempt: int) -> float:
        delay = min(self.retry.backoff_max, self.retry.backoff_base * 2 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)  # jitter: clients do not retry in step

    def _backoff(self, attempt: int, reason: str, wait: float | None = None) -> None:
        self.traffic.retries += 1
        delay = wait if wait is not None else self._delay(attempt)
        log.warning("cloud directory: %s; retry %d in %.1fs", reason, attempt, delay)
        self._sleep(delay)


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None  # an HTTP date: fall back to backoff


def _error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        error = orjson.loads(response.content).get("error", {})
        # An answer without a code is recorded as the registry's REQUEST_REFUSED ("Error").
        return (str(error.get("code", ErrorCode.REQUEST_REFUSED)),
                str(error.get("message", "")))
    except (orjson.JSONDecodeError, AttributeError):
        return (str("NotFound" if response.status_code == 404 else ErrorCode.REQUEST_REFUSED),
                response.text[:200])
