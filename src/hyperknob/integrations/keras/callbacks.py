"""The callback hyperknob adds to every ``fit`` of a trial.

It reports each epoch's logs into the trial as they happen (the hook pruning and Hyperband use),
saves the weights of the best epoch so far, and forwards the epoch and batch events to the tuner's
KerasTuner hooks. A custom training loop that calls ``on_epoch_end(epoch, logs)`` on its callbacks
is tracked the same way.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import keras

if TYPE_CHECKING:
    from hyperknob.study.trial import Trial
    from hyperknob.tuners.tuner import Tuner

__all__ = ["BatchHooks", "TrialCallback", "build_config_path"]


def build_config_path(checkpoint_path: str) -> str:
    return os.path.join(os.path.dirname(checkpoint_path), "build_config.json")


def _plain_logs(logs: Mapping[str, Any] | None) -> dict[str, float]:
    out = {}
    for name, value in (logs or {}).items():
        try:
            out[str(name)] = float(value)
        except (TypeError, ValueError):
            continue  # a non-scalar log entry (e.g. a learning-rate schedule object) is not a metric
    return out


class TrialCallback(keras.callbacks.Callback):
    """Reports epochs into the running trial and keeps the best epoch's weights on disk."""

    def __init__(self, tuner: Tuner, trial: Trial, checkpoint_path: str, best: list[float | None]) -> None:
        super().__init__()
        self.tuner = tuner
        self.trial = trial
        self.checkpoint_path = checkpoint_path
        # Shared by the executions of one trial, so the checkpoint is the best over all of them.
        self._best = best

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.tuner.on_epoch_begin(self.trial, self.model, epoch, logs=logs)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        metrics = _plain_logs(logs)
        if metrics:
            self.tuner.study.report(self.trial, epoch, metrics)
        self._maybe_checkpoint(metrics)
        self.tuner.on_epoch_end(self.trial, self.model, epoch, logs=logs)

    def _maybe_checkpoint(self, metrics: Mapping[str, float]) -> None:
        objective = self.tuner.oracle.objective
        if not objective.has_value(metrics):
            return
        value = objective.get_value(metrics)
        if math.isnan(value):
            return
        best = self._best[0]
        if best is not None and not objective.better_than(value, best):
            return
        self._best[0] = value
        model = getattr(self, "model", None)
        if model is None:
            return  # a custom loop that never called set_model(): tracked and ranked, not saved
        os.makedirs(os.path.dirname(self.checkpoint_path), exist_ok=True)
        model.save_weights(self.checkpoint_path)
        build_config = model.get_build_config()
        if build_config is not None:
            # A model without an Input (e.g. Sequential starting with Flatten) is built by its first
            # batch; its input shape is kept so the model can be rebuilt before loading weights.
            with open(build_config_path(self.checkpoint_path), "w") as f:
                json.dump(build_config, f)


class BatchHooks(keras.callbacks.Callback):
    """Forwards batch events to the tuner; added only when the tuner overrides a batch hook, since
    a callback with batch methods makes Keras do per-batch work."""

    def __init__(self, tuner: Tuner, trial: Trial) -> None:
        super().__init__()
        self.tuner = tuner
        self.trial = trial

    def on_train_batch_begin(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.tuner.on_batch_begin(self.trial, self.model, batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.tuner.on_batch_end(self.trial, self.model, batch, logs=logs)
