#!/usr/bin/env bash
# Creates .venv at the project root when missing and installs hyperknob (editable) with the
# extras named in $HYPERKNOB_EXTRAS (default: dev). Sourced by the README's commands.
# $HYPERKNOB_VENV names another environment (CI's JAX and TensorFlow runs: .venv-jax, .venv-tensorflow).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${HYPERKNOB_VENV:-$ROOT/.venv}"
EXTRAS="${HYPERKNOB_EXTRAS:-dev}"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.hyperknob-installed-$EXTRAS"
if [ ! -x "$VENV/bin/python" ]; then
    echo "[hyperknob] creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
# Reinstall only when pyproject.toml changed since the last install of these extras.
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ]; then
    echo "[hyperknob] installing hyperknob[$EXTRAS] into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    # torch first and pinned: the CPU build on these machines; an unpinned torch pulls CUDA wheels.
    case "$EXTRAS" in
        *dev*|*keras*) "$VENV/bin/python" -m pip install --quiet "torch==2.13.0" >&2 ;;
    esac
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$EXTRAS]" >&2
    rm -f "$VENV"/.hyperknob-installed-*
    touch "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
# One BLAS/torch thread per process: on small shared machines more threads make training slower.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
export KERAS_BACKEND="${KERAS_BACKEND:-torch}"
