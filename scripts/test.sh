#!/usr/bin/env bash
# Runs ruff, mypy over src/ (settings in pyproject.toml) and pip-audit
# (scripts/audit_dependencies.py), then the whole test suite twice (after scripts/setup.sh --all): on SQLite, then on
# a private PostgreSQL that tests/harness/postgres.py starts on a free loopback port (this script
# stops it). On the PostgreSQL pass every workspace a test creates gets its own schema
# (tests/conftest.py); tests marked sqlite_only run there on SQLite. Arguments (test paths,
# -k ...) go to both passes; with arguments the PostgreSQL pass is skipped unless
# IDSYNC_TEST_POSTGRES=1. IDSYNC_TEST_POSTGRES=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/python scripts/audit_dependencies.py
workers="${IDSYNC_TEST_WORKERS:-2}"

want_pg="${IDSYNC_TEST_POSTGRES:-}"
[ -z "$want_pg" ] && { [ $# -eq 0 ] && want_pg=1 || want_pg=0; }

start=$SECONDS
.venv/bin/python -m pytest -n "$workers" --dist loadgroup "$@"
echo "SQLite pass: $((SECONDS - start)) s"
[ "$want_pg" = 1 ] || exit 0

pgdir=$(mktemp -d /tmp/idsync-pg-XXXXXX)
stop_pg() { .venv/bin/python -m tests.harness.postgres stop "$pgdir" >/dev/null 2>&1 || true
            rm -rf "$pgdir"; }
trap stop_pg EXIT
start=$SECONDS
url=$(.venv/bin/python -m tests.harness.postgres start "$pgdir")
echo "PostgreSQL pass on $url"
IDSYNC_TEST_DATABASE_URL="$url" .venv/bin/python -m pytest -n "$workers" --dist loadgroup "$@"
echo "PostgreSQL pass: $((SECONDS - start)) s"
