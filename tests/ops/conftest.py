"""The operations tests share the scheduler tests' fixtures (file-connector workspace, idsync as
a real process)."""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.scheduler.conftest import serve_factory, small_workspace  # noqa: E402

__all__ = ["serve_factory", "small_workspace"]
