"""Pruners stop single trials early from their per-step reports, whatever sampler chose them.

A pruner is pure: it sees the running trial's learning curve and the other trials' curves (the
objective at each reported step, oriented so that lower is better) and answers whether the trial
should stop now. The study builds the curves from stored reports; a Keras trial is stopped at the
end of the epoch, a plain objective asks ``trial.should_prune()`` and raises ``TrialPruned``.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hyperknob._types import Direction, MetricPoint, TrialStatus
from hyperknob.objective import MultiObjective, Objective
from hyperknob.pareto import dominates, rank_order
from hyperknob.schedulers.base import check_factor, check_int

__all__ = ["Curve", "MedianPruner", "Pruner", "SuccessiveHalvingPruner", "objective_curve", "prune_on_front"]

Curve = Mapping[int, float]  # step -> objective value, lower is better
VectorCurve = Mapping[int, tuple[float, ...]]  # step -> a Pareto search's objectives, each lower is better


def vector_curve(
    metrics: Mapping[str, Sequence[MetricPoint]], objective: MultiObjective
) -> dict[int, tuple[float, ...]]:
    """A Pareto search's objectives at every step where all were reported, each negated when maximised."""
    by_name = [{p.step: p.value for p in metrics.get(o.name, ())} for o in objective.objectives]
    signs = [-1.0 if o.direction == Direction.MAX else 1.0 for o in objective.objectives]
    steps = set.intersection(*(set(m) for m in by_name)) if by_name else set()
    curve = {s: tuple(sign * m[s] for sign, m in zip(signs, by_name, strict=True)) for s in sorted(steps)}
    return {s: v for s, v in curve.items() if all(math.isfinite(x) for x in v)}


def prune_on_front(
    pruner: Pruner, mine: Mapping[str, Sequence[MetricPoint]],
    others: Sequence[tuple[TrialStatus, Mapping[str, Sequence[MetricPoint]]]], objective: MultiObjective,
) -> bool:
    """Whether ``pruner`` stops a trial of a Pareto search at its last step with all objectives."""
    curve = vector_curve(mine, objective)
    if not curve:
        return False
    return pruner.should_prune_front(max(curve), curve, [(s, vector_curve(m, objective)) for s, m in others])


def objective_curve(metrics: Mapping[str, Sequence[MetricPoint]], objective: Objective) -> dict[int, float]:
    """The objective at every step where all its metrics were reported, negated when maximised."""
    by_step: dict[int, dict[str, float]] = {}
    for name in objective.metric_names:
        for point in metrics.get(name, ()):
            by_step.setdefault(point.step, {})[name] = point.value
    sign = -1.0 if objective.direction == Direction.MAX else 1.0
    curve = {}
    for step, logs in by_step.items():
        if objective.has_value(logs):
            value = objective.get_value(logs)
            if math.isfinite(value):
                curve[step] = sign * value
    return dict(sorted(curve.items()))


def value_at(curve: Curve, step: int) -> float | None:
    """The value reported at the last step <= ``step`` (None before the first report)."""
    earlier = [s for s in curve if s <= step]
    return curve[max(earlier)] if earlier else None


class Pruner(abc.ABC):
    """Decides whether a running trial stops at ``step``."""

    @abc.abstractmethod
    def should_prune(
        self, step: int, curve: Curve, others: Sequence[tuple[TrialStatus, Curve]]
    ) -> bool:
        """``curve``: this trial's reports so far; ``others``: every other trial's status and curve."""

    def should_prune_front(
        self, step: int, curve: VectorCurve, others: Sequence[tuple[TrialStatus, VectorCurve]]
    ) -> bool:
        """The same decision in a Pareto search, whose curves hold every objective at each step.
        A pruner that does not say how to judge several objectives judges by the first one."""
        first = {s: v[0] for s, v in curve.items()}
        return self.should_prune(step, first, [(st, {s: v[0] for s, v in c.items()}) for st, c in others])


class MedianPruner(Pruner):
    """Stops a trial whose best value so far is worse than the median of completed trials at the
    same step (Optuna's and Vizier's median stopping rule).

    ``n_startup_trials``: no pruning until that many trials completed. ``n_warmup_steps``: no
    pruning before that step (Keras epochs count from 0). ``interval_steps``: check every k steps.
    """

    def __init__(self, n_startup_trials: int = 5, n_warmup_steps: int = 0, interval_steps: int = 1) -> None:
        check_int("n_startup_trials", n_startup_trials, minimum=0)
        check_int("n_warmup_steps", n_warmup_steps, minimum=0)
        check_int("interval_steps", interval_steps)
        self.n_startup_trials = n_startup_trials
        self.n_warmup_steps = n_warmup_steps
        self.interval_steps = interval_steps

    def should_prune(self, step: int, curve: Curve, others: Sequence[tuple[TrialStatus, Curve]]) -> bool:
        if step < self.n_warmup_steps or (step - self.n_warmup_steps) % self.interval_steps:
            return False
        completed = [c for status, c in others if status == TrialStatus.COMPLETED]
        if len(completed) < max(self.n_startup_trials, 1):
            return False
        mine = [v for s, v in curve.items() if s <= step]
        at_step = [c[step] for c in completed if step in c]
        if not mine or not at_step:
            return False
        return min(mine) > float(np.median(at_step))

    def should_prune_front(
        self, step: int, curve: VectorCurve, others: Sequence[tuple[TrialStatus, VectorCurve]]
    ) -> bool:
        """Stops a trial whose report at ``step`` is dominated by the median of the completed
        trials' reports there (the median of each objective): worse than typical in every one."""
        if step < self.n_warmup_steps or (step - self.n_warmup_steps) % self.interval_steps or step not in curve:
            return False
        completed = [c for status, c in others if status == TrialStatus.COMPLETED]
        at_step = [c[step] for c in completed if step in c]
        if len(completed) < max(self.n_startup_trials, 1) or not at_step:
            return False
        return dominates(np.median(np.array(at_step), axis=0), curve[step])

    def __repr__(self) -> str:
        return (
            f"MedianPruner(n_startup_trials={self.n_startup_trials}, n_warmup_steps={self.n_warmup_steps}, "
            f"interval_steps={self.interval_steps})"
        )


class SuccessiveHalvingPruner(Pruner):
    """Stops a trial that is not in the top 1/``reduction_factor`` of the trials that reached the
    same rung; rungs are at steps ``min_resource * reduction_factor**(min_early_stopping_rate + k)``.

    Every trial that reached a rung competes there (running, completed or stopped ones), so the
    decision is made as soon as the trial arrives, without waiting for others (asynchronous
    successive halving as a pruner). With fewer than ``reduction_factor`` trials at a rung, none is
    stopped there.
    """

    def __init__(self, min_resource: int = 1, reduction_factor: int = 3, min_early_stopping_rate: int = 0) -> None:
        check_int("min_resource", min_resource)
        check_factor(reduction_factor)
        check_int("min_early_stopping_rate", min_early_stopping_rate, minimum=0)
        self.min_resource = min_resource
        self.reduction_factor = reduction_factor
        self.min_early_stopping_rate = min_early_stopping_rate

    def _rung_reached(self, step: int, previous: int | None) -> int | None:
        """The highest rung step in (previous, step], or None."""
        rung_step, reached = self.min_resource * self.reduction_factor**self.min_early_stopping_rate, None
        while rung_step <= step:
            if previous is None or rung_step > previous:
                reached = int(rung_step)
            rung_step *= self.reduction_factor
        return reached

    def should_prune(self, step: int, curve: Curve, others: Sequence[tuple[TrialStatus, Curve]]) -> bool:
        earlier = [s for s in curve if s < step]
        rung = self._rung_reached(step, max(earlier) if earlier else None)
        if rung is None:
            return False
        mine = value_at(curve, rung)
        if mine is None:
            return False
        competing = [mine]
        for _, other in others:
            if other and max(other) >= rung:
                value = value_at(other, rung)
                if value is not None:
                    competing.append(value)
        if len(competing) < self.reduction_factor:
            return False
        keep = max(1, int(len(competing) // self.reduction_factor))
        return mine > sorted(competing)[keep - 1]

    def should_prune_front(
        self, step: int, curve: VectorCurve, others: Sequence[tuple[TrialStatus, VectorCurve]]
    ) -> bool:
        """At a rung, stops a trial outside the top 1/``reduction_factor`` of the reports there
        by non-dominated front and crowding (MOASHA's rule)."""
        earlier = [s for s in curve if s < step]
        rung = self._rung_reached(step, max(earlier) if earlier else None)
        if rung is None or not [s for s in curve if s <= rung]:
            return False
        mine = curve[max(s for s in curve if s <= rung)]
        competing = [mine]
        for _, other in others:
            reached = [s for s in other if s <= rung]
            if other and max(other) >= rung and reached:
                competing.append(other[max(reached)])
        if len(competing) < self.reduction_factor:
            return False
        keep = max(1, int(len(competing) // self.reduction_factor))
        return int(rank_order(np.array(competing))[0]) >= keep

    def __repr__(self) -> str:
        return (
            f"SuccessiveHalvingPruner(min_resource={self.min_resource}, reduction_factor={self.reduction_factor}, "
            f"min_early_stopping_rate={self.min_early_stopping_rate})"
        )


def make_pruner(pruner: Any) -> Pruner | None:
    """A pruner from an instance, a name ('median', 'successive_halving') or None."""
    if pruner is None or isinstance(pruner, Pruner):
        return pruner
    names = {"median": MedianPruner, "successive_halving": SuccessiveHalvingPruner}
    if pruner in names:
        return names[pruner]()
    raise ValueError(f"Unknown pruner {pruner!r}; use one of {sorted(names)}, a Pruner instance, or None.")
