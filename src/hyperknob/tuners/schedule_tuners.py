"""Tuners whose trials train for a scheduled number of epochs: KerasTuner's ``Hyperband``, and
``ASHA`` and ``BOHB``.

``fit`` is called with the trial's ``epochs`` and ``initial_epoch``. A trial that continues
another (``tuner/trial_id``) starts from that trial's weights AND optimizer state at the end of its
training, so Adam keeps its moments and a learning-rate schedule its step count.
"""

from __future__ import annotations

from typing import Any

from hyperknob.oracles.schedule_oracles import ASHAOracle, BOHBOracle, HyperbandOracle
from hyperknob.samplers import Sampler
from hyperknob.schedulers.base import EPOCHS, INITIAL_EPOCH, PARENT
from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.study.trial import Trial
from hyperknob.tuners.model_runner import runner_for
from hyperknob.tuners.tuner import Tuner, oracle_arguments

__all__ = ["ASHA", "BOHB", "Hyperband", "ScheduledTuner"]


class ScheduledTuner(Tuner):
    """A ``Tuner`` that trains each trial from ``tuner/initial_epoch`` to ``tuner/epochs``,
    continuing the trial named by ``tuner/trial_id``."""

    saves_resume_state = True  # read by the Keras trial runner: keep the end-of-training state

    def run_trial(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> Any:
        values = trial.hyperparameters.values
        if EPOCHS in values:
            fit_kwargs["epochs"] = values[EPOCHS]
            fit_kwargs["initial_epoch"] = values[INITIAL_EPOCH]
        return super().run_trial(trial, *fit_args, **fit_kwargs)

    def _build_hypermodel(self, hp: HyperParameters) -> Any:
        model = super()._build_hypermodel(hp)
        parent = hp.values.get(PARENT)
        runner = runner_for(model) if parent is not None else None
        if runner is not None:
            runner.continue_from(self, model, str(parent))
        return model


class Hyperband(ScheduledTuner):
    """Hyperband (KerasTuner's arguments, plus ``sampler``: random by default); other keyword
    arguments go to ``Tuner``."""

    oracle_class: type[HyperbandOracle] = HyperbandOracle

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int | None = 1,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        sampler: Sampler | str | None = None,
        **kwargs: Any,
    ) -> None:
        oracle = self.oracle_class(**oracle_arguments(locals()))
        super().__init__(oracle, hypermodel, **kwargs)


class BOHB(Hyperband):
    """Model-based Hyperband: Hyperband's brackets and arguments with TPE (by default; or
    ``sampler="gp"``) proposing new configurations from the largest budget with enough results."""

    oracle_class = BOHBOracle


class ASHA(ScheduledTuner):
    """Asynchronous successive halving; ``max_trials`` counts every run, promotions included.
    ``sampler="gp", budget_model=True``: one GP over configuration and budget proposes and ranks
    promotions by the predicted final score (for learning curves that cross). With a model-based
    sampler, a configuration the model proposes starts at the rung the model was fitted on
    (``start_at_model_rung=True``); ``min_model_rung`` is the lowest rung it is fitted on
    (default 1, the second; ``ASHAScheduler`` says why)."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        min_epochs: int = 1,
        max_trials: int | None = 100,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        sampler: Sampler | str = "random",
        budget_model: bool = False,
        start_at_model_rung: bool = True,
        min_model_rung: int = 1,
        **kwargs: Any,
    ) -> None:
        oracle = ASHAOracle(**oracle_arguments(locals()))
        super().__init__(oracle, hypermodel, **kwargs)
