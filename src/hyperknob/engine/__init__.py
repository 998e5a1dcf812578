"""KerasTuner's ``keras_tuner.engine.*`` module paths, for scripts that import from there."""

from hyperknob.engine import (
    base_tuner,
    hypermodel,
    hyperparameters,
    oracle,
    trial,
    tuner,
)
from hyperknob.hypermodel import HyperModel
from hyperknob.space.hyperparameters import HyperParameters

__all__ = ["HyperModel", "HyperParameters", "base_tuner", "hypermodel", "hyperparameters", "oracle", "trial", "tuner"]
