"""``keras.callbacks.TensorBoard`` without TensorFlow.

Keras 3's TensorBoard callback writes through ``tensorflow.summary`` on every backend, so on
PyTorch or JAX without TensorFlow installed each trial of a search given one (KerasTuner's
visualize-tuning guide) fails with "No module named 'tensorflow'". hyperknob then writes the same
per-epoch scalars (``epoch_<metric>`` under ``<log_dir>/train`` and ``<log_dir>/validation``, as
Keras names them) with tensorboardX, so TensorBoard shows the trials' learning curves; graphs,
histograms, images and profiles need TensorFlow and are left out, with a warning saying so.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Mapping
from typing import Any

import keras

__all__ = ["EpochScalars", "tensorboard_without_tensorflow"]

logger = logging.getLogger("hyperknob")
_warned = False


def tensorboard_without_tensorflow(callback: Any) -> Any:
    """``callback`` itself where Keras can run it; otherwise an ``EpochScalars`` in its place."""
    global _warned
    if not isinstance(callback, keras.callbacks.TensorBoard) or importlib.util.find_spec("tensorflow") is not None:
        return callback
    if importlib.util.find_spec("tensorboardX") is None:
        raise ModuleNotFoundError(
            "keras.callbacks.TensorBoard needs TensorFlow, which is not installed. Install tensorflow-cpu, or "
            "pip install 'hyperknob[tensorboard]' and hyperknob writes the epoch metrics with tensorboardX instead."
        )
    if not _warned:
        logger.warning(
            "keras.callbacks.TensorBoard needs TensorFlow, which is not installed: writing each epoch's metrics "
            "with tensorboardX instead (no graphs, histograms or profiles)."
        )
        _warned = True
    return EpochScalars(callback.log_dir)


class EpochScalars(keras.callbacks.Callback):
    """Each epoch's logs as TensorBoard scalars: ``val_x`` under validation/, the rest under train/."""

    def __init__(self, log_dir: str) -> None:
        super().__init__()
        self.log_dir = log_dir
        self._writers: dict[str, Any] = {}

    def _writer(self, split: str) -> Any:
        if split not in self._writers:
            from tensorboardX import SummaryWriter

            self._writers[split] = SummaryWriter(os.path.join(self.log_dir, split))
        return self._writers[split]

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        for name, value in (logs or {}).items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            split, metric = ("validation", name[4:]) if name.startswith("val_") else ("train", name)
            self._writer(split).add_scalar(f"epoch_{metric}", number, epoch)

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
