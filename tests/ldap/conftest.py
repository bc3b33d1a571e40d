"""Fixtures for the LDAP connector tests: the real slapd harness."""

from __future__ import annotations

from tests.harness.samba import samba_dc
from tests.harness.slapd import slapd, slapd_factory, slapd_session, slapd_tls

__all__ = ["samba_dc", "slapd", "slapd_factory", "slapd_session", "slapd_tls"]
