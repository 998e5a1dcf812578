"""``HyperEfficientNet``: one of Keras's EfficientNets B0-B7 as the feature extractor, a tuned top.

KerasTuner's hyperparameters: ``version`` (B0-B7, default B0; the input is resized to that
version's image size), ``pooling`` (avg / max), ``top_dropout_rate`` (0.2-0.8 step 0.2) and
``learning_rate`` (0.1 / 0.01 / 0.001, default 0.01; SGD with momentum 0.1). As in KerasTuner the
extractor starts from the ImageNet weights (Keras downloads them once into ``~/.keras``);
``weights=None`` starts from random weights, for machines without internet access.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from hyperknob.hypermodel import HyperModel
from hyperknob.integrations.keras.applications._inputs import (
    check_image_arguments,
    image_input,
)
from hyperknob.space.hyperparameters import HyperParameters

__all__ = ["HyperEfficientNet"]

IMAGE_SIZES = {"B0": 224, "B1": 240, "B2": 260, "B3": 300, "B4": 380, "B5": 456, "B6": 528, "B7": 600}


class HyperEfficientNet(HyperModel):
    """An EfficientNet hypermodel for images of shape (height, width, channels); the output is a
    softmax over ``classes`` (one-hot labels). ``augmentation_model`` (a Keras model or a
    ``HyperModel`` such as ``HyperImageAugment``) is applied to the input first."""

    def __init__(
        self,
        input_shape: tuple[int, ...] | None = None,
        input_tensor: Any = None,
        classes: int | None = None,
        augmentation_model: Any = None,
        weights: str | None = "imagenet",
        **kwargs: Any,
    ) -> None:
        if not isinstance(augmentation_model, (HyperModel, keras.Model, type(None))):
            raise ValueError(
                "Keyword augmentation_model should be a `HyperModel`, a Keras `Model` or empty. "
                f"Received {augmentation_model!r}."
            )
        if not classes:
            raise ValueError("You must specify `classes`: the number of classes to predict, e.g. classes=10.")
        check_image_arguments(input_shape, input_tensor, classes, include_top=True)
        self.input_shape = input_shape
        self.input_tensor = input_tensor
        self.classes = classes
        self.augmentation_model = augmentation_model
        self.weights = weights
        super().__init__(**kwargs)

    def build(self, hp: HyperParameters) -> keras.Model:
        inputs, x = image_input(self.input_shape, self.input_tensor)
        if isinstance(self.augmentation_model, HyperModel):
            x = self.augmentation_model.build(hp)(x)
        elif self.augmentation_model is not None:
            x = self.augmentation_model(x)

        version = hp.Choice("version", [f"B{i}" for i in range(8)], default="B0")
        size = IMAGE_SIZES[version]
        x = layers.Resizing(size, size, interpolation="bilinear")(x)
        extractor = getattr(keras.applications, f"EfficientNet{version}")(
            include_top=False, weights=self.weights, input_tensor=x
        )
        x = extractor.output
        if hp.Choice("pooling", ["avg", "max"], default="avg") == "avg":
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        else:
            x = layers.GlobalMaxPooling2D(name="max_pool")(x)
        rate = hp.Float("top_dropout_rate", min_value=0.2, max_value=0.8, step=0.2, default=0.2)
        x = layers.Dropout(rate, name="top_dropout")(x)
        x = layers.Dense(self.classes, activation="softmax", name="probs")(x)
        model = keras.Model(inputs, x, name="EfficientNet")
        self._compile(model, hp)
        return model

    def _compile(self, model: keras.Model, hp: HyperParameters) -> None:
        """KerasTuner's compile step; a subclass overrides it to compile differently."""
        learning_rate = hp.Choice("learning_rate", [0.1, 0.01, 0.001], default=0.01)
        model.compile(
            optimizer=keras.optimizers.SGD(momentum=0.1, learning_rate=learning_rate),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
