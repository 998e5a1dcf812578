"""``HyperImageAugment``: which image augmentations, and how strong, tuned with the model.

KerasTuner's hyperparameters: ``factor_<transform>`` for each of rotate, translate_x, translate_y
and contrast that is not switched off (``None``), and with ``augment_layers`` nonzero a simple
RandAugment whose ``augment_layers`` (how many transforms each image gets) is tuned too. With
``augment_layers=0`` every transform is applied in turn, each factor on a 0.05 grid.
"""

from __future__ import annotations

from typing import Any, cast

import keras
from keras import layers

from hyperknob.hypermodel import HyperModel
from hyperknob.space.hyperparameters import HyperParameters

__all__ = ["HyperImageAugment", "RandAugment"]

TRANSFORMS = {
    "rotate": lambda factor: layers.RandomRotation(factor),
    "translate_x": lambda factor: layers.RandomTranslation(0, factor),
    "translate_y": lambda factor: layers.RandomTranslation(factor, 0),
    "contrast": lambda factor: layers.RandomContrast(factor),
}


@keras.saving.register_keras_serializable(package="hyperknob")
class RandAugment(keras.layers.Layer):
    """One RandAugment layer: each image gets one of ``transforms``, chosen at random per image."""

    def __init__(self, transforms: list[str], factors: list[float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transforms = list(transforms)
        self.factors = list(factors)
        self._layers = [
            TRANSFORMS[name](factor) for name, factor in zip(self.transforms, self.factors, strict=False) if factor
        ]
        self._indices = [i for i, factor in enumerate(self.factors) if factor]
        self.seed_generator = keras.random.SeedGenerator()

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        ops = keras.ops
        batch = ops.shape(inputs)[0]
        choice = keras.random.randint((batch, 1, 1, 1), 0, len(self.transforms), seed=self.seed_generator)
        x = inputs
        for index, layer in zip(self._indices, self._layers, strict=True):
            x = ops.where(ops.equal(choice, index), layer(x, training=training), x)
        return x

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "transforms": self.transforms, "factors": self.factors}


class HyperImageAugment(HyperModel):
    """An augmentation hypermodel: its model maps images to images of the same shape.

    Each of ``rotate``, ``translate_x``, ``translate_y`` and ``contrast`` is a number ``x`` (the
    factor is searched in [0, x]), a pair ``[lo, hi]``, or None (the transform is off).
    ``augment_layers`` is an int (searched in [1, n]), a pair, or 0 (all transforms in turn).
    """

    def __init__(
        self,
        input_shape: tuple[int, ...] | None = None,
        input_tensor: Any = None,
        rotate: Any = 0.5,
        translate_x: Any = 0.4,
        translate_y: Any = 0.4,
        contrast: Any = 0.3,
        augment_layers: Any = 3,
        **kwargs: Any,
    ) -> None:
        if input_shape is None and input_tensor is None:
            raise ValueError("You must specify either `input_shape` or `input_tensor`, e.g. input_shape=(32, 32, 3).")
        self.transforms: list[tuple[str, tuple[float, float]]] = []
        for name, setting in (("rotate", rotate), ("translate_x", translate_x), ("translate_y", translate_y),
                              ("contrast", contrast)):
            bounds = _factor_range(name, setting)
            if bounds is not None:
                self.transforms.append((name, bounds))
        self.input_shape = input_shape
        self.input_tensor = input_tensor
        if augment_layers:
            self.model_name = "image_rand_augment"
            low, high = _int_range(augment_layers)
            self.augment_layers_min, self.augment_layers_max = low, high
        else:
            self.model_name = "image_augment"
        super().__init__(**kwargs)

    def build(self, hp: HyperParameters) -> keras.Model:
        if self.input_tensor is not None:
            inputs, x = keras.utils.get_source_inputs(self.input_tensor), self.input_tensor
        else:
            inputs = x = keras.Input(shape=tuple(self.input_shape))  # type: ignore[arg-type]
        if self.model_name == "image_rand_augment":
            # hp.Int and hp.Float give None only in an inactive conditional scope, never here.
            count = cast(int, hp.Int("augment_layers", self.augment_layers_min, self.augment_layers_max,
                                     default=self.augment_layers_min))
            for _ in range(count):
                factors = [cast(float, hp.Float(f"factor_{name}", low, high, default=low))
                           for name, (low, high) in self.transforms]
                x = RandAugment([name for name, _ in self.transforms], factors)(x)
        else:
            for name, (low, high) in self.transforms:
                factor = hp.Float(f"factor_{name}", low, high, step=0.05, default=low)
                if factor:
                    x = TRANSFORMS[name](factor)(x)
        return keras.Model(inputs, x, name=self.model_name)


def _factor_range(name: str, setting: Any) -> tuple[float, float] | None:
    if not setting:
        return None
    if isinstance(setting, (int, float)) and not isinstance(setting, bool):
        return 0, setting
    try:
        values = list(setting)
    except TypeError:
        values = None
    if values is None or len(values) != 2 or not all(isinstance(v, (int, float)) for v in values):
        raise ValueError(
            f"Keyword argument {name} must be a number, a list of two numbers or None, but received {setting!r}."
        )
    return values[0], values[1]


def _int_range(setting: Any) -> tuple[int, int]:
    try:
        low, high = setting[0], setting[1]
    except TypeError:
        low, high = 1, setting  # keras-tuner 1.4: at least one layer when RandAugment is on
    if not (isinstance(low, int) and isinstance(high, int)):
        raise ValueError(f"Keyword argument `augment_layers` must be int, but received {setting!r}.")
    return low, high
