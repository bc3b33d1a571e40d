#!/usr/bin/env bash
# Runs the whole test suite (after scripts/setup.sh --all) and ruff, then the store-sensitive
# tests again on a private PostgreSQL (tests/harness/postgres.py starts it on a free loopback
# port and this script stops it). Arguments go to the first pytest run; with arguments the
# PostgreSQL pass is skipped unless IDSYNC_TEST_POSTGRES=1. IDSYNC_TEST_POSTGRES=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check src tests bench
workers="${IDSYNC_TEST_WORKERS:-2}"
.venv/bin/python -m pytest -n "$workers" --dist loadgroup "$@"

want_pg="${IDSYNC_TEST_POSTGRES:-}"
[ -z "$want_pg" ] && { [ $# -eq 0 ] && want_pg=1 || want_pg=0; }
[ "$want_pg" = 1 ] || exit 0

# The store-sensitive tests: the store itself and the engine (run profiles, rule features,
# property cycles, schema migrations), and clouddir with the cloud connector (the clouddir
# harness serves from a fresh schema). The crash-safety test reads SQLite files directly.
pgdir=$(mktemp -d /tmp/idsync-pg-XXXXXX)
stop_pg() { .venv/bin/python -m tests.harness.postgres stop "$pgdir" >/dev/null 2>&1 || true
            rm -rf "$pgdir"; }
trap stop_pg EXIT
url=$(.venv/bin/python -m tests.harness.postgres start "$pgdir")
echo "PostgreSQL pass on $url"
IDSYNC_TEST_DATABASE_URL="$url" .venv/bin/python -m pytest -n "$workers" --dist loadgroup \
  tests/store tests/engine tests/clouddir tests/cloud_connector \
  --deselect tests/engine/test_crash_safety.py
