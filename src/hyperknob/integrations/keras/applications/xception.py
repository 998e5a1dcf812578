"""``HyperXception``: an Xception-style network of separable-convolution residual blocks.

KerasTuner's hyperparameters: ``activation`` (relu / selu), ``conv2d_num_filters`` (32 / 64 /
128, default 64), ``kernel_size`` (3 / 5), ``initial_strides`` (2), ``sep_num_filters`` (128-768
step 128, default 256), ``num_residual_blocks`` (2-8, default 4), ``pooling`` (avg / flatten /
max) and, with the top, ``num_dense_layers`` (1-3), ``dropout_rate`` (0-0.6 step 0.1, default
0.5), ``dense_use_bn`` (True / False) and ``learning_rate`` (1e-3 / 1e-4 / 1e-5, Adam).
"""

from __future__ import annotations

from typing import Any, cast

import keras
from keras import layers

from hyperknob.hypermodel import HyperModel
from hyperknob.integrations.keras.applications._inputs import (
    check_image_arguments,
    image_input,
)
from hyperknob.space.hyperparameters import HyperParameters

__all__ = ["HyperXception"]

# selu wants LeCun-normal weights and no batch normalisation (self-normalising networks).
_SELU = {"activation": "selu", "kernel_initializer": "lecun_normal"}


class HyperXception(HyperModel):
    """An Xception hypermodel for images of shape (height, width, channels); the output is a
    softmax over ``classes`` (one-hot labels), or the pooled features with ``include_top=False``."""

    def __init__(
        self,
        include_top: bool = True,
        input_shape: tuple[int, ...] | None = None,
        input_tensor: Any = None,
        classes: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_image_arguments(input_shape, input_tensor, classes, include_top=include_top)
        self.include_top = include_top
        self.input_shape = input_shape
        self.input_tensor = input_tensor
        self.classes = classes

    def build(self, hp: HyperParameters) -> keras.Model:
        activation = hp.Choice("activation", ["relu", "selu"])
        inputs, x = image_input(self.input_shape, self.input_tensor)

        filters = hp.Choice("conv2d_num_filters", [32, 64, 128], default=64)
        kernel_size = hp.Choice("kernel_size", [3, 5])
        strides = hp.Choice("initial_strides", [2])
        x = _conv(x, filters, kernel_size, strides, activation)

        # hp.Int gives None only for a parameter of an inactive conditional scope, never for these.
        sep_filters = cast(int, hp.Int("sep_num_filters", 128, 768, step=128, default=256))
        for _ in range(cast(int, hp.Int("num_residual_blocks", 2, 8, default=4))):
            x = _residual(x, sep_filters, kernel_size=3, activation=activation, downsample=False)
        x = _residual(x, 2 * sep_filters, kernel_size=3, activation=activation, downsample=True)

        pooling = hp.Choice("pooling", ["avg", "flatten", "max"])
        pool = {"flatten": layers.Flatten, "avg": layers.GlobalAveragePooling2D, "max": layers.GlobalMaxPooling2D}
        x = pool[pooling]()(x)
        if not self.include_top:
            return keras.Model(inputs, x, name="Xception")

        num_dense = cast(int, hp.Int("num_dense_layers", 1, 3))
        classes = cast(int, self.classes)  # check_image_arguments: include_top needs classes
        dropout_rate = hp.Float("dropout_rate", 0.0, 0.6, step=0.1, default=0.5)
        use_bn = hp.Choice("dense_use_bn", [True, False])
        for _ in range(num_dense):
            x = _dense(x, classes, activation, batchnorm=use_bn, dropout_rate=dropout_rate)
        outputs = layers.Dense(self.classes, activation="softmax")(x)
        model = keras.Model(inputs, outputs, name="Xception")
        model.compile(
            optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-3, 1e-4, 1e-5])),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model


def _conv(x: Any, filters: int, kernel_size: int, strides: int, activation: str) -> Any:
    if activation == "selu":
        return layers.Conv2D(filters, kernel_size, strides=strides, padding="same", **_SELU)(x)
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    return layers.Activation("relu")(layers.BatchNormalization()(x))


def _sep_conv(x: Any, filters: int, kernel_size: int, activation: str) -> Any:
    if activation == "selu":
        return layers.SeparableConv2D(
            filters, kernel_size, padding="same", activation="selu",
            depthwise_initializer="lecun_normal", pointwise_initializer="lecun_normal",
        )(x)
    x = layers.SeparableConv2D(filters, kernel_size, padding="same", use_bias=False)(x)
    return layers.Activation("relu")(layers.BatchNormalization()(x))


def _residual(x: Any, filters: int, kernel_size: int, activation: str, downsample: bool) -> Any:
    """Two separable convolutions and a shortcut (a 1x1 projection where the shape changes)."""
    if downsample:
        shortcut = layers.Conv2D(filters, 1, strides=2, padding="same")(x)
    elif x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, padding="same")(x)
    else:
        shortcut = x
    x = _sep_conv(x, filters, kernel_size, activation)
    x = _sep_conv(x, filters, kernel_size, activation)
    if downsample:
        x = layers.MaxPooling2D(kernel_size, strides=2, padding="same")(x)
    return layers.add([x, shortcut])


def _dense(x: Any, units: int, activation: str, batchnorm: bool, dropout_rate: float | None) -> Any:
    if activation == "selu":
        x = layers.Dense(units, **_SELU)(x)
    else:
        x = layers.Dense(units, activation="relu")(x)
        if batchnorm:
            x = layers.BatchNormalization()(x)
    return layers.Dropout(dropout_rate)(x) if dropout_rate else x
