"""Hyperband (Li et al., JMLR 2018) with KerasTuner's bracket schedule.

Brackets run from the most exploratory (many configurations, few epochs) to plain random search
(few configurations, ``max_epochs`` each); inside a bracket, each round continues the best
1/``factor`` of the previous round for ``factor`` times more epochs. Sizes and epochs are
KerasTuner's formulas, so a ported search trains the same schedule.

The schedule's state (which brackets are open, which trials were promoted) is replayed from the
stored trials on every call; nothing else is kept.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from hyperknob._types import FrozenTrial
from hyperknob.samplers import Sampler, TrialsView
from hyperknob.samplers.base import IDLE
from hyperknob.schedulers.base import (
    Scheduler,
    by_number,
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

__all__ = ["HyperbandScheduler", "hyperband_table"]


@dataclasses.dataclass
class _Bracket:
    num: int
    rounds: list[list[FrozenTrial]]


class HyperbandScheduler(Scheduler):
    """Hyperband brackets over ``max_epochs`` with reduction ``factor``, repeated
    ``hyperband_iterations`` times; new configurations come from ``sampler`` (random by default;
    ``"tpe"`` or ``"gp"`` make it BOHB)."""

    name = "hyperband"
    named_sampler_models_early = True  # each budget gets few results (at most 8 at 20 epochs for (20, 3))

    def __init__(
        self,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int | None = 1,
        sampler: Sampler | str = "random",
        min_points_in_model: int | None = None,
    ) -> None:
        super().__init__(sampler, min_points_in_model)
        check_int("max_epochs", max_epochs)
        check_factor(factor)
        if hyperband_iterations is not None and hyperband_iterations != 0:
            check_int("hyperband_iterations", hyperband_iterations)
        self.max_epochs = max_epochs
        self.factor = factor
        # KerasTuner: 0 or None means "iterate until stopped otherwise" (max_trials, timeout).
        self.hyperband_iterations: float = hyperband_iterations or math.inf
        self.min_epochs = 1

    # --- KerasTuner's formulas ----------------------------------------------------------------------
    def num_brackets(self) -> int:
        epochs: float = self.max_epochs
        brackets = 0
        while epochs >= self.min_epochs:
            epochs = epochs / self.factor
            brackets += 1
        return brackets

    def size(self, bracket: int, round_num: int) -> int:
        """How many trials round ``round_num`` of bracket ``bracket`` runs."""
        bracket0_end_size = math.ceil(1 + math.log(self.max_epochs, self.factor))
        bracket_end_size = bracket0_end_size / (bracket + 1)
        scale: float = self.factor ** (bracket - round_num)
        return math.ceil(bracket_end_size * scale)

    def epochs(self, bracket: int, round_num: int) -> int:
        """The epochs a trial of that round has trained when it ends."""
        scale: float = self.factor ** (bracket - round_num)
        return math.ceil(self.max_epochs / scale)

    # --- replaying the schedule from the trials -----------------------------------------------------
    def _replay(self, trials: Sequence[FrozenTrial]) -> tuple[list[_Bracket], int, int]:
        """The open brackets, the current bracket number and iteration, as the trials left them."""
        current, iteration = self.num_brackets() - 1, 0
        brackets = [self._new_bracket(current)]
        by_id: dict[str, _Bracket] = {}
        for trial in trials:
            where = schedule_of(trial.values)
            if where is None:
                continue
            bracket_num, round_num = where
            if round_num == 0:
                bracket = next(
                    (b for b in brackets if b.num == bracket_num and len(b.rounds[0]) < self.size(b.num, 0)), None
                )
                if bracket is None:
                    current, iteration = self._next_bracket(current, iteration)
                    bracket = self._new_bracket(bracket_num)
                    current = bracket_num  # follow what was stored, should the settings have changed
                    brackets.append(bracket)
            else:
                bracket = by_id.get(parent_of(trial) or "")
                if bracket is None or round_num >= len(bracket.rounds):
                    continue  # a promotion of a trial outside this schedule: not part of any bracket
            bracket.rounds[round_num].append(trial)
            by_id[trial.trial_id] = bracket
        return brackets, current, iteration

    def _new_bracket(self, num: int) -> _Bracket:
        return _Bracket(num, [[] for _ in range(num + 1)])

    def _next_bracket(self, current: int, iteration: int) -> tuple[int, int]:
        current -= 1
        if current < 0:
            return self.num_brackets() - 1, iteration + 1
        return current, iteration

    def _is_complete(self, bracket: _Bracket) -> bool:
        last = len(bracket.rounds) - 1
        return len(bracket.rounds[last]) == self.size(bracket.num, last)

    # --- proposing ----------------------------------------------------------------------------------
    def propose(
        self, space: Sequence[HyperParameter], view: TrialsView, rng: np.random.Generator
    ) -> dict[str, Any] | Literal["idle"] | None:
        brackets, current, iteration = self._replay(by_number(view))
        for bracket in brackets:
            if self._is_complete(bracket):
                continue
            if len(bracket.rounds[0]) < self.size(bracket.num, 0):
                return self._start(space, view, rng, bracket.num)
            promoted = self._promote(bracket, view)
            if promoted is not None:
                return promoted
        if current == 0 and iteration + 1 >= self.hyperband_iterations:
            return IDLE if view.running() else None
        current, iteration = self._next_bracket(current, iteration)
        return self._start(space, view, rng, current)

    def _start(
        self, space: Sequence[HyperParameter], view: TrialsView, rng: np.random.Generator, bracket: int
    ) -> dict[str, Any] | Literal["idle"] | None:
        values = self.new_configuration(space, view, rng)
        if values is None:
            return IDLE if view.running() else None
        if values == IDLE:
            return IDLE
        return {**values, **schedule_values(self.epochs(bracket, 0), 0, bracket, 0)}

    def _promote(self, bracket: _Bracket, direction: str | TrialsView) -> dict[str, Any] | None:
        for round_num in range(1, len(bracket.rounds)):
            past = bracket.rounds[round_num - 1]
            selected = {parent_of(t) for t in bracket.rounds[round_num]}
            candidates = [t for t in past if is_scored(t) and t.trial_id not in selected]
            # A past trial that ended without a score (failed, stopped) takes its place in the round
            # as the worst, so one failure does not stall the bracket (KerasTuner's would never end).
            unscored = sum(1 for t in past if t.status.is_finished and not is_scored(t))
            size, past_size = self.size(bracket.num, round_num), self.size(bracket.num, round_num - 1)
            if candidates and len(candidates) + unscored > past_size - size:
                best = ranked(candidates, direction)[0]
                return promotion(
                    best, self.epochs(bracket.num, round_num), self.epochs(bracket.num, round_num - 1),
                    bracket.num, round_num,
                )
        return None

    def planned_trials(self) -> int | None:
        if math.isinf(self.hyperband_iterations):
            return None
        per_iteration = sum(self.size(b, r) for b in range(self.num_brackets()) for r in range(b + 1))
        return per_iteration * int(self.hyperband_iterations)

    def exhausted_message(self) -> str:
        if math.isinf(self.hyperband_iterations):
            iterations = ""
        else:
            iterations = f" ({int(self.hyperband_iterations)} iteration(s))"
        return f"Hyperband ran all its brackets{iterations}"

    def get_config(self) -> dict[str, Any]:
        iterations = None if math.isinf(self.hyperband_iterations) else int(self.hyperband_iterations)
        return {
            **super().get_config(), "max_epochs": self.max_epochs, "factor": self.factor,
            "hyperband_iterations": iterations,
        }


def hyperband_table(max_epochs: int, factor: int) -> list[list[tuple[int, int]]]:
    """(trials, epochs) of every round of every bracket, in the order brackets run: the schedule a
    search with these settings trains (one iteration)."""
    scheduler = HyperbandScheduler(max_epochs=max_epochs, factor=factor)
    return [
        [(scheduler.size(b, r), scheduler.epochs(b, r)) for r in range(b + 1)]
        for b in range(scheduler.num_brackets() - 1, -1, -1)
    ]
