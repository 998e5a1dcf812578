"""The built-in oracles: KerasTuner's names over hyperknob's samplers."""

from __future__ import annotations

from typing import Any

from hyperknob.oracles.oracle import Oracle, oracle_args
from hyperknob.samplers import GridSampler, RandomSampler
from hyperknob.space.hyperparameters import HyperParameters

__all__ = ["GridSearchOracle", "RandomSearchOracle"]


class RandomSearchOracle(Oracle):
    """Uniform random values on each parameter's scale; never the same configuration twice."""

    sampler_factory = RandomSampler

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = 10,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
    ) -> None:
        super().__init__(**oracle_args(locals()))


class GridSearchOracle(Oracle):
    """Every combination once, the default configuration first; ends when the grid is done."""

    sampler_factory = GridSampler

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = None,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
    ) -> None:
        super().__init__(**oracle_args(locals()))
