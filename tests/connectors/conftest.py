"""Fixtures for the connector tests: the real clouddir server harness."""

from __future__ import annotations

from tests.harness.clouddir_server import (
    clouddir,
    clouddir_factory,
    clouddir_shared,
)

__all__ = ["clouddir", "clouddir_factory", "clouddir_shared"]
