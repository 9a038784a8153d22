#!/usr/bin/env bash
# Create .venv with Python >= 3.11. On a fresh Debian the venv module may be missing
# (package python3-venv); install it when we are allowed to.
set -euo pipefail
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Skywarden needs Python >= 3.11; $PY is $("$PY" --version 2>&1)" >&2
  exit 1
fi
if ! "$PY" -m venv --help >/dev/null 2>&1 || ! "$PY" -c 'import ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    ver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    apt-get update -qq && apt-get install -y -qq "python${ver}-venv" || apt-get install -y -qq python3-venv
  else
    echo "The Python venv module is missing: install python3-venv (sudo apt-get install python3-venv)" >&2
    exit 1
  fi
fi
"$PY" -m venv .venv
