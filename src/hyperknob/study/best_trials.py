"""Which trials are the best: by the score, among the feasible ones, or the Pareto front of a
search for several objectives; and the constraint values a finishing trial is given.

A mixin of ``Study`` (it uses the study's objective, storage and constraints), kept apart so that
the ranking rules live in one place that the CLI, the report and the tuners all go through.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperknob._types import FrozenTrial, TrialStatus, metrics_at_step
from hyperknob.constraints import CONSTRAINTS_ATTR, Constraint, ConstraintFunction, violation
from hyperknob.exceptions import FatalError, FatalValueError
from hyperknob.objective import MultiObjective, Objective, objective_directions
from hyperknob.pareto import minimising, nondominated_ranks
from hyperknob.samplers.base import PriorObservation, TrialKeyCache, TrialsView

if TYPE_CHECKING:
    from hyperknob.storage import Storage
    from hyperknob.study.trial import Trial

__all__ = ["BestTrials", "objective_values_of"]


def objective_values_of(trial: FrozenTrial, objective: Objective) -> Any:
    """A Pareto search's objectives at the trial's best step, in the order given (a tuple); for any
    other objective, {name: value} of the metrics it is made of."""
    at = trial.metrics_at(None)
    if isinstance(objective, MultiObjective) and objective.pareto:
        return tuple(float(at.get(o.name, math.nan)) for o in objective.objectives)
    names = objective.metric_names
    return {n: float(at[n]) if n in at else (trial.score if len(names) == 1 else math.nan) for n in names}


class BestTrials:
    """The best-trial half of ``Study``."""

    objective: Objective
    storage: Storage
    study_id: int
    name: str
    constraints: list[Constraint]
    constraint_fn: ConstraintFunction | None
    trial_keys: TrialKeyCache

    def get_trials(self, statuses: Sequence[TrialStatus] | None = None) -> list[FrozenTrial]:
        raise NotImplementedError  # Study's

    def _finish(self, trial: Trial, status: TrialStatus, message: str | None) -> FrozenTrial:
        raise NotImplementedError  # Study's

    @property
    def is_pareto(self) -> bool:
        return isinstance(self.objective, MultiObjective) and self.objective.pareto

    @property
    def constrained(self) -> bool:
        """Whether this study's trials carry constraint values (some process gave constraints)."""
        return bool(self.constraints or self.constraint_fn or self._stored_constrained)

    _stored_constrained = False

    def view_of(self, trials: Sequence[FrozenTrial], number: int, prior: Sequence[PriorObservation] = ()) -> TrialsView:
        """What a sampler may know of these trials: with this study's objectives and constraints."""
        return TrialsView(
            trials, number, self.objective.direction.value, self.trial_keys, prior,
            objectives=objective_directions(self.objective), constrained=self.constrained,
        )

    def is_feasible(self, trial: FrozenTrial) -> bool:
        """Whether the trial meets every constraint it was given (a trial without any does)."""
        return violation(trial.user_attrs.get(CONSTRAINTS_ATTR)) <= 0

    def _ranked(self) -> list[tuple[FrozenTrial, tuple[float, float, float, int]]]:
        """Completed trials with a finite score, best first, each with its key: (how far it misses
        the constraints, its score's sort key or for a Pareto search its front among the feasible
        trials, the first objective, its number); feasible trials first, ties: the earlier trial."""
        done = [t for t in self.get_trials((TrialStatus.COMPLETED,)) if t.has_finite_score()]
        missed = [violation(t.user_attrs.get(CONSTRAINTS_ATTR)) for t in done]
        if self.is_pareto:
            directions = [d for _, d in objective_directions(self.objective)]
            values = [objective_values_of(t, self.objective) for t in done]
            f = minimising(values, directions) if done else np.zeros((0, len(directions)))
            feasible = np.array([m <= 0 for m in missed], dtype=bool)
            fronts = np.full(len(done), len(done) + 1)
            if feasible.any():
                fronts[feasible] = nondominated_ranks(f[feasible])
            keys: list[tuple[float, float, float, int]] = [
                (m, float(fronts[i]), f[i, 0] if not math.isnan(f[i, 0]) else math.inf, t.number)
                for i, (t, m) in enumerate(zip(done, missed, strict=True))
            ]
        else:
            keys = [(m, self.objective.sort_key(t.score), 0.0, t.number) for t, m in zip(done, missed, strict=True)]
        order = sorted(range(len(done)), key=lambda i: keys[i])
        return [(done[i], keys[i]) for i in order]

    def _with_values(self, trials: Sequence[FrozenTrial]) -> list[FrozenTrial]:
        return [dataclasses.replace(t, objective_values=objective_values_of(t, self.objective)) for t in trials]

    def get_best_trials(self, n: int = 1) -> list[FrozenTrial]:
        """The ``n`` best feasible trials (a trial that misses a constraint is never the best); for
        a Pareto search, the front first, ordered by the first objective, then the next front.
        Each comes with its ``objective_values`` (only those returned: the display asks for the
        best after every trial)."""
        return self._with_values([t for t, key in self._ranked() if key[0] <= 0][:n])

    @property
    def best_trials(self) -> list[FrozenTrial]:
        """The Pareto front: the feasible trials no other feasible trial beats in every objective
        (ordered by the first objective); for one objective, the best trial(s) tied on the score."""
        feasible = [(t, key) for t, key in self._ranked() if key[0] <= 0]
        if not feasible:
            return []
        if self.is_pareto:
            return self._with_values([t for t, key in feasible if key[1] == 0])
        return self._with_values([t for t, _ in feasible if t.score == feasible[0][0].score])

    @property
    def best_trial(self) -> FrozenTrial:
        best = self.get_best_trials(1)
        if not best:
            infeasible = " (every completed trial misses a constraint)" if self._ranked() else ""
            raise ValueError(f"Study '{self.name}' has no completed trial with a finite score yet{infeasible}.")
        return best[0]

    @property
    def best_value(self) -> float:
        return float(self.best_trial.score)  # type: ignore[arg-type]

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.best_trial.values)

    def record_constraints(self, trial: Trial) -> None:
        """Put a scored trial's constraint values in its user_attrs; a constraint that cannot be
        evaluated fails the trial and stops the search."""
        try:
            values = self.constraint_values(trial)
        except FatalError as exc:
            self._finish(trial, TrialStatus.FAILED, message=str(exc))
            raise
        if values is not None:
            trial.user_attrs[CONSTRAINTS_ATTR] = values

    def constraint_values(self, trial: Trial) -> list[float] | None:
        """The values (<= 0: met) of this study's constraints for a trial just scored, read at its
        best step; None when the study has none. A constraint that cannot be evaluated stops the
        search with the reason (it would fail every trial the same way)."""
        if not self.constraints and self.constraint_fn is None:
            return None
        metrics = metrics_at_step(trial.metrics.to_points(), trial.best_step)
        values = [c.value(metrics) for c in self.constraints]
        if self.constraint_fn is not None:
            try:
                returned: Any = self.constraint_fn(trial)
                extra = [float(v) for v in (returned if isinstance(returned, (list, tuple)) else [returned])]
            except FatalError:
                raise
            except Exception as exc:
                raise FatalValueError(
                    f"constraints= raised {type(exc).__name__}: {exc}; it must return a number or a list of "
                    "numbers (<= 0 where a constraint is met) from the trial's metrics."
                ) from exc
            values.extend(extra)
        return values
