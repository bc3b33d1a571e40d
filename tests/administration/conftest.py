"""The operations tests share the scheduler tests' fixtures (file-connector workspace, idsync as
a real process)."""

from __future__ import annotations

from tests.harness.commands import serve_factory, small_workspace

__all__ = ["serve_factory", "small_workspace"]
