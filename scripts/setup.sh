#!/usr/bin/env bash
# Set up a development environment: a .venv with sagezero and everything its tests need.
# Idempotent; safe to re-run. Needs only python3 (3.11+) with venv.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import sagezero, pulumi, pulumi_policy, uvicorn, pytest" >/dev/null 2>&1 \
   || [ pyproject.toml -nt .venv/.installed ]; then
  # This machine's pip config names local wheel folders that may be absent; hide only that warning.
  pip() { .venv/bin/python -m pip "$@" 2> >(grep -v "WARNING: Location" >&2); }
  pip install --quiet --disable-pip-version-check --upgrade pip
  pip install --quiet --disable-pip-version-check -e ".[dev]"
  touch .venv/.installed
fi
