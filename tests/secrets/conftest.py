"""Fixtures for the secrets tests: a real slapd (a bind that fails must not echo the password)
and idsync run as its own process."""

from __future__ import annotations

from tests.harness.commands import serve_factory
from tests.harness.slapd import slapd, slapd_factory

__all__ = ["serve_factory", "slapd", "slapd_factory"]
