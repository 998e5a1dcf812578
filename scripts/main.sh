#!/usr/bin/env bash
# Sets up .venv when missing, runs the main example search into an SQLite study, shows the results.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
exec python examples/hello_world.py "$@"
