"""What the image hypermodels share: checking their arguments and making their input."""

from __future__ import annotations

from typing import Any

import keras

__all__ = ["check_image_arguments", "image_input"]


def check_image_arguments(input_shape: Any, input_tensor: Any, classes: Any, *, include_top: bool) -> None:
    """KerasTuner's argument errors, worded to say the fix."""
    if include_top and not classes:
        raise ValueError(
            "You must specify `classes` when `include_top=True`: the number of classes the top "
            "layer predicts, e.g. classes=10."
        )
    if input_shape is None and input_tensor is None:
        raise ValueError(
            "You must specify either `input_shape` or `input_tensor`, e.g. input_shape=(32, 32, 3)."
        )


def image_input(input_shape: Any, input_tensor: Any) -> tuple[Any, Any]:
    """``(model inputs, first tensor)``: a fresh ``Input`` of ``input_shape``, or the user's tensor."""
    if input_tensor is not None:
        return keras.utils.get_source_inputs(input_tensor), input_tensor
    inputs = keras.Input(shape=tuple(input_shape))
    return inputs, inputs


def channel_axis() -> int:
    return -1 if keras.config.image_data_format() == "channels_last" else 1
