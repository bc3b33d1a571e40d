"""Fixtures for the writeback tests: real slapd and real clouddir servers."""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.harness.clouddir_server import clouddir, clouddir_factory, clouddir_shared  # noqa: E402
from tests.harness.slapd import slapd, slapd_factory  # noqa: E402

__all__ = ["clouddir", "clouddir_factory", "clouddir_shared", "slapd", "slapd_factory"]
