"""Successive halving for scikit-learn: a schedule's budget as a number of training samples or of an
estimator parameter such as ``n_estimators`` (``HalvingRandomSearchCV``'s resources).

The schedule (Hyperband, ASHA, BOHB) counts budget in units from 1 to ``max_resources /
min_resources``; a trial trained on ``u`` units gets ``max_resources * u / units`` of the resource.
Training folds are subsampled for ``n_samples`` (the test folds stay whole, so scores at different
budgets are measured on the same data).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np

from hyperknob.samplers import Sampler
from hyperknob.schedulers import ASHAScheduler, HyperbandScheduler, Scheduler
from hyperknob.schedulers.base import EPOCHS

__all__ = ["SCHEDULES", "ResourceBudget", "make_schedule"]

SCHEDULES = ("hyperband", "asha", "bohb")


@dataclasses.dataclass(frozen=True)
class ResourceBudget:
    resource: str
    min_resources: int
    max_resources: int
    factor: int

    @property
    def units(self) -> int:
        return max(1, round(self.max_resources / self.min_resources))

    def amount(self, values: dict[str, Any]) -> int:
        """The resource a trial with these values trains on."""
        units = int(values.get(EPOCHS, self.units))
        return max(1, min(self.max_resources, round(self.max_resources * units / self.units)))

    def subsampled_splits(
        self, splits: list[tuple[np.ndarray, np.ndarray]], n_samples: int, amount: int, seed: int | list[int]
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The CV splits with each training fold cut to ``amount / n_samples`` of its samples."""
        fraction = amount / n_samples
        rng = np.random.default_rng(seed)
        for train, test in splits:
            keep = max(1, round(len(train) * fraction))
            yield (np.sort(rng.choice(train, size=keep, replace=False)) if keep < len(train) else train), test


def budget_for(
    estimator: Any, resource: str, n_samples: int, min_resources: int | None, max_resources: int | None, factor: int
) -> ResourceBudget:
    if resource == "n_samples":
        high = int(max_resources or n_samples)
        if high > n_samples:
            raise ValueError(f"max_resources={high} is more than the {n_samples} samples given to fit().")
    else:
        if resource not in estimator.get_params():
            raise ValueError(
                f"resource={resource!r} is neither 'n_samples' nor a parameter of {type(estimator).__name__} "
                f"(its parameters: {', '.join(sorted(estimator.get_params()))})."
            )
        if max_resources is None:
            raise ValueError(f"resource={resource!r} needs max_resources= (the largest {resource} to train with).")
        high = int(max_resources)
    low = int(min_resources) if min_resources is not None else max(1, round(high / factor**3))
    if not 1 <= low <= high:
        raise ValueError(f"min_resources must be between 1 and max_resources ({high}), received {min_resources!r}.")
    return ResourceBudget(resource, low, high, factor)


def make_schedule(algorithm: Any, budget: ResourceBudget, sampler: Sampler | str = "random") -> Scheduler:
    """The scheduler behind ``algorithm="hyperband" | "asha" | "bohb"`` over ``budget``'s units."""
    if algorithm == "hyperband":
        return HyperbandScheduler(max_epochs=budget.units, factor=budget.factor, sampler=sampler)
    if algorithm == "bohb":
        return HyperbandScheduler(max_epochs=budget.units, factor=budget.factor, sampler="tpe")
    if algorithm == "asha":
        return ASHAScheduler(max_epochs=budget.units, factor=budget.factor, sampler=sampler)
    raise ValueError(f"Unknown schedule {algorithm!r}; use one of {SCHEDULES}.")
