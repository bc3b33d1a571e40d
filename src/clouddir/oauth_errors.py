"""The token endpoint's refusals, shaped like Entra's: ``error``, ``error_description``
starting with the AADSTS code, ``error_codes``, ``timestamp``, ``trace_id``,
``correlation_id``; 400 for a bad request, 401 for a client that failed to authenticate."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


class OAuthError(Exception):
    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(f"AADSTS{code}: {description}")
        self.status = status
        self.error = error
        self.code = code
        self.description = description

    def body(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        return {"error": self.error,
                "error_description": f"AADSTS{self.code}: {self.description} Trace ID: "
                                     f"{trace} Correlation ID: {correlation} Timestamp: {stamp}",
                "error_codes": [self.code], "timestamp": stamp, "trace_id": trace,
                "correlation_id": correlation,
                "error_uri": f"https://login.microsoftonline.com/error?code={self.code}"}


def missing(parameter: str) -> OAuthError:
    return OAuthError(400, "invalid_request", 900144, "The request body must contain the "
                      f"following parameter: '{parameter}'.")


def invalid_assertion(code: int, description: str) -> OAuthError:
    return OAuthError(401, "invalid_client", code, description)
