#!/usr/bin/env bash
# Runs the whole test suite (after scripts/setup.sh --all) and ruff.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check src tests bench
exec .venv/bin/python -m pytest -n "${IDSYNC_TEST_WORKERS:-2}" --dist loadgroup "$@"
