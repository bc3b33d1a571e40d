"""Fixtures for the cloud connector tests: the real clouddir server harness."""

from __future__ import annotations

import sys
from pathlib import Path

# `python -m pytest` puts the repository on sys.path; plain `pytest` does not.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.harness.clouddir_server import (  # noqa: E402
    clouddir,
    clouddir_factory,
    clouddir_shared,
)

__all__ = ["clouddir", "clouddir_factory", "clouddir_shared"]
