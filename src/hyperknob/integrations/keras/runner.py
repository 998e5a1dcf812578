"""The Keras integration's side of ``hyperknob.tuners.model_runner.ModelRunner``: the tuner trains,
checkpoints and reloads Keras models through this object, found by the ``hyperknob.model_runners``
entry point once the user's code has imported Keras."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from hyperknob.integrations.keras import devices, trial_runner

if TYPE_CHECKING:
    from hyperknob.study.trial import Trial
    from hyperknob.tuners.tuner import Tuner

__all__ = ["KerasRunner"]


class KerasRunner:
    """Trains ``keras.Model`` instances: per-epoch reports, best-epoch checkpoints, promotions."""

    def accepts(self, model: Any) -> bool:
        return trial_runner.is_keras_model(model)

    def declaration_scope(self) -> contextlib.AbstractContextManager[Any]:
        return devices.declaration_scope()

    def release_state(self) -> None:
        trial_runner.release_keras_state()

    def recompile(self, model: Any, overrides: dict[str, Any]) -> None:
        trial_runner.recompile(model, overrides)

    def run_trial(self, tuner: Tuner, trial: Trial, model: Any, *fit_args: Any, **fit_kwargs: Any) -> Any:
        return trial_runner.run_keras_trial(tuner, trial, model, *fit_args, **fit_kwargs)

    def continue_from(self, tuner: Tuner, model: Any, parent_id: str) -> None:
        trial_runner.load_parent_state(tuner, model, parent_id)

    def load_best_model(self, tuner: Tuner, trial: Trial) -> Any:
        return trial_runner.load_best_model(tuner, trial)

    def record_epoch(self, tuner: Tuner, trial: Trial, model: Any, epoch: int, logs: Any) -> None:
        trial_runner.epoch_recorder(tuner, trial, model).record_epoch(epoch, logs)

    def save_model(self, tuner: Tuner, trial_id: str, model: Any) -> None:
        trial_runner.save_checkpoint(tuner, trial_id, model)
