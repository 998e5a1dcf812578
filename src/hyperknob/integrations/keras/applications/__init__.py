"""KerasTuner's ready-made hypermodels for images: ``HyperResNet``, ``HyperXception``,
``HyperEfficientNet`` and ``HyperImageAugment``, reached as ``kt.applications``.

They take KerasTuner's constructor arguments, declare the same hyperparameters (names, choices,
defaults) and compile their models as KerasTuner does (``categorical_crossentropy``, ``accuracy``),
so a script using them runs unchanged. Written for Keras 3 on every backend.
"""

from __future__ import annotations

from hyperknob.integrations.keras.applications.augment import HyperImageAugment
from hyperknob.integrations.keras.applications.efficientnet import HyperEfficientNet
from hyperknob.integrations.keras.applications.resnet import HyperResNet
from hyperknob.integrations.keras.applications.xception import HyperXception

__all__ = ["HyperEfficientNet", "HyperImageAugment", "HyperResNet", "HyperXception"]
