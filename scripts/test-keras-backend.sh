#!/usr/bin/env bash
# The Keras subset of the tests on another Keras backend, in an environment of its own:
#   bash scripts/test-keras-backend.sh jax          (or tensorflow; torch is the README's default)
# Creates .venv-<backend> when missing (JAX, or tensorflow-cpu, without PyTorch). CI runs both.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BACKEND="${1:?usage: scripts/test-keras-backend.sh jax|tensorflow [pytest arguments]}"
shift
case "$BACKEND" in
    jax|tensorflow) ;;
    *) echo "unknown backend '$BACKEND': use jax or tensorflow (torch is the main environment's)" >&2; exit 2 ;;
esac
export HYPERKNOB_VENV="$PWD/.venv-$BACKEND" HYPERKNOB_EXTRAS="test-$BACKEND" KERAS_BACKEND="$BACKEND"
source scripts/bootstrap.sh
# TensorFlow: no oneDNN banner, no GPU search on a CPU build.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec python -m pytest -q -m "not slow" tests/integrations/test_keras_regressions.py \
    tests/integrations/test_keras_guides.py tests/integrations/test_keras_model_kinds.py \
    tests/integrations/test_keras_applications.py tests/integrations/test_keras_tuners.py \
    tests/integrations/test_keras_schedules.py tests/integrations/test_keras_workers.py \
    tests/integrations/test_examples.py tests/differential "$@"
