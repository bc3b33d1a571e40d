"""Fixtures for the lab kit's own tests: the real slapd harness."""

from __future__ import annotations

from tests.harness.slapd import slapd, slapd_factory, slapd_session, slapd_tls

__all__ = ["slapd", "slapd_factory", "slapd_session", "slapd_tls"]
