"""The shapes of a trial's inputs, kept beside its checkpoint, so that a model that Keras cannot
rebuild from a build config (a subclassed ``keras.Model``) is built again before its weights load.

KerasTuner's ``get_best_models()`` fails for subclassed models ("You are loading weights into a
model that has not yet been built"): they have no build config, and nothing says what they take.
Here the shape and dtype of one input sample (arrays, lists and dicts of them, the first batch of
a ``PyDataset``) are stored as JSON, and the rebuilt model is called once on zeros of that shape.
"""

from __future__ import annotations

import json
import os
from typing import Any

import keras
import numpy as np

__all__ = ["build_from_input_spec", "describe_inputs", "input_spec_path", "write_input_spec"]

Spec = Any  # {"shape": [...], "dtype": str} | list[Spec] | dict[str, Spec] | None


def input_spec_path(checkpoint_path: str) -> str:
    return os.path.join(os.path.dirname(checkpoint_path), "input_spec.json")


def describe_inputs(fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> Spec:
    """The structure, per-sample shapes and dtypes of ``fit``'s ``x``; None when unknown."""
    x = fit_args[0] if fit_args else fit_kwargs.get("x")
    if isinstance(x, keras.utils.PyDataset) and len(x) > 0:
        batch = x[0]
        x = batch[0] if isinstance(batch, tuple) else batch
    return _describe(x)


def _describe(x: Any) -> Spec:
    if isinstance(x, dict):
        described = {str(k): _describe(v) for k, v in x.items()}
        return None if any(v is None for v in described.values()) else described
    if isinstance(x, (list, tuple)):
        items = [_describe(v) for v in x]
        return None if not items or any(v is None for v in items) else items
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    if shape is None or dtype is None or len(shape) < 1:
        return None
    try:
        return {"shape": [None if d is None else int(d) for d in tuple(shape)[1:]],
                "dtype": keras.backend.standardize_dtype(dtype)}
    except (TypeError, ValueError):
        return None


def write_input_spec(checkpoint_path: str, spec: Spec) -> None:
    with open(input_spec_path(checkpoint_path), "w") as f:
        json.dump(spec, f)


def build_from_input_spec(model: Any, checkpoint_path: str) -> bool:
    """Call ``model`` once on zeros shaped as the stored spec; whether it could."""
    path = input_spec_path(checkpoint_path)
    if not os.path.exists(path):
        return False
    with open(path) as f:
        spec = json.load(f)
    if spec is None:
        return False
    model(_zeros(spec), training=False)
    return True


def _zeros(spec: Spec) -> Any:
    if isinstance(spec, dict) and "shape" in spec and "dtype" in spec:
        return np.zeros([1, *[1 if d is None else d for d in spec["shape"]]], dtype=spec["dtype"])
    if isinstance(spec, dict):
        return {k: _zeros(v) for k, v in spec.items()}
    return [_zeros(v) for v in spec]
