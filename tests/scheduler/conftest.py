"""Fixtures of the scheduler tests (tests/harness/commands.py)."""

from __future__ import annotations

from tests.harness.commands import serve_factory, small_workspace

__all__ = ["serve_factory", "small_workspace"]
