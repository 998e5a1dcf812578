"""Schedulers decide WHEN: how many epochs a trial trains, and which trials are promoted to more.

A scheduler composes a sampler (which decides WHAT new configuration to try) and is used wherever
a sampler is: it is asked for the next trial's values with the same pure call,
``propose(space, view, rng)``, and returns the configuration plus KerasTuner's schedule keys
(``tuner/epochs``, ``tuner/initial_epoch``, ``tuner/bracket``, ``tuner/round`` and, for a
promotion, ``tuner/trial_id``, the trial whose trained state it continues). Its whole state is the
stored trials, so a resumed search, or another worker, continues the same schedule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.samplers import Sampler, TrialsView, make_sampler
from hyperknob.samplers.base import IDLE
from hyperknob.space.parameters import HyperParameter

__all__ = [
    "BRACKET",
    "EPOCHS",
    "INITIAL_EPOCH",
    "PARENT",
    "ROUND",
    "SCHEDULE_KEYS",
    "BudgetView",
    "Scheduler",
    "check_factor",
    "schedule_values",
]

EPOCHS = "tuner/epochs"
INITIAL_EPOCH = "tuner/initial_epoch"
BRACKET = "tuner/bracket"
ROUND = "tuner/round"
PARENT = "tuner/trial_id"
SCHEDULE_KEYS = (EPOCHS, INITIAL_EPOCH, BRACKET, ROUND, PARENT)


def check_factor(factor: Any) -> None:
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor >= 2:
        raise ValueError(
            f"factor must be a number >= 2 (the fraction 1/factor of trials is promoted at each round), "
            f"received {factor!r}. KerasTuner's default is factor=3."
        )


def check_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, received {value!r}.")


def schedule_values(
    epochs: int, initial_epoch: int, bracket: int, round_num: int, parent: str | None = None
) -> dict[str, Any]:
    values: dict[str, Any] = {
        EPOCHS: int(epochs), INITIAL_EPOCH: int(initial_epoch), BRACKET: int(bracket), ROUND: int(round_num)
    }
    if parent is not None:
        values[PARENT] = parent
    return values


class BudgetView(TrialsView):
    """What the inner sampler of a model-based schedule sees: every trial (so it never proposes a
    configuration already tried, and knows the pending ones), but as results only the trials of one
    budget, so a model never compares a 1-epoch score with a 27-epoch one."""

    def __init__(self, view: TrialsView, results: Sequence[FrozenTrial]) -> None:
        super().__init__(view.trials, view.number, view.direction)
        self._results = list(results)

    def finished(self) -> list[FrozenTrial]:
        return list(self._results)


class Scheduler(Sampler):
    """The base of the schedules: new configurations come from ``sampler``.

    With a model-based sampler (``"tpe"``, ``"gp"``) the model is fitted on the trials of the
    largest budget that has at least ``min_points_in_model`` results (BOHB's rule; by default one
    more than the number of hyperparameters), or, when the sampler needs more results before it
    models (TPE: 10), of the largest budget that has that many.
    """

    name = "scheduler"
    # A schedule whose budgets each get a fixed, small number of results (Hyperband's table) sets
    # this: a sampler given by name then models as soon as a budget has min_points_in_model results.
    named_sampler_models_early = False
    # Settings whose default has changed since studies were stored with them: a stored config
    # without the key was made with the value here (``sampler_from_config`` applies it).
    CONFIG_DEFAULTS: dict[str, Any] = {}

    def __init__(self, sampler: Sampler | str = "random", min_points_in_model: int | None = None) -> None:
        if self.named_sampler_models_early and isinstance(sampler, str) and sampler in ("tpe", "gp"):
            self.sampler = modelling_sampler(sampler)
        else:
            self.sampler = make_sampler(sampler)
        if isinstance(self.sampler, Scheduler):
            raise TypeError("A scheduler's sampler must be a sampler (random, grid, tpe, gp), not another scheduler.")
        if min_points_in_model is not None:
            check_int("min_points_in_model", min_points_in_model)
        self.min_points_in_model = min_points_in_model

    def suggest(self, hp: HyperParameter, rng: np.random.Generator) -> Any:
        return self.sampler.suggest(hp, rng)

    def new_configuration(
        self, space: Sequence[HyperParameter], view: TrialsView, rng: np.random.Generator
    ) -> dict[str, Any] | Literal["idle"] | None:
        """Values for a configuration never tried, from the inner sampler (None: none left)."""
        results = self._model_trials(space, view)
        values = self.sampler.propose(space, BudgetView(view, results), rng)
        if values is None or values == IDLE:
            return values
        return {k: v for k, v in values.items() if k not in SCHEDULE_KEYS}

    def _model_trials(self, space: Sequence[HyperParameter], view: TrialsView) -> list[FrozenTrial]:
        by_budget: dict[int, list[FrozenTrial]] = {}
        for t in view.finished():
            by_budget.setdefault(int(t.values.get(EPOCHS, 0)), []).append(t)
        needed = self._points_needed(space)
        for budget in sorted(by_budget, reverse=True):
            if len(by_budget[budget]) >= needed:
                return by_budget[budget]
        # Not enough results at any one budget: none, so the sampler draws at random.
        return []

    def _points_needed(self, space: Sequence[HyperParameter]) -> int:
        """Results a budget needs before the model is fitted on it (BOHB's d + 1, or more when the
        sampler itself models only from more)."""
        return self.min_points_in_model or max(len(space) + 1, self.sampler.startup_trials(space))

    def get_config(self) -> dict[str, Any]:
        """The settings that rebuild this scheduler (stored with the study; JSON data only)."""
        return {"name": self.name, "sampler": self.sampler.name, "min_points_in_model": self.min_points_in_model}


def modelling_sampler(name: str) -> Sampler:
    """The inner sampler Hyperband builds for ``"tpe"`` or ``"gp"`` (BOHB): one with no start-up
    trials of its own, because the schedule hands it results only from a budget with
    ``min_points_in_model`` of them (BOHB's rule, d + 1). With the samplers' own start-up counts
    (TPE's 10) a model needed 10 results at one budget, which one iteration of Hyperband(
    max_epochs=20, factor=3) reaches only at its 3- and 7-epoch budgets: BOHB modelled on the
    budgets that rank slow starters lowest and never on its 8 results at 20 epochs (measured on
    benchmarks/multifidelity.py's synthetic problem, seeds 40-99: final best median 0.9732 with
    TPE's 10, 0.9769 with BOHB's rule). ASHA keeps the samplers' counts: its rungs keep filling, and
    with BOHB's rule model-based ASHA beat random ASHA on only 5 of the 10 seeds of
    tests/schedulers/test_asha.py's comparison (at least 7 with TPE's 10)."""
    if name == "tpe":
        from hyperknob.samplers.tpe import TPESampler

        return TPESampler(n_startup_trials=0)
    from hyperknob.samplers.gp import GPSampler

    return GPSampler(num_initial_points=0)


def by_number(view: TrialsView) -> list[FrozenTrial]:
    return sorted(view.trials, key=lambda t: t.number)


def is_scored(trial: FrozenTrial) -> bool:
    return trial.status == TrialStatus.COMPLETED and trial.has_finite_score()


def ranked(trials: Sequence[FrozenTrial], direction: str | TrialsView) -> list[FrozenTrial]:
    """Best first (ties: the earlier trial). Given the view, a Pareto or constrained search ranks
    by feasibility, non-dominated front and crowding (MOASHA's promotion by front)."""
    if isinstance(direction, TrialsView):
        if not direction.ranks_by_score and trials:
            places = direction.losses(trials)
            return [trials[i] for i in sorted(range(len(trials)), key=lambda i: (places[i], trials[i].number))]
        direction = direction.direction
    sign = -1.0 if direction == "max" else 1.0
    return sorted(trials, key=lambda t: (sign * float(t.score), t.number))  # type: ignore[arg-type]


def parent_of(trial: FrozenTrial) -> str | None:
    parent = trial.values.get(PARENT)
    return None if parent is None else str(parent)


def promotion(parent: FrozenTrial, epochs: int, initial_epoch: int, bracket: int, round_num: int) -> dict[str, Any]:
    """The values of a trial that continues ``parent`` to ``epochs``."""
    values = {k: v for k, v in parent.values.items() if k not in SCHEDULE_KEYS}
    values.update(schedule_values(epochs, initial_epoch, bracket, round_num, parent.trial_id))
    return values


def schedule_of(values: Mapping[str, Any]) -> tuple[int, int] | None:
    """(bracket, round) of a trial's values, or None for a trial outside any schedule."""
    if BRACKET not in values or ROUND not in values:
        return None
    return int(values[BRACKET]), int(values[ROUND])
