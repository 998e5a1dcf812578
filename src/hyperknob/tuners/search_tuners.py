"""The tuners users construct by name: ``RandomSearch`` and ``GridSearch``."""

from __future__ import annotations

from typing import Any

from hyperknob.oracles.search_oracles import GridSearchOracle, RandomSearchOracle
from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.tuners.tuner import Tuner, oracle_arguments

__all__ = ["GridSearch", "RandomSearch"]


class RandomSearch(Tuner):
    """Random search (KerasTuner's arguments); the remaining keyword arguments go to ``Tuner``."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int | None = 10,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        **kwargs: Any,
    ) -> None:
        self.seed = seed
        oracle = RandomSearchOracle(**oracle_arguments(locals()))
        super().__init__(oracle, hypermodel, **kwargs)


class GridSearch(Tuner):
    """Grid search: every combination once (``max_trials`` optional); continuous floats need a ``step``
    to choose their points, otherwise ten evenly spread values are used."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int | None = None,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        **kwargs: Any,
    ) -> None:
        self.seed = seed
        oracle = GridSearchOracle(**oracle_arguments(locals()))
        super().__init__(oracle, hypermodel, **kwargs)
