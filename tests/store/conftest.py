"""Store tests run on SQLite and on a real PostgreSQL (tests/harness/postgres.py)."""

from __future__ import annotations

from tests.harness.postgres import postgres_schema, postgres_url

__all__ = ["postgres_schema", "postgres_url"]
