from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.space.parameters import (
    Boolean,
    Choice,
    Fixed,
    Float,
    HyperParameter,
    Int,
)

__all__ = ["Boolean", "Choice", "Fixed", "Float", "HyperParameter", "HyperParameters", "Int"]
