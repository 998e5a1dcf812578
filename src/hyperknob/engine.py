"""KerasTuner's ``keras_tuner.engine`` paths, for scripts that import from there."""

from hyperknob.hypermodel import HyperModel
from hyperknob.space import hyperparameters
from hyperknob.space.hyperparameters import HyperParameters

__all__ = ["HyperModel", "HyperParameters", "hyperparameters"]
