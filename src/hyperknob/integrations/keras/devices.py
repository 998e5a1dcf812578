"""Where the models built only to declare the search space are placed.

``search(n_workers=N)`` forks its workers from the process that built the tuner, and a forked child
cannot use CUDA once its parent has initialised it ("Cannot re-initialize CUDA in forked
subprocess", seen with Keras on PyTorch on an H200). The tuner builds the hypermodel in that
parent to learn the space; building those throw-away models on the CPU keeps the parent off the
GPU, so every worker can take its own device.
"""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = ["declaration_scope"]


def declaration_scope() -> contextlib.AbstractContextManager[Any]:
    """Keras's device scope for the CPU (the same name on the JAX, PyTorch and TensorFlow
    backends)."""
    import keras

    return keras.device("cpu:0")
