"""Fixtures for the writeback tests: real slapd and real clouddir servers."""

from __future__ import annotations

from tests.harness.clouddir_server import clouddir, clouddir_factory, clouddir_shared
from tests.harness.slapd import slapd, slapd_factory

__all__ = ["clouddir", "clouddir_factory", "clouddir_shared", "slapd", "slapd_factory"]
