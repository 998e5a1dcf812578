"""Search spaces: definitions, the define-by-run container, walking and encoding."""

from hyperknob.space.conditions import Parent
from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.space.parameters import (
    Boolean,
    Choice,
    Fixed,
    Float,
    HyperParameter,
    Int,
    deserialize,
    serialize,
)
from hyperknob.space.search_space import (
    config_key,
    grid_size,
    iter_grid,
    values_by_walking,
)

__all__ = [
    "Boolean",
    "Choice",
    "Fixed",
    "Float",
    "HyperParameter",
    "HyperParameters",
    "Int",
    "Parent",
    "config_key",
    "deserialize",
    "grid_size",
    "iter_grid",
    "serialize",
    "values_by_walking",
]
