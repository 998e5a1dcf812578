"""Where the models built only to declare the search space are placed.

``search(n_workers=N)`` forks its workers from the process that built the tuner, and a forked child
cannot use CUDA once its parent has initialised it ("Cannot re-initialize CUDA in forked
subprocess", seen with Keras on PyTorch on an H200). The tuner builds the hypermodel in that
parent to learn the space, so on a machine whose default Keras device is a GPU those throw-away
models are built on the CPU, and the parent stays off the GPU until it forks.

On a CPU-only machine nothing is scoped at all: layers build exactly as in the user's own script.
A scope of any other spelling changes how layers build on PyTorch: under ``keras.device("cpu:0")``
every variable is copied (``Parameter.to("cpu:0")`` is a new tensor, not the parameter), and a
layer holding an integer variable (the seed generator of a fixed-rate ``Dropout``,
``GaussianNoise``, ``RandomFlip``...) then fails with "Only Tensors of floating point and complex
dtype can require gradients". ``"cpu"`` is the spelling PyTorch gives its own CPU tensors, so the
variables stay parameters.
"""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = ["declaration_scope", "default_device_is_cpu"]


def default_device_is_cpu() -> bool:
    """Whether Keras places new variables on the CPU anyway, read without initialising any GPU."""
    import keras

    backend = keras.config.backend()
    if backend == "torch":
        from keras.src.backend.torch import core

        return str(core.get_device()).split(":")[0] == "cpu"
    if backend == "jax":
        import os

        platforms = os.environ.get("JAX_PLATFORMS", os.environ.get("JAX_PLATFORM_NAME", "")).strip()
        return platforms == "cpu" or not _has_jax_gpu_plugin()
    if backend == "tensorflow":
        import tensorflow as tf

        return not tf.config.list_physical_devices("GPU")
    return True


def _has_jax_gpu_plugin() -> bool:
    """JAX finds GPUs through separately installed plugins; without one it runs on the CPU only."""
    import importlib.util

    plugins = ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_rocm60_plugin")
    return any(importlib.util.find_spec(name) is not None for name in plugins)


def declaration_scope() -> contextlib.AbstractContextManager[Any]:
    """No scope where Keras builds on the CPU already; otherwise Keras's CPU device scope, in the
    spelling under which each backend keeps variables as they are."""
    if default_device_is_cpu():
        return contextlib.nullcontext()
    return cpu_scope()


def cpu_scope() -> contextlib.AbstractContextManager[Any]:
    """Keras's device scope for the CPU: ``"cpu"`` on PyTorch (see the module's docstring),
    ``"cpu:0"`` on JAX and TensorFlow."""
    import keras

    return keras.device("cpu" if keras.config.backend() == "torch" else "cpu:0")
