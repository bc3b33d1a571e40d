"""Domain error types, one per failure class.

Per-object failures are recorded as data (export errors, import errors) and the run goes on;
only failures that make a whole run meaningless are raised out of it, and each maps to a run
status.
"""

from __future__ import annotations


class IdsyncError(Exception):
    """Base of every error idsync raises on purpose."""


class ConfigurationError(IdsyncError):
    """A bad configuration, refused before anything runs."""


class ConnectivityError(IdsyncError):
    """The connected directory cannot be reached or bound: the run ends ``stopped-connectivity``."""


class ObjectError(IdsyncError):
    """One object failed; recorded with a code on the object and in the run history."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class DeletionThresholdExceeded(IdsyncError):
    """An export or import would delete more objects than the accidental-delete threshold."""
