"""Model-based tuners: KerasTuner's ``BayesianOptimization`` and hyperknob's ``TPE``."""

from __future__ import annotations

from typing import Any

from hyperknob.oracles.model_oracles import BayesianOptimizationOracle, TPEOracle
from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.tuners.tuner import Tuner, oracle_arguments

__all__ = ["TPE", "BayesianOptimization"]


class BayesianOptimization(Tuner):
    """Gaussian-process Bayesian optimisation (KerasTuner's arguments); other keyword arguments go
    to ``Tuner``."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int | None = 10,
        num_initial_points: int | None = None,
        alpha: float = 1e-4,
        beta: float | None = None,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        **kwargs: Any,
    ) -> None:
        self.seed = seed
        oracle = BayesianOptimizationOracle(**oracle_arguments(locals()))
        super().__init__(oracle, hypermodel, **kwargs)


class TPE(Tuner):
    """Tree-structured Parzen estimator search; suits large and conditional spaces."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int | None = 10,
        n_startup_trials: int = 10,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        **kwargs: Any,
    ) -> None:
        self.seed = seed
        oracle = TPEOracle(**oracle_arguments(locals()))
        super().__init__(oracle, hypermodel, **kwargs)
