"""Fixtures of the engine tests; the helpers live in engine_helpers (a unique module name, so
other test folders' conftest modules never shadow them). On the PostgreSQL pass every workspace
gets its own schema through tests/conftest.py."""

from engine_helpers import workspace_factory  # noqa: F401 - the fixture
