"""``HyperResNet``: ResNet v1, v2 (pre-activation) or ResNeXt, with tuned depths and training.

The hyperparameters are KerasTuner's: ``version`` (v1 / v2 / next, default v2), ``conv3_depth``
(4 or 8), ``conv4_depth`` (6, 23 or 36: ResNet-50, -101 and -152 depths), ``pooling`` (avg / max)
and, with the top, ``optimizer`` (adam / rmsprop / sgd) and ``learning_rate`` (0.1 / 0.01 /
0.001, default 0.01). The blocks follow He et al.'s bottleneck design as Keras's own ResNets do.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from hyperknob.hypermodel import HyperModel
from hyperknob.integrations.keras.applications._inputs import (
    channel_axis,
    check_image_arguments,
    image_input,
)
from hyperknob.space.hyperparameters import HyperParameters

__all__ = ["HyperResNet"]

# (filters of the bottleneck, blocks, stride of the stack) for conv2..conv5; depths come from hp.
_STACK_FILTERS = {"v1": (64, 128, 256, 512), "v2": (64, 128, 256, 512), "next": (64, 256, 512, 1024)}


class HyperResNet(HyperModel):
    """A ResNet hypermodel for images of shape (height, width, channels); the output is a softmax
    over ``classes`` (one-hot labels), or the pooled features with ``include_top=False``."""

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
        version = hp.Choice("version", ["v1", "v2", "next"], default="v2")
        depths = (3, hp.Choice("conv3_depth", [4, 8]), hp.Choice("conv4_depth", [6, 23, 36]), 3)
        preact = version == "v2"
        inputs, x = image_input(self.input_shape, self.input_tensor)

        x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
        x = layers.Conv2D(64, 7, strides=2, use_bias=version != "next", name="conv1_conv")(x)
        if not preact:
            x = _bn_relu(x, "conv1")
        x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)

        for index, (filters, blocks) in enumerate(zip(_STACK_FILTERS[version], depths, strict=True)):
            name = f"conv{index + 2}"
            if version == "v1":
                x = _stack_v1(x, filters, blocks, stride=1 if index == 0 else 2, name=name)
            elif version == "v2":
                x = _stack_v2(x, filters, blocks, stride=1 if index == 3 else 2, name=name)
            else:
                x = _stack_next(x, filters, blocks, stride=1 if index == 3 else 2, name=name)
        if preact:
            x = _bn_relu(x, "post")

        if hp.Choice("pooling", ["avg", "max"], default="avg") == "avg":
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        else:
            x = layers.GlobalMaxPooling2D(name="max_pool")(x)
        if not self.include_top:
            return keras.Model(inputs, x, name="ResNet")

        x = layers.Dense(self.classes, activation="softmax", name="probs")(x)
        model = keras.Model(inputs, x, name="ResNet")
        optimizer = keras.optimizers.get(hp.Choice("optimizer", ["adam", "rmsprop", "sgd"], default="adam"))
        optimizer.learning_rate = hp.Choice("learning_rate", [0.1, 0.01, 0.001], default=0.01)
        model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
        return model


def _bn(x: Any, name: str) -> Any:
    return layers.BatchNormalization(axis=channel_axis(), epsilon=1.001e-5, name=name)(x)


def _bn_relu(x: Any, name: str) -> Any:
    return layers.Activation("relu", name=f"{name}_relu")(_bn(x, f"{name}_bn"))


def _stack_v1(x: Any, filters: int, blocks: int, stride: int, name: str) -> Any:
    """Post-activation bottlenecks; the first block projects the shortcut and strides."""
    for block in range(1, blocks + 1):
        first = block == 1
        prefix = f"{name}_block{block}"
        if first:
            shortcut = _bn(layers.Conv2D(4 * filters, 1, strides=stride, name=f"{prefix}_0_conv")(x), f"{prefix}_0_bn")
        else:
            shortcut = x
        y = layers.Conv2D(filters, 1, strides=stride if first else 1, name=f"{prefix}_1_conv")(x)
        y = _bn_relu(y, f"{prefix}_1")
        y = layers.Conv2D(filters, 3, padding="same", name=f"{prefix}_2_conv")(y)
        y = _bn_relu(y, f"{prefix}_2")
        y = _bn(layers.Conv2D(4 * filters, 1, name=f"{prefix}_3_conv")(y), f"{prefix}_3_bn")
        x = layers.Activation("relu", name=f"{prefix}_out")(layers.Add(name=f"{prefix}_add")([shortcut, y]))
    return x


def _stack_v2(x: Any, filters: int, blocks: int, stride: int, name: str) -> Any:
    """Pre-activation bottlenecks; the first block projects the shortcut, the last one strides."""
    for block in range(1, blocks + 1):
        prefix = f"{name}_block{block}"
        block_stride = stride if block == blocks else 1
        preact = _bn_relu(x, f"{prefix}_preact")
        if block == 1:
            shortcut = layers.Conv2D(4 * filters, 1, strides=block_stride, name=f"{prefix}_0_conv")(preact)
        elif block_stride > 1:
            shortcut = layers.MaxPooling2D(1, strides=block_stride)(x)
        else:
            shortcut = x
        y = layers.Conv2D(filters, 1, use_bias=False, name=f"{prefix}_1_conv")(preact)
        y = _bn_relu(y, f"{prefix}_1")
        y = layers.ZeroPadding2D(1, name=f"{prefix}_2_pad")(y)
        y = layers.Conv2D(filters, 3, strides=block_stride, use_bias=False, name=f"{prefix}_2_conv")(y)
        y = _bn_relu(y, f"{prefix}_2")
        y = layers.Conv2D(4 * filters, 1, name=f"{prefix}_3_conv")(y)
        x = layers.Add(name=f"{prefix}_out")([shortcut, y])
    return x


def _stack_next(x: Any, filters: int, blocks: int, stride: int, name: str, groups: int = 32) -> Any:
    """ResNeXt bottlenecks with a grouped 3x3 convolution of ``groups`` groups."""
    for block in range(1, blocks + 1):
        first = block == 1
        prefix = f"{name}_block{block}"
        block_stride = stride if first else 1
        if first:
            shortcut = layers.Conv2D(2 * filters, 1, strides=block_stride, use_bias=False, name=f"{prefix}_0_conv")(x)
            shortcut = _bn(shortcut, f"{prefix}_0_bn")
        else:
            shortcut = x
        y = _bn_relu(layers.Conv2D(filters, 1, use_bias=False, name=f"{prefix}_1_conv")(x), f"{prefix}_1")
        y = layers.ZeroPadding2D(1, name=f"{prefix}_2_pad")(y)
        y = _grouped_conv(y, filters, block_stride, groups, f"{prefix}_2")
        y = _bn_relu(y, f"{prefix}_2")
        y = _bn(layers.Conv2D(2 * filters, 1, use_bias=False, name=f"{prefix}_3_conv")(y), f"{prefix}_3_bn")
        x = layers.Activation("relu", name=f"{prefix}_out")(layers.Add(name=f"{prefix}_add")([shortcut, y]))
    return x


def _grouped_conv(x: Any, filters: int, stride: int, groups: int, name: str) -> Any:
    """A 3x3 convolution in ``groups`` groups, as one depthwise convolution whose outputs are summed
    over the input channels of each group: the spelling that runs on every backend's CPU
    (TensorFlow has no grouped convolution there). Depthwise output ``i * per_group + m`` is input
    channel ``i`` through kernel ``m``; output ``m`` of group ``g`` sums over the ``i`` of ``g``."""
    per_group = filters // groups
    x = layers.DepthwiseConv2D(3, strides=stride, depth_multiplier=per_group, use_bias=False, name=f"{name}_conv")(x)
    if channel_axis() == -1:
        height, width = x.shape[1], x.shape[2]
        x = layers.Reshape((height, width, groups, per_group, per_group))(x)
        x = layers.Lambda(lambda t: keras.ops.sum(t, axis=-2), name=f"{name}_reduce")(x)
        return layers.Reshape((height, width, filters))(x)
    height, width = x.shape[2], x.shape[3]
    x = layers.Reshape((groups, per_group, per_group, height, width))(x)
    x = layers.Lambda(lambda t: keras.ops.sum(t, axis=2), name=f"{name}_reduce")(x)
    return layers.Reshape((filters, height, width))(x)
