"""Fixtures of the engine tests (the helpers: tests/harness/workspace.py). On the PostgreSQL
pass every workspace gets its own schema through tests/conftest.py."""

from __future__ import annotations

from tests.harness.workspace import workspace_factory

__all__ = ["workspace_factory"]
