"""``hyperknob.applications``: KerasTuner's image hypermodels under KerasTuner's module name, so
``from keras_tuner.applications import HyperResNet`` ports by its import line. They live in the
Keras integration; importing this module imports Keras."""

from __future__ import annotations

from hyperknob.integrations.keras.applications import (
    HyperEfficientNet,
    HyperImageAugment,
    HyperResNet,
    HyperXception,
)

__all__ = ["HyperEfficientNet", "HyperImageAugment", "HyperResNet", "HyperXception"]
