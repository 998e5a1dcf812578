#!/usr/bin/env bash
# Sets up .venv when missing and runs the fast test suite (slow tests: scripts/test.sh -m slow).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
exec python -m pytest -q "$@"
