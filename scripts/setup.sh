#!/usr/bin/env bash
# Sets up idsync on a fresh machine: Debian packages (with --all, for the tests), a virtualenv in
# .venv and the package itself. Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
all=0
[ "${1:-}" = "--all" ] && all=1

if [ "$all" = 1 ]; then
  want=$(grep -v '^\s*#' scripts/apt-packages.txt | xargs)
  missing=""
  for p in $want; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    echo "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  # Debian's slapd package starts a system slapd on port 389; the tests run their own private
  # instances, and the Samba AD tests need port 389 free.
  if command -v service >/dev/null 2>&1 && pgrep -x slapd >/dev/null 2>&1; then
    service slapd stop >/dev/null 2>&1 || pkill -x slapd || true
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip 2>/dev/null
if [ "$all" = 1 ]; then
  .venv/bin/python -m pip install -q -e '.[ldap,test]'
else
  .venv/bin/python -m pip install -q -e .
fi
