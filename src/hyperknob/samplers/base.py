"""The sampler interface: WHAT configuration to try next.

A sampler is pure: it gets the space, a read-only view of the study's trials and a numpy
Generator, and returns values. It never touches storage, so any worker can call it and a resumed
study rebuilds its state from the stored trials alone.
"""

from __future__ import annotations

import abc
import dataclasses
import sys
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Final, Literal

import numpy as np

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.constraints import CONSTRAINTS_ATTR, violation
from hyperknob.pareto import rank_order
from hyperknob.space.parameters import HyperParameter
from hyperknob.space.search_space import config_key

__all__ = ["IDLE", "PriorObservation", "Sampler", "TrialKeyCache", "TrialsView"]

# What a sampler returns when it cannot propose now but may later (e.g. waiting for running trials).
IDLE: Final = "idle"


class TriedKeys(AbstractSet[str]):
    """The tried configurations' keys: the finished prefix's (the study's growing set, shared, not
    copied) and the rest's. Read it within the proposal that asked for it."""

    def __init__(self, finished: AbstractSet[str], rest: AbstractSet[str]) -> None:
        self._finished = finished
        self._rest = rest

    def __contains__(self, key: object) -> bool:
        return key in self._finished or key in self._rest

    def __iter__(self) -> Iterator[str]:
        yield from self._finished
        yield from (k for k in self._rest if k not in self._finished)

    def __len__(self) -> int:
        return len(self._finished) + sum(1 for k in self._rest if k not in self._finished)


class TrialKeyCache:
    """The keys of configurations a study has tried, remembered between proposals.

    Owned by the study (one per ``Study`` object: its lifetime is the study's in this process) and
    handed to each ``TrialsView`` the study builds. It relies on what the storage guarantees: a
    finished trial never changes, and the SQL storage hands out the same object for a finished
    trial on every read. Entries are checked by identity, so trial objects from anywhere else (a
    copy, another study) are never mistaken for those remembered; they only cost a fresh key.
    """

    def __init__(self) -> None:
        # trial number -> (the finished trial, space signature, its key)
        self.keys: dict[int, tuple[FrozenTrial, str, str]] = {}
        # space signature -> (k, trials[k - 1], keys of trials[:k]) for an all-finished prefix
        self.prefixes: dict[str, tuple[int, FrozenTrial, set[str]]] = {}
        # (k, trials[k - 1], the completed trials of trials[:k]) for an all-finished prefix
        self.finished_prefix: tuple[int, FrozenTrial, list[FrozenTrial]] | None = None
        # trial number -> (the finished trial, its objective values minimised, its violation)
        self.vectors: dict[int, tuple[FrozenTrial, tuple[float, ...], float]] = {}


@dataclasses.dataclass(frozen=True)
class PriorObservation:
    """A result from another study (a warm start), on a scale every task shares: ``quantile`` is
    its rank within its own study (0 the best, 1 the worst), since objective values of another
    task (other data, another scale) cannot be compared with this study's. ``weight`` in [0, 1] is
    how much it counts, by how well its study predicts this one so far; ``values`` hold only the
    parameters this study's space has."""

    values: Mapping[str, Any]
    quantile: float
    weight: float
    source: str = ""


class TrialsView:
    """What a sampler may know of the study: its trials (finished and running), the objective, and
    results of earlier studies it was warm-started from (``prior``; a sampler may ignore them).

    ``keys``: the study's ``TrialKeyCache``; a view without one computes every key afresh.
    ``objectives``: (name, direction) of each objective of a Pareto search ([] for one score);
    ``constrained``: whether trials carry constraint values (``constraints.CONSTRAINTS_ATTR``).
    A sampler that ranks trials asks ``losses``, which knows both."""

    def __init__(
        self,
        trials: Sequence[FrozenTrial],
        number: int,
        direction: str = "min",
        keys: TrialKeyCache | None = None,
        prior: Sequence[PriorObservation] = (),
        objectives: Sequence[tuple[str, str]] = (),
        constrained: bool = False,
    ) -> None:
        self.trials = tuple(trials)
        self.number = number  # the number of the trial being proposed
        self.direction = direction
        self.keys = keys if keys is not None else TrialKeyCache()
        self.prior = tuple(p for p in prior if p.weight > 0)
        self.objectives = tuple((str(n), str(d)) for n, d in objectives)
        self.constrained = constrained

    @property
    def ranks_by_score(self) -> bool:
        """Whether trials are ranked by their score alone (one objective, no constraints)."""
        return not self.objectives and not self.constrained

    def objective_matrix(self, trials: Sequence[FrozenTrial]) -> np.ndarray:
        """One row per trial: the Pareto objectives turned to "lower is better" (for one
        objective: the score, likewise turned)."""
        return np.array([self._vector(t)[0] for t in trials], dtype=float).reshape(len(trials), -1)

    def violations(self, trials: Sequence[FrozenTrial]) -> np.ndarray:
        """How far each trial misses its constraints (0: feasible)."""
        return np.array([self._vector(t)[1] for t in trials], dtype=float)

    def losses(self, trials: Sequence[FrozenTrial]) -> np.ndarray:
        """One number per trial, lower is better: the score (turned to minimise) when trials are
        ranked by it, otherwise each trial's place by feasibility, front and crowding."""
        if self.ranks_by_score:
            sign = -1.0 if self.direction == "max" else 1.0
            return sign * np.array([float(t.score) for t in trials])  # type: ignore[arg-type]
        return rank_order(self.objective_matrix(trials), self.violations(trials)).astype(float)

    def _vector(self, t: FrozenTrial) -> tuple[tuple[float, ...], float]:
        cached = self.keys.vectors.get(t.number)
        if cached is not None and cached[0] is t:
            return cached[1], cached[2]
        if self.objectives:
            at = t.metrics_at(None)
            signs = [-1.0 if d == "max" else 1.0 for _, d in self.objectives]
            vector = tuple(s * float(at.get(n, float("nan"))) for (n, _), s in zip(self.objectives, signs, strict=True))
        else:
            score = float("nan") if t.score is None else float(t.score)
            vector = ((-score if self.direction == "max" else score),)
        missed = violation(t.user_attrs.get(CONSTRAINTS_ATTR)) if self.constrained else 0.0
        if t.status.is_finished:
            self.keys.vectors[t.number] = (t, vector, missed)
        return vector, missed

    def finished(self) -> list[FrozenTrial]:
        """The completed trials with a finite score, in the view's order."""
        end, done = self._finished_prefix()
        return done + [t for t in self.trials[end:] if t.status == TrialStatus.COMPLETED and t.has_finite_score()]

    def running(self) -> list[FrozenTrial]:
        end, _ = self._finished_prefix()
        return [t for t in self.trials[end:] if t.status == TrialStatus.RUNNING]

    def _finished_prefix(self) -> tuple[int, list[FrozenTrial]]:
        """How long the all-finished prefix of the trials is, and its completed trials. Like
        ``tried_keys``, the prefix seen before is remembered, so a long study costs what changed."""
        trials = self.trials
        memo = self.keys.finished_prefix
        if memo is not None and memo[0] <= len(trials) and trials[memo[0] - 1] is memo[1]:
            start, done = memo[0], memo[2]
        else:
            start, done = 0, []
        end = start
        while end < len(trials) and trials[end].status.is_finished:
            t = trials[end]
            if t.status == TrialStatus.COMPLETED and t.has_finite_score():
                done.append(t)
            end += 1
        if end > start:
            self.keys.finished_prefix = (end, trials[end - 1], done)
        return end, done

    def tried_keys(self, space: Sequence[HyperParameter]) -> AbstractSet[str]:
        """Keys of every configuration already proposed, restricted to the parameters of ``space``.

        A parameter declared only after a trial ran counts as its default for that trial, where the
        trial's values make it active.
        """
        # Interned: every remembered key holds it, and it is the same text for the same space.
        signature = sys.intern(
            config_key({hp.name: [hp.default, [c.get_config() for c in hp.conditions]] for hp in space})
        )
        # The keys of the longest all-finished prefix seen before are kept in one set that grows in
        # place, when this view holds the very same trial objects there: a proposal on a long study
        # then costs what changed since the last one, not the study's length (no copy of the set).
        memo = self.keys.prefixes.get(signature)
        if memo is not None and memo[0] <= len(self.trials) and self.trials[memo[0] - 1] is memo[1]:
            start, known = memo[0], memo[2]
        else:
            start, known = 0, set()
        end = start
        while end < len(self.trials) and self.trials[end].status.is_finished:
            known.add(self._key(self.trials[end], space, signature))
            end += 1
        if end > start:
            self.keys.prefixes[signature] = (end, self.trials[end - 1], known)
        pending = {self._key(t, space, signature) for t in self.trials[end:]}
        return TriedKeys(known, pending)

    def _key(self, t: FrozenTrial, space: Sequence[HyperParameter], signature: str) -> str:
        cached = self.keys.keys.get(t.number)
        if cached is not None and cached[0] is t and cached[1] == signature:
            return cached[2]
        values = {}
        for hp in space:
            if hp.name in values:
                continue
            if hp.name in t.values:
                values[hp.name] = t.values[hp.name]
            elif hp.is_active(t.values):
                values[hp.name] = hp.default
        key = config_key(values)
        if t.status.is_finished:
            self.keys.keys[t.number] = (t, signature, key)  # a finished trial never changes
        return key


class Sampler(abc.ABC):
    """Proposes configurations. Subclasses implement ``propose``."""

    name: str = "sampler"
    # Whether proposals come from a model of the finished trials (TPE, GP). A schedule asks this,
    # not the class: a proposal is judged where its model was fitted (ASHA's start_at_model_rung).
    models_results: bool = False

    @abc.abstractmethod
    def propose(
        self, space: Sequence[HyperParameter], view: TrialsView, rng: np.random.Generator
    ) -> dict[str, Any] | Literal["idle"] | None:
        """Values for every active parameter of ``space``, None when nothing is left to try, or
        ``IDLE`` when nothing can be proposed now but may be later."""

    def startup_trials(self, space: Sequence[HyperParameter]) -> int:
        """How many finished trials this sampler needs before it models instead of sampling at random
        (0: it models from the first result, or never: ``models_results`` tells which)."""
        return 0

    def suggest(self, hp: HyperParameter, rng: np.random.Generator) -> Any:
        """A value for a parameter first declared while a trial runs (define-by-run)."""
        return hp.from_unit(float(rng.random()))

    def describe(self) -> str:
        """The algorithm in words, for displays and summaries (``"auto"`` says what it chose)."""
        return self.name

    def planned_trials(self) -> int | None:
        """How many trials the algorithm's own schedule runs (Hyperband knows; a sampler has no
        end of its own): the displays' budget when the study sets no ``max_trials``."""
        return None

    def exhausted_message(self) -> str:
        return "the search space is exhausted: every configuration has been tried"
