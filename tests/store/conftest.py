"""Store tests run on SQLite and on a real PostgreSQL (tests/harness/postgres.py)."""

from __future__ import annotations

import sys
from pathlib import Path

# `python -m pytest` puts the repository on sys.path; plain `pytest` does not.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.harness.postgres import postgres_schema, postgres_url  # noqa: E402

__all__ = ["postgres_schema", "postgres_url"]
