"""The callback hyperknob adds to every ``fit`` of a trial.

It reports each epoch's logs into the trial as they happen (the hook pruning and Hyperband use),
with the model's cheap metrics (its size, its prediction latency) added to every epoch,
saves the weights of the best epoch so far (and, for a trial a schedule may continue, the state at
the end of training), stops training when the study's pruner says so, and forwards the epoch and
batch events to the tuner's KerasTuner hooks. A custom training loop that calls
``on_epoch_end(epoch, logs)`` on its callbacks is tracked the same way.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import keras

from hyperknob.integrations.keras.input_spec import write_input_spec

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

    def __init__(
        self, tuner: Tuner, trial: Trial, checkpoint_path: str, best: list[float | None],
        resume_path: str | None = None, input_spec: Any = None,
        extra_metrics: Callable[[Any], Mapping[str, float]] | None = None,
    ) -> None:
        super().__init__()
        # Metrics of the model itself (``model_params``, ...), reported beside each epoch's logs so
        # that they are present at every step the objective is (the score's step); the logs that
        # Keras hands on to the other callbacks (History, the progress bar) are left as they are.
        self.extra_metrics = extra_metrics
        self.reported = False  # whether an epoch was reported (a HyperModel.fit may drop callbacks)
        self.input_spec = input_spec  # the shapes of fit's inputs, for models without a build config
        self.tuner = tuner
        self.trial = trial
        self.checkpoint_path = checkpoint_path
        # Where the state at the end of training goes (weights and optimizer), for a schedule that
        # continues this trial in a later one; None when nothing continues it.
        self.resume_path = resume_path
        # Shared by the executions of one trial, so the checkpoint is the best over all of them.
        self._best = best
        self.pruned_at: int | None = None  # the epoch at which the study's pruner stopped training

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.tuner.on_epoch_begin(self.trial, self.model, epoch, logs=logs)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        metrics = self.record_epoch(epoch, logs)
        self.tuner._epoch_hook_from_fit = True  # the hook below must not record the epoch again
        try:
            self.tuner.on_epoch_end(self.trial, self.model, epoch, logs=logs)
        finally:
            self.tuner._epoch_hook_from_fit = False
        total = (getattr(self, "params", None) or {}).get("epochs")  # unknown in a custom training loop
        last_epoch = total is not None and epoch + 1 >= int(total)
        # After the last epoch there is nothing left to stop: the trial completes.
        if (metrics and not last_epoch and self.tuner.study.pruner is not None
                and self.tuner.study.should_prune(self.trial)):
            self.pruned_at = epoch
            model = getattr(self, "model", None)
            if model is not None:
                model.stop_training = True

    def record_epoch(self, epoch: int, logs: Mapping[str, Any] | None) -> dict[str, float]:
        """Report the epoch's logs into the trial and keep the weights when the objective improved."""
        metrics = _plain_logs(logs)
        model = getattr(self, "model", None)
        if metrics and self.extra_metrics is not None and model is not None:
            # A metric the user logs under one of these names is kept as logged.
            extra = self.extra_metrics(model)
            metrics.update({name: value for name, value in extra.items() if name not in metrics})
        if metrics:
            self.tuner.study.report(self.trial, epoch, metrics)
            self.reported = True
        self._maybe_checkpoint(metrics)
        return metrics

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        model = getattr(self, "model", None)
        if self.resume_path is not None and model is not None:
            os.makedirs(os.path.dirname(self.resume_path), exist_ok=True)
            model.save_weights(self.resume_path)
            self._save_build_config(model)

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
        self.save(model)

    def save(self, model: Any) -> None:
        """Write ``model``'s weights (and optimizer state) as the trial's checkpoint."""
        if not model.built:
            return  # never trained: nothing to keep
        os.makedirs(os.path.dirname(self.checkpoint_path), exist_ok=True)
        model.save_weights(self.checkpoint_path)
        self._save_build_config(model)

    def _save_build_config(self, model: Any) -> None:
        build_config = model.get_build_config()
        if build_config is not None:
            # A model without an Input (e.g. Sequential starting with Flatten) is built by its first
            # batch; its input shape is kept so the model can be rebuilt before loading weights.
            with open(build_config_path(self.checkpoint_path), "w") as f:
                json.dump(build_config, f)
        if self.input_spec is not None:
            # A subclassed model's build config does not build its layers: it is called on zeros.
            write_input_spec(self.checkpoint_path, self.input_spec)


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
