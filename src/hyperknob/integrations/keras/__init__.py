"""Keras 3 integration: per-epoch reporting, best-epoch checkpoints, callbacks and model loading.

``Tuner`` reaches it through ``runner.KerasRunner`` (the ``hyperknob.model_runners`` entry point), only
once the user's code imported Keras; the core never imports it. Requires ``pip install 'hyperknob[keras]'``.
"""

from __future__ import annotations

import os

try:
    import keras  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - exercised only without keras or its backend
    if exc.name in ("tensorflow", "jax", "torch"):
        raise ModuleNotFoundError(
            f"Keras is configured to use the {exc.name!r} backend (KERAS_BACKEND="
            f"{os.environ.get('KERAS_BACKEND', 'unset: ~/.keras/keras.json decides')}), which is not installed. "
            f"Install it, or set KERAS_BACKEND to an installed backend (hyperknob[keras] installs torch)."
        ) from exc
    raise ModuleNotFoundError(
        "hyperknob's Keras integration needs Keras 3 and a backend: pip install 'hyperknob[keras]'."
    ) from exc

from hyperknob.integrations.keras.callbacks import TrialCallback
from hyperknob.integrations.keras.trial_runner import (
    is_keras_model,
    load_best_model,
    run_keras_trial,
)

__all__ = ["TrialCallback", "is_keras_model", "load_best_model", "run_keras_trial"]
