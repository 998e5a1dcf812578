"""Oracles that schedule epochs: KerasTuner's ``HyperbandOracle``, and ``ASHAOracle`` and
``BOHBOracle``, all over hyperknob's schedulers.

Each trial's values carry the schedule: ``tuner/epochs`` (train until this epoch),
``tuner/initial_epoch`` (the epochs already trained), ``tuner/bracket``, ``tuner/round`` and, when
the trial continues another, ``tuner/trial_id``. A custom tuner's ``run_trial`` reads them as
KerasTuner documents.
"""

from __future__ import annotations

from typing import Any

from hyperknob.oracles.oracle import Oracle, oracle_args
from hyperknob.samplers import Sampler
from hyperknob.schedulers import ASHAScheduler, HyperbandScheduler
from hyperknob.space.hyperparameters import HyperParameters

__all__ = ["ASHAOracle", "BOHBOracle", "HyperbandOracle"]


class HyperbandOracle(Oracle):
    """Hyperband with KerasTuner's arguments and bracket schedule; the search ends by itself after
    ``hyperband_iterations`` iterations. ``sampler`` (ours) chooses new configurations: random as in
    KerasTuner (the default), or ``"tpe"``/``"gp"`` (that is ``BOHBOracle``)."""

    default_sampler: str = "random"

    def __init__(
        self,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int | None = 1,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        sampler: Sampler | str | None = None,
        max_trials: int | None = None,
    ) -> None:
        super().__init__(**oracle_args(locals()))
        self.max_epochs = max_epochs
        self.factor = factor
        self.hyperband_iterations = hyperband_iterations
        self.sampler = self.default_sampler if sampler is None else sampler
        self.make_sampler()  # bad settings fail here, not at the first trial

    def make_sampler(self) -> Sampler:
        return HyperbandScheduler(
            max_epochs=self.max_epochs, factor=self.factor, hyperband_iterations=self.hyperband_iterations,
            sampler=self.sampler,
        )


class BOHBOracle(HyperbandOracle):
    """Model-based Hyperband (BOHB, Falkner et al. 2018): Hyperband's brackets and arguments, with
    new configurations proposed by TPE (by default; ``sampler="gp"`` for the GP) fitted on the
    results of the largest budget that has enough of them."""

    default_sampler = "tpe"


class ASHAOracle(Oracle):
    """Asynchronous successive halving: rungs from ``min_epochs`` to ``max_epochs`` by ``factor``;
    ``max_trials`` counts every run (a promotion is a trial that continues its parent).
    ``budget_model=True`` (with ``sampler="gp"``) fits one GP over configuration and budget that
    proposes new configurations and ranks promotions by the predicted final score; with a
    model-based sampler, a configuration the model proposes starts at the rung the model was
    fitted on (``start_at_model_rung``); ``min_model_rung`` is the lowest rung it is fitted on
    (default 1, the second; ``ASHAScheduler`` says why)."""

    def __init__(
        self,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        min_epochs: int = 1,
        max_trials: int | None = 100,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        sampler: Sampler | str = "random",
        budget_model: bool = False,
        start_at_model_rung: bool = True,
        min_model_rung: int = 1,
    ) -> None:
        super().__init__(**oracle_args(locals()))
        self.max_epochs = max_epochs
        self.factor = factor
        self.min_epochs = min_epochs
        self.sampler = sampler
        self.budget_model = budget_model
        self.start_at_model_rung = start_at_model_rung
        self.min_model_rung = min_model_rung
        self.make_sampler()

    def make_sampler(self) -> Sampler:
        return ASHAScheduler(
            max_epochs=self.max_epochs, factor=self.factor, min_epochs=self.min_epochs, sampler=self.sampler,
            budget_model=self.budget_model, start_at_model_rung=self.start_at_model_rung,
            min_model_rung=self.min_model_rung,
        )
