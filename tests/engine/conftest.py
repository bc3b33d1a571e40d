"""Fixtures of the engine tests; the helpers live in engine_helpers (a unique module name, so
other test folders' conftest modules never shadow them)."""

from pathlib import Path

import pytest
from engine_helpers import workspace_factory  # noqa: F401 - the fixture
from tests.harness.postgres import prepare_workspace


@pytest.fixture(autouse=True)
def _test_database(tmp_path: Path) -> None:
    """On a PostgreSQL test run, a workspace opened at tmp_path uses a fresh schema."""
    prepare_workspace(tmp_path)
