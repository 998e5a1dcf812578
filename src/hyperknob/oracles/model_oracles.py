"""Model-based oracles: KerasTuner's ``BayesianOptimizationOracle`` (a Gaussian process) and a
``TPEOracle`` (tree-structured Parzen estimator), both over hyperknob's samplers."""

from __future__ import annotations

from typing import Any

from hyperknob.oracles.oracle import Oracle, oracle_args
from hyperknob.samplers.base import Sampler
from hyperknob.space.hyperparameters import HyperParameters

__all__ = ["BayesianOptimizationOracle", "TPEOracle"]


class BayesianOptimizationOracle(Oracle):
    """Gaussian-process Bayesian optimisation with KerasTuner's arguments.

    ``num_initial_points`` random trials come first; ``beta`` is the exploration weight of the UCB
    acquisition (by default KerasTuner's 2.6 with ``acquisition="ucb"``, 2.0 when UCB alternates
    with log EI, where it measured better: see ``GPSampler``). By default
    (``acquisition="alternate"``) proposals alternate between log expected improvement and UCB;
    ``"log_ei"`` or ``"ucb"`` uses one. ``alpha`` is accepted for KerasTuner
    compatibility and not used: the GP fits its observation noise from the data (with a floor of
    1e-9) instead of fixing it.
    """

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = 10,
        num_initial_points: int | None = None,
        alpha: float = 1e-4,
        beta: float | None = None,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        acquisition: str = "alternate",
    ) -> None:
        super().__init__(**oracle_args(locals()))
        if num_initial_points is not None and (not isinstance(num_initial_points, int) or num_initial_points < 1):
            raise ValueError(f"num_initial_points must be a positive integer or None, received {num_initial_points!r}.")
        self.num_initial_points = num_initial_points
        self.alpha = alpha
        self.beta = beta
        self.acquisition = acquisition
        self.make_sampler()  # bad settings fail here, not at the first trial

    def make_sampler(self) -> Sampler:
        from hyperknob.samplers.gp import GPSampler

        return GPSampler(num_initial_points=self.num_initial_points, beta=self.beta, acquisition=self.acquisition)


class TPEOracle(Oracle):
    """Tree-structured Parzen estimator (multivariate), for large and conditional spaces."""

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = 10,
        n_startup_trials: int = 10,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
    ) -> None:
        super().__init__(**oracle_args(locals()))
        self.n_startup_trials = n_startup_trials
        self.make_sampler()

    def make_sampler(self) -> Sampler:
        from hyperknob.samplers.tpe import TPESampler

        return TPESampler(n_startup_trials=self.n_startup_trials)
