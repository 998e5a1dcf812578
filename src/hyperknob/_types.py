"""Leaf data types shared by every layer: statuses, directions and the frozen trial record.

This module imports nothing from the package so that storage, samplers and the study can all
depend on it without depending on each other.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["Direction", "FrozenTrial", "MetricPoint", "TrialStatus"]


class TrialStatus(str, enum.Enum):
    """The life of a trial. String-valued so that stored rows and KerasTuner comparisons read naturally."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"  # the run crashed or gave an unusable score; retried while retries remain
    FAILED = "FAILED"  # no retries left (or FailedTrialError): recorded and the search moves on
    STOPPED = "STOPPED"  # pruned or stopped early; its metrics so far are kept
    IDLE = "IDLE"  # KerasTuner's "no trial for you right now" answer from populate_space

    @property
    def is_finished(self) -> bool:
        return self in (TrialStatus.COMPLETED, TrialStatus.FAILED, TrialStatus.STOPPED)

    def __str__(self) -> str:
        return self.value


class Direction(str, enum.Enum):
    MIN = "min"
    MAX = "max"

    def __str__(self) -> str:
        return self.value


@dataclasses.dataclass(frozen=True, slots=True)  # slots: a long study holds many
class MetricPoint:
    step: int
    value: float


def metrics_at_step(metrics: Mapping[str, tuple[MetricPoint, ...]], step: int | None) -> dict[str, float]:
    """Each metric's value at ``step``, or its last value where it has none there."""
    out = {}
    for name, points in metrics.items():
        if not points:
            continue
        value = points[-1].value
        for p in reversed(points):
            if p.step == step:
                value = p.value
                break
        out[name] = value
    return out


@dataclasses.dataclass(frozen=True, slots=True)  # slots: a process caches every trial
class FrozenTrial:
    """A trial as storage knows it: plain data, JSON-able, read-only.

    Samplers and reports only ever see these; the mutable KerasTuner-style ``Trial`` is built
    from one when user code needs it.
    """

    study_id: int
    number: int
    trial_id: str
    status: TrialStatus
    values: Mapping[str, Any]
    metrics: Mapping[str, tuple[MetricPoint, ...]] = dataclasses.field(default_factory=dict)
    score: float | None = None
    best_step: int | None = None
    message: str | None = None
    worker: str | None = None
    run_count: int = 1
    datetime_start: float | None = None
    datetime_complete: float | None = None
    heartbeat: float | None = None
    user_attrs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    space: Any = None  # the trial's own space config (list of parameter configs), as JSON data
    # Filled in by the study for the trials it ranks (best_trials, get_best_trials): a Pareto
    # search's objectives in the order given, otherwise {name: value} of the objective's metrics.
    objective_values: Any = None

    @property
    def duration(self) -> float | None:
        if self.datetime_start is None or self.datetime_complete is None:
            return None
        return self.datetime_complete - self.datetime_start

    def metric_history(self, name: str) -> tuple[MetricPoint, ...]:
        return tuple(self.metrics.get(name, ()))

    def metrics_at(self, step: int | None) -> dict[str, float]:
        """Each metric's value at ``step`` (the best step, when None), or its last value where it
        has none there: what the objective and the constraints are read from."""
        return metrics_at_step(self.metrics, self.best_step if step is None else step)

    def has_finite_score(self) -> bool:
        return self.score is not None and math.isfinite(self.score)
