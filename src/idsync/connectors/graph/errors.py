"""Errors of the graph connector: Graph's own error answers, and a delta token Graph no longer
takes."""

from __future__ import annotations

from idsync.errors import ConfigurationError


class GraphApiError(Exception):
    """Graph refused a request: its HTTP status and Graph's error code and message (the
    ``{"error": {"code", "message"}}`` body). Never holds a token or a secret."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class DeltaTokenExpired(ConfigurationError):
    """Graph no longer answers "what changed since" this delta link (expired, or refused):
    run a full import. A ConfigurationError, as the LDAP connector's WatermarkExpired, so the
    engine stops the run with this message before staging anything."""
