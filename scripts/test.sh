#!/usr/bin/env bash
# Sets up .venv when missing and runs the fast test suite (slow tests: scripts/test.sh -m slow).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
# Lint and types first (both configured in pyproject.toml); set -e stops the run if either fails.
ruff check src tests benchmarks examples scripts
mypy src/hyperknob
exec python -m pytest -q "$@"
