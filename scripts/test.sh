#!/usr/bin/env bash
# The full test suite: lint, types, the fast tier, then the container tier (builds and runs the image).
# Usage: scripts/test.sh [--fast]   (--fast skips the container tier)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The container tier needs a Docker engine, debootstrap (to make a base image offline) and wrk.
if [ "${1:-}" != "--fast" ] && [ "$(id -u)" = 0 ]; then
  missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} for the container tier" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# The fast tier runs on every core. The slow tier (the container tier shares one private Docker daemon;
# the package tier installs the wheel and the policy bundle into fresh virtualenvs) runs after it.
.venv/bin/python -m pytest -m "not container and not package" -n auto
if [ "${1:-}" != "--fast" ]; then
  .venv/bin/python -m pytest -m "container or package"
fi
