"""The mutable, KerasTuner-shaped ``Trial`` that user code holds while a trial runs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hyperknob._types import Direction, FrozenTrial, MetricPoint, TrialStatus
from hyperknob.objective import infer_metric_direction
from hyperknob.space.hyperparameters import HyperParameters

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = ["MetricObservation", "MetricsTracker", "Trial"]


class MetricObservation:
    """KerasTuner's per-step record: ``value`` is a list (several executions), ``mean()`` their mean."""

    def __init__(self, value: float | list[float], step: int) -> None:
        self.value = list(value) if isinstance(value, list) else [value]
        self.step = step

    def append(self, value: float) -> None:
        self.value.append(value)

    def mean(self) -> float:
        return float(sum(self.value) / len(self.value))

    def __repr__(self) -> str:
        return f"MetricObservation(value={self.value}, step={self.step})"


class MetricsTracker:
    """Per-step histories of a trial's metrics, with best values by each metric's direction."""

    def __init__(self, directions: Mapping[str, Direction | None] | None = None) -> None:
        self._history: dict[str, dict[int, MetricObservation]] = {}
        self._directions: dict[str, Direction | None] = dict(directions or {})

    def exists(self, name: str) -> bool:
        return name in self._history

    def register(self, name: str, direction: str | Direction | None = None) -> None:
        """Track a metric; its direction is inferred from its name when not given (as KerasTuner does)."""
        self._history.setdefault(name, {})
        if direction is not None:
            self._directions[name] = Direction(str(direction))
        elif name not in self._directions:
            self._directions[name] = infer_metric_direction(name)

    def set(self, name: str, value: float, step: int = 0) -> None:
        """Record ``value`` at ``step``, replacing what was recorded there."""
        self.register(name)
        self._history[name][step] = MetricObservation(float(value), step)

    def last_step(self, name: str) -> int | None:
        steps = self._history.get(name)
        return max(steps) if steps else None

    def update(self, name: str, value: float, step: int = 0) -> None:
        self.register(name)
        observations = self._history[name]
        if step in observations:
            observations[step].append(float(value))
        else:
            observations[step] = MetricObservation(float(value), step)

    def get_history(self, name: str) -> list[MetricObservation]:
        self._require(name)
        return [self._history[name][s] for s in sorted(self._history[name])]

    def get_direction(self, name: str) -> Direction | None:
        return self._directions.get(name)

    def _best(self, name: str) -> MetricObservation | None:
        history = [o for o in self.get_history(name) if not math.isnan(o.mean())]
        if not history:
            return None
        if self.get_direction(name) == Direction.MAX:
            return max(history, key=lambda o: o.mean())
        return min(history, key=lambda o: o.mean())

    def get_best_value(self, name: str) -> float | None:
        best = self._best(name)
        return None if best is None else best.mean()

    def get_best_step(self, name: str) -> int | None:
        best = self._best(name)
        return None if best is None else best.step

    def get_last_value(self, name: str) -> float | None:
        history = self.get_history(name)
        return history[-1].mean() if history else None

    @property
    def metrics(self) -> dict[str, list[MetricObservation]]:
        return {name: self.get_history(name) for name in self._history}

    def names(self) -> list[str]:
        return list(self._history)

    def to_points(self) -> dict[str, tuple[MetricPoint, ...]]:
        return {name: tuple(MetricPoint(o.step, o.mean()) for o in self.get_history(name)) for name in self._history}

    def _require(self, name: str) -> None:
        if name not in self._history:
            known = ", ".join(self._history) or "none"
            raise ValueError(f"Metric '{name}' was not reported in this trial. Reported metrics: {known}.")


class Trial:
    """One configuration being evaluated: its hyperparameters, status, metrics and score."""

    def __init__(
        self,
        hyperparameters: HyperParameters,
        trial_id: str | None = None,
        status: TrialStatus | str = TrialStatus.RUNNING,
        message: str | None = None,
    ) -> None:
        self.hyperparameters = hyperparameters
        self.trial_id = trial_id
        self.status = TrialStatus(status)
        self.message = message
        self.score: float | None = None
        self.best_step: int | None = None
        self.metrics = MetricsTracker()
        self.number: int | None = None
        self.run_count = 1
        self.user_attrs: dict[str, Any] = {}
        # A finished trial's objectives: a tuple in the order given for a Pareto search, otherwise
        # {name: value} (set by the study; None while running).
        self.objective_values: Any = None
        self._study: Study | None = None
        self._frozen: FrozenTrial | None = None
        self._worker: str | None = None  # the worker id that owns this trial in storage

    @classmethod
    def from_frozen(
        cls,
        frozen: FrozenTrial,
        space: HyperParameters | None = None,
        directions: Mapping[str, Direction] | None = None,
    ) -> Trial:
        hps = space.copy() if space is not None else HyperParameters()
        if frozen.space:
            hps = HyperParameters.from_config({"space": frozen.space, "values": {}})
        hps.values = dict(frozen.values)
        trial = cls(hps, trial_id=frozen.trial_id, status=frozen.status, message=frozen.message)
        trial.number = frozen.number
        trial.score = frozen.score
        trial.best_step = frozen.best_step
        trial.run_count = frozen.run_count
        trial.user_attrs = dict(frozen.user_attrs)
        trial.metrics = MetricsTracker(directions)
        for name, points in frozen.metrics.items():
            for p in points:
                trial.metrics.update(name, p.value, step=p.step)
        trial._frozen = frozen
        return trial

    # --- reporting while running --------------------------------------------------------------------
    def report(self, step: int, value: float | Mapping[str, float]) -> None:
        """Record metrics of one step (an epoch); a float is recorded under the objective's name."""
        if self._study is None:
            raise RuntimeError("This trial is not attached to a study; report through the study that asked it.")
        self._study.report(self, step, value)

    def should_prune(self) -> bool:
        """Whether the study's pruner stops this trial now, judged on what it reported so far; if so,
        raise ``hyperknob.TrialPruned`` (the trial ends STOPPED, its reports kept)."""
        if self._study is None:
            raise RuntimeError("This trial is not attached to a study; ask the study that runs it.")
        return self._study.should_prune(self)

    # --- display ----------------------------------------------------------------------------------
    def summary(self) -> None:
        """Print the trial the way KerasTuner does."""
        print(f"Trial {self.trial_id} summary")
        print("Hyperparameters:")
        self.display_hyperparameters()
        if self.score is not None:
            print(f"Score: {self.score}")
        if self.message is not None:
            print(self.message)

    def display_hyperparameters(self) -> None:
        if not self.hyperparameters.values:
            print("default configuration")
        for name, value in self.hyperparameters.values.items():
            print(f"{name}: {value}")

    def get_state(self) -> dict[str, Any]:
        return {
            "trial_id": self.trial_id,
            "number": self.number,
            "hyperparameters": self.hyperparameters.get_config(),
            "metrics": {k: [[p.step, p.value] for p in v] for k, v in self.metrics.to_points().items()},
            "score": self.score,
            "best_step": self.best_step,
            "status": self.status.value,
            "message": self.message,
        }

    def __repr__(self) -> str:
        return (f"Trial(trial_id={self.trial_id!r}, status={self.status.value}, score={self.score}, "
                f"values={self.hyperparameters.values})")
