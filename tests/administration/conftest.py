"""The operations tests share the scheduler tests' fixtures (file-connector workspace, idsync as
a real process)."""

from __future__ import annotations

from tests.scheduler.conftest import serve_factory, small_workspace

__all__ = ["serve_factory", "small_workspace"]
