"""Fixtures for the secrets tests: a real slapd (a bind that fails must not echo the password)
and idsync run as its own process."""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.harness.slapd import slapd, slapd_factory  # noqa: E402
from tests.scheduler.conftest import serve_factory  # noqa: E402

__all__ = ["serve_factory", "slapd", "slapd_factory"]
