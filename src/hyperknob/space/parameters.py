"""Hyperparameter definitions (one module per family: ``parameter_base``, ``numerical``,
``categorical``) and their stored form: ``serialize`` / ``deserialize`` write and read the JSON
a study keeps of its space.

Each definition knows its domain and one bijection-like map to the unit interval
(``to_unit`` / ``from_unit``), so samplers never branch on a parameter's type. Finite domains also
enumerate themselves (``grid_values``) for grid search and exhaustion checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hyperknob.exceptions import SearchSpaceError
from hyperknob.space.categorical import Boolean, Choice, Fixed
from hyperknob.space.conditions import (
    Parent,  # a definition's condition, part of its stored form
)
from hyperknob.space.numerical import Float, Int
from hyperknob.space.parameter_base import SAMPLINGS, HyperParameter

__all__ = [
    "SAMPLINGS",
    "Boolean",
    "Choice",
    "Fixed",
    "Float",
    "HyperParameter",
    "Int",
    "Parent",
    "deserialize",
    "serialize",
]

_CLASSES: dict[str, type[HyperParameter]] = {c.kind: c for c in (Int, Float, Choice, Boolean, Fixed)}


def serialize(hp: HyperParameter) -> dict[str, Any]:
    return {"class_name": hp.kind, "config": hp.get_config()}


def deserialize(config: Mapping[str, Any]) -> HyperParameter:
    class_name = config.get("class_name")
    if class_name not in _CLASSES:
        raise SearchSpaceError(
            f"Unknown hyperparameter class {class_name!r} in a stored space; expected one of {sorted(_CLASSES)}."
        )
    return _CLASSES[class_name].from_config(config["config"])
