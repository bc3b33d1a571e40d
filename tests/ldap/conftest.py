"""Fixtures for the LDAP connector tests: the real slapd harness."""

from __future__ import annotations

import sys
from pathlib import Path

# `python -m pytest` puts the repository on sys.path; plain `pytest` does not.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.harness.samba import samba_dc  # noqa: E402
from tests.harness.slapd import slapd, slapd_factory, slapd_session, slapd_tls  # noqa: E402

__all__ = ["samba_dc", "slapd", "slapd_factory", "slapd_session", "slapd_tls"]
