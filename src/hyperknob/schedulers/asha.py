"""Asynchronous successive halving (ASHA; Li et al., MLSys 2020).

Rungs train ``min_epochs``, ``min_epochs * factor``, ... up to ``max_epochs``. Whenever a worker
asks, the best trial of the highest rung that is in the top 1/``factor`` of its rung and not yet
promoted continues to the next rung; if there is none, a new configuration starts at the lowest
rung (a model's proposal: at the rung the model was fitted on). Nobody waits for a rung to fill,
so a worker is never idle while there is work, and the decisions are the same whichever worker
asks (they are made from the stored trials only).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from hyperknob._types import FrozenTrial
from hyperknob.samplers import Sampler, TrialsView
from hyperknob.samplers.base import IDLE
from hyperknob.samplers.random import RandomSampler
from hyperknob.schedulers.base import (
    EPOCHS,
    SCHEDULE_KEYS,
    Scheduler,
    check_factor,
    check_int,
    is_scored,
    parent_of,
    promotion,
    ranked,
    schedule_of,
    schedule_values,
)
from hyperknob.space.parameters import HyperParameter
from hyperknob.space.search_space import config_key

__all__ = ["ASHAScheduler", "rung_epochs"]


def rung_epochs(min_epochs: int, max_epochs: int, factor: float) -> list[int]:
    """The epochs of each rung: min_epochs * factor**k while below max_epochs, then max_epochs."""
    rungs: list[int] = []
    budget: float = min_epochs
    while round(budget) < max_epochs:
        if not rungs or round(budget) > rungs[-1]:
            rungs.append(round(budget))
        budget *= factor
    rungs.append(max_epochs)
    return rungs


# The extra input a budget model sees: log(epochs) / log(max_epochs), 1 at the full budget.
BUDGET_INPUT = "tuner/budget"
_MAX_BUDGET_FIT = 150  # results the promotion model is fitted on, at most


class ASHAScheduler(Scheduler):
    """Asynchronous successive halving from ``min_epochs`` to ``max_epochs`` by ``factor``; new
    configurations come from ``sampler`` (random by default; ``"tpe"``/``"gp"`` for a model-based
    ASHA). Runs until the study's ``max_trials`` (every rung's run counts as a trial) or timeout.

    ``budget_model=True`` (with ``sampler="gp"``): one Gaussian process over the configuration
    *and its budget* (log epochs) is fitted on every rung's results; it proposes the new
    configurations (the acquisition is taken where the model expects the best, in practice at the
    full budget) and it ranks each rung for promotion by its prediction at ``max_epochs`` instead
    of the result at the rung's own budget. The top 1/``factor`` of a rung is still what may be
    promoted, only "top" is what the model expects at the end. This is MOBSTER's model (Klein et
    al., 2020: ASHA with a GP over configuration and resource) with promotions ranked by the
    predicted final value (as DyHPO, Wistuba et al. 2022, does with its learning-curve model). It
    is for problems whose early rankings mislead (slow learners that end best).

    ``start_at_model_rung`` (default True; used only with a model-based sampler and without the
    budget model): a new configuration proposed by a model fitted on rung ``k``'s results starts
    at rung ``k``'s epochs, not at the first rung. The model predicts how a configuration does at
    that rung's budget; started at the first rung, its proposal is judged at a budget the model
    knows nothing about, against fast learners, and slow learners that end best are stopped
    there (docs/schedules.md has the measurements). Random start-up configurations still start
    at the first rung.

    ``min_model_rung`` (default 1): the lowest rung a model is fitted on; 0 is BOHB's rule (any
    rung). After ``min_epochs`` the fast learners lead; a model fitted there proposes fast
    learners, they crowd the first rung, only they are promoted, and every higher rung the model is
    later fitted on holds only their neighbours, so the search may never leave them. Until rung
    ``min_model_rung`` has enough results, new configurations are drawn at random. On the
    benchmark's MNIST-1D (25 seeds, docs/benchmarks/multifidelity.md) ASHA + GP fitted from the
    first rung ended 5 searches at 0.65-0.68 accuracy, where keras-tuner's Hyperband reaches 0.73;
    fitted from the second, its worst search ended at 0.72."""

    CONFIG_DEFAULTS = {"min_model_rung": 0}  # stored only when nonzero before its default became 1

    name = "asha"

    def __init__(
        self,
        max_epochs: int = 100,
        factor: int = 3,
        min_epochs: int = 1,
        sampler: Sampler | str = "random",
        min_points_in_model: int | None = None,
        budget_model: bool = False,
        start_at_model_rung: bool = True,
        min_model_rung: int = 1,
    ) -> None:
        if budget_model:
            from hyperknob.samplers.gp import GPSampler

            if not (sampler == "gp" or isinstance(sampler, GPSampler)):
                raise ValueError(
                    f"budget_model=True fits a Gaussian process over configurations and budgets and needs "
                    f"sampler='gp' (or a GPSampler), received sampler={sampler!r}."
                )
        super().__init__(sampler, min_points_in_model)
        self.budget_model = bool(budget_model)
        self.start_at_model_rung = bool(start_at_model_rung)
        check_int("min_model_rung", min_model_rung, minimum=0)
        self.min_model_rung = min_model_rung
        check_int("max_epochs", max_epochs)
        check_int("min_epochs", min_epochs)
        check_factor(factor)
        if min_epochs > max_epochs:
            raise ValueError(f"min_epochs ({min_epochs}) must not exceed max_epochs ({max_epochs}).")
        self.max_epochs = max_epochs
        self.factor = factor
        self.min_epochs = min_epochs
        self.rungs = rung_epochs(min_epochs, max_epochs, factor)

    def _by_rung(self, trials: Sequence[FrozenTrial]) -> list[list[FrozenTrial]]:
        rungs: list[list[FrozenTrial]] = [[] for _ in self.rungs]
        for trial in trials:
            where = schedule_of(trial.values)
            if where is not None and 0 <= where[1] < len(rungs):
                rungs[where[1]].append(trial)
        return rungs

    def propose(
        self, space: Sequence[HyperParameter], view: TrialsView, rng: np.random.Generator
    ) -> dict[str, Any] | Literal["idle"] | None:
        rungs = self._by_rung(view.trials)
        # The budget model is fitted only when a rung has a top to rank, and once per decision.
        final_predictor = functools.cache(lambda: self._final_predictor(space, view))
        for k in range(len(rungs) - 2, -1, -1):
            promoted = {parent_of(t) for t in rungs[k + 1]}
            scored = [t for t in rungs[k] if is_scored(t)]
            predict = (
                final_predictor() if self.budget_model and view.ranks_by_score and len(scored) >= self.factor else None
            )
            if predict is not None:
                mean = predict(scored)  # lower is better
                scored = [scored[i] for i in np.argsort(mean, kind="stable")]
            else:
                scored = ranked(scored, view)
            top = scored[: int(len(scored) // self.factor)]
            for trial in top:
                if trial.trial_id not in promoted:
                    return promotion(trial, self.rungs[k + 1], self.rungs[k], 0, k + 1)
        values = self.new_configuration(space, view, rng)
        if values is None:
            if view.running():
                return IDLE
            return self._finish_rungs(rungs, view)
        if values == IDLE:
            return IDLE
        start = self._start_rung(space, view)
        return {**values, **schedule_values(self.rungs[start], 0, 0, start)}

    def _start_rung(self, space: Sequence[HyperParameter], view: TrialsView) -> int:
        """The rung a new configuration starts at: the one its model was fitted on (see the class
        docstring), or the first."""
        if not self.start_at_model_rung or self.budget_model or not self.sampler.models_results:
            return 0
        rung = self._model_rung(space, self._by_rung(view.finished()))
        return 0 if rung is None else rung

    # --- budget_model: one GP over (configuration, budget) ---------------------------------------
    def _budget_input(self, trial: FrozenTrial, full: bool = False) -> float:
        epochs = self.max_epochs if full else int(trial.values.get(EPOCHS, self.max_epochs))
        return 1.0 if self.max_epochs <= 1 else math.log(max(epochs, 1)) / math.log(self.max_epochs)

    def new_configuration(
        self, space: Sequence[HyperParameter], view: TrialsView, rng: np.random.Generator
    ) -> dict[str, Any] | Literal["idle"] | None:
        if not self.budget_model:
            return super().new_configuration(space, view, rng)
        from hyperknob.space.parameters import Float

        # Every trial, each with its budget as one more input: the GP fits all rungs' results
        # and its acquisition is optimised over configuration and budget together.
        augmented = [*space, Float(BUDGET_INPUT, 0.0, 1.0)]
        tagged = [dataclasses.replace(t, values={**t.values, BUDGET_INPUT: self._budget_input(t)}) for t in view.trials]
        values = self.sampler.propose(augmented, TrialsView(
            tagged, view.number, view.direction, prior=view.prior, objectives=view.objectives,
            constrained=view.constrained,
        ), rng)
        if values is None or values == IDLE:
            return values
        values = {k: v for k, v in values.items() if k not in SCHEDULE_KEYS and k != BUDGET_INPUT}
        if config_key(values) in view.tried_keys(space):
            # Seen with its budget, a configuration already started looks new to the GP at another
            # budget; a random untried one instead (None once the space is exhausted).
            return RandomSampler().propose(space, view, rng)
        return values

    def _final_predictor(
        self, space: Sequence[HyperParameter], view: TrialsView
    ) -> Callable[[Sequence[FrozenTrial]], np.ndarray] | None:
        """The budget model's mean at ``max_epochs`` (lower is better) for given trials, or None
        while fewer results than the sampler models from exist."""
        from hyperknob.samplers._gp_model import fit_gp
        from hyperknob.samplers.gp import best_and_recent, warp_losses
        from hyperknob.space.encoding import UnitCubeEncoder
        from hyperknob.space.parameters import Float

        results = [t for t in view.finished() if is_scored(t)]
        if len(results) < self._points_needed(space):
            return None
        y = np.array([float(t.score) for t in results])  # type: ignore[arg-type]
        if view.direction == "max":
            y = -y
        keep = best_and_recent(y, _MAX_BUDGET_FIT)  # as the GP sampler does
        results, y = [results[i] for i in keep], y[keep]
        encoder = UnitCubeEncoder([*space, Float(BUDGET_INPUT, 0.0, 1.0)])

        def inputs(trials: Sequence[FrozenTrial], full: bool) -> np.ndarray:
            x = np.array([encoder.encode({**t.values, BUDGET_INPUT: self._budget_input(t, full)}) for t in trials])
            filled: np.ndarray = np.nan_to_num(x, nan=0.5)  # an inactive conditional parameter
            return filled

        if np.ptp(y) == 0.0:
            return None
        # The fit is a pure function of the results (its restarts draw from a fixed seed), so the
        # promotion a worker is given does not depend on which worker asks.
        gp = fit_gp(inputs(results, False), warp_losses(y), np.random.default_rng(0))

        def predict(trials: Sequence[FrozenTrial]) -> np.ndarray:
            mean: np.ndarray = gp.predict(inputs(trials, True))[0]
            return mean

        return predict

    def _model_trials(self, space: Sequence[HyperParameter], view: TrialsView) -> list[FrozenTrial]:
        """The results a model-based sampler is fitted on: those of the highest rung with enough of
        them, plus every configuration that ASHA already left behind below it, as worse than that
        rung's worst result.

        A rung above the first holds only promoted configurations, the top 1/``factor`` of the rung
        below, so a model fitted on it alone has never seen a bad region: a GP predicts the
        promoted trials' average wherever it has no data and keeps proposing there, and TPE's
        "bad" density has no mass there, so neither learns from the configurations it stopped. A
        configuration outside the top 1/``factor`` of its rung and not promoted is one that ASHA
        has judged worse than those it promoted; counting it as the rung's worst keeps that
        judgement in the model without inventing a score for it. (The rung is still chosen by its
        own results: an imputed trial is not a measurement.) It trusts the low rungs as much as
        ASHA's promotions already do: on curves whose early ranking holds (MNIST-1D, the test
        problem of tests/schedulers/test_asha.py) model-based ASHA gets better; on the
        benchmark's synthetic curves, whose early ranking misleads, it loses about 0.002 of final
        accuracy (docs/benchmarks/multifidelity.md)."""
        rungs = self._by_rung(view.finished())
        k = self._model_rung(space, rungs)
        if k is None:
            return []
        results = [t for t in rungs[k] if is_scored(t)]
        if k == 0 or not view.ranks_by_score:
            return results  # (several objectives: no one score to impute; the rung's results alone)
        direction = view.direction
        worst = min if direction == "max" else max
        floor = worst(float(t.score) for t in results)  # type: ignore[arg-type]
        everything = self._by_rung(view.trials)  # a running promotion counts as promoted
        behind = self._left_behind(rungs, everything, k, direction)
        return results + [dataclasses.replace(t, score=floor) for t in behind]

    def _model_rung(self, space: Sequence[HyperParameter], rungs: list[list[FrozenTrial]]) -> int | None:
        """The highest rung from ``min_model_rung`` up with enough results for the model, or None."""
        needed = self._points_needed(space)
        for k in range(len(rungs) - 1, min(self.min_model_rung, len(rungs) - 1) - 1, -1):
            if sum(1 for t in rungs[k] if is_scored(t)) >= needed:
                return k
        return None

    def _left_behind(
        self, rungs: list[list[FrozenTrial]], everything: list[list[FrozenTrial]], k: int,
        direction: str | TrialsView,
    ) -> list[FrozenTrial]:
        """Trials of the rungs below ``k`` that stopped there for good: not promoted and not in
        the top 1/``factor`` of their rung (those may still be promoted)."""
        out: list[FrozenTrial] = []
        for j in range(k):
            promoted = {parent_of(t) for t in everything[j + 1]}
            scored = ranked([t for t in rungs[j] if is_scored(t)], direction)
            top = int(len(scored) // self.factor)
            out += [t for t in scored[top:] if t.trial_id not in promoted]
        return out

    def _finish_rungs(self, rungs: list[list[FrozenTrial]], direction: str | TrialsView) -> dict[str, Any] | None:
        """No new configuration is left (a small finite space) and nothing runs: rather than stop
        with the best trials short of ``max_epochs``, the best of each rung climbs on."""
        for k in range(len(rungs) - 2, -1, -1):
            promoted = {parent_of(t) for t in rungs[k + 1]}
            scored = ranked([t for t in rungs[k] if is_scored(t)], direction)
            if scored and scored[0].trial_id not in promoted:
                return promotion(scored[0], self.rungs[k + 1], self.rungs[k], 0, k + 1)
        return None

    def exhausted_message(self) -> str:
        return "ASHA has no configuration left to start and nothing to promote"

    def get_config(self) -> dict[str, Any]:
        config = {
            **super().get_config(), "max_epochs": self.max_epochs, "factor": self.factor, "min_epochs": self.min_epochs
        }
        if self.budget_model:
            config["budget_model"] = True
        if not self.start_at_model_rung:
            config["start_at_model_rung"] = False
        config["min_model_rung"] = self.min_model_rung  # always: its default changed (CONFIG_DEFAULTS)
        return config
