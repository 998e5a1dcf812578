"""What a search optimises: one metric with a direction, a list of them, or a returned float.

Direction inference follows KerasTuner's rules without importing Keras: names of losses and
errors minimise, names of accuracy-like metrics maximise, anything else must be spelled out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from hyperknob._types import Direction
from hyperknob.exceptions import FatalTypeError, FatalValueError

__all__ = [
    "DefaultObjective", "MultiObjective", "Objective", "create_objective", "infer_metric_direction",
    "objective_directions",
]

_MAX_NAMES = {
    "acc", "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "auc", "precision", "recall",
    "true_positives", "true_negatives", "f1_score", "fbeta_score", "r2_score", "r2", "mean_iou", "iou",
    "one_hot_iou", "one_hot_mean_iou", "binary_iou", "precision_at_recall", "recall_at_precision",
    "sensitivity_at_specificity", "specificity_at_sensitivity", "score", "f1", "balanced_accuracy",
    "cosine_similarity", "pearson_correlation", "concordance_correlation",
}
_MIN_NAMES = {
    "loss", "crossentropy", "ce", "error", "mse", "mae", "mape", "msle", "rmse", "logcosh", "log_cosh",
    "hinge", "squared_hinge", "categorical_hinge", "kld", "kl_divergence", "kullback_leibler_divergence",
    "poisson", "huber", "huber_loss", "mean_squared_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "root_mean_squared_error",
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "binary_focal_crossentropy", "categorical_focal_crossentropy", "false_positives", "false_negatives",
    "ctc", "dice", "tversky", "circle", "model_params", "model_size_bytes", "predict_latency_ms",
}


def infer_metric_direction(name: str) -> Direction | None:
    """'min' for losses and errors, 'max' for accuracy-like names, None when unknown."""
    metric = name
    for prefix in ("val_", "weighted_"):
        if metric.startswith(prefix):
            metric = metric[len(prefix):]
    metric = metric.lower()
    if metric in _MAX_NAMES:
        return Direction.MAX
    if metric in _MIN_NAMES or metric.endswith(("_loss", "_error", "_crossentropy")):
        return Direction.MIN
    return None


def closest_metric_name(name: str, known: Sequence[str] | None = None) -> str | None:
    """The metric name ``name`` most likely misspells (``val_acuracy`` -> ``val_accuracy``), among
    ``known`` (a trial's logged metrics) or the metric names Keras uses; None when none is close."""
    import difflib

    if known is None:
        prefix = next((p for p in ("val_", "weighted_") if name.startswith(p)), "")
        known = [prefix + n for n in sorted(_MAX_NAMES | _MIN_NAMES)]
    found = difflib.get_close_matches(name, [k for k in known if k != name], n=1, cutoff=0.8)
    return found[0] if found else None


class Objective:
    """One metric to minimise or maximise, named as the trial reports it (e.g. ``val_accuracy``)."""

    def __init__(self, name: str, direction: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"Objective name must be a non-empty string, received {name!r}.")
        try:
            self.direction = Direction(str(direction).lower())
        except ValueError:
            raise ValueError(
                f"Objective('{name}', direction={direction!r}): direction must be 'min' or 'max'."
            ) from None
        self.name = name

    def has_value(self, logs: Mapping[str, Any]) -> bool:
        return self.name in logs

    def get_value(self, logs: Mapping[str, Any]) -> float:
        return float(logs[self.name])

    def better_than(self, a: float, b: float) -> bool:
        return (a > b) if self.direction == Direction.MAX else (a < b)

    def sort_key(self, score: float | None) -> float:
        """Ascending key: best first, missing and NaN last."""
        if score is None or math.isnan(score):
            return math.inf
        return -score if self.direction == Direction.MAX else score

    @property
    def metric_names(self) -> list[str]:
        return [self.name]

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "direction": self.direction.value}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Objective)
            and type(other) is type(self)
            and other.name == self.name
            and other.direction == self.direction
        )

    def __hash__(self) -> int:
        return hash((self.name, self.direction))

    def __str__(self) -> str:
        return f'Objective(name="{self.name}", direction="{self.direction.value}")'

    __repr__ = __str__


class DefaultObjective(Objective):
    """Used when no objective is given: the trial returns one float, which is minimised."""

    def __init__(self) -> None:
        super().__init__(name="default_objective", direction="min")


class MultiObjective(Objective):
    """KerasTuner's list objective: minimise the sum of 'min' metrics minus the sum of 'max' ones.

    With ``pareto=True`` the search looks for the Pareto front instead: the trials no other trial
    beats in every objective. The score stays KerasTuner's sum (for displays that show one
    number); the front, the samplers and the schedules use ``objectives``, in the order given."""

    def __init__(self, objectives: Sequence[Objective], pareto: bool = False) -> None:
        super().__init__(name="multi_objective", direction="min")
        self.objectives = list(objectives)
        self.name_to_direction = {o.name: o.direction for o in self.objectives}
        self.pareto = bool(pareto)
        if self.pareto and len(self.name_to_direction) < 2:
            raise FatalValueError(
                "pareto=True needs at least two objectives with different names, e.g. "
                'objective=[kt.Objective("val_accuracy", "max"), kt.Objective("model_params", "min")].'
            )

    def has_value(self, logs: Mapping[str, Any]) -> bool:
        return all(name in logs for name in self.name_to_direction)

    def get_value(self, logs: Mapping[str, Any]) -> float:
        total = 0.0
        for name, direction in self.name_to_direction.items():
            value = float(logs[name])
            total += value if direction == Direction.MIN else -value
        return total

    @property
    def metric_names(self) -> list[str]:
        return list(self.name_to_direction)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "name": self.name, "direction": "min", "objectives": [o.get_config() for o in self.objectives]
        }
        if self.pareto:
            config["pareto"] = True
        return config

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MultiObjective) or other.pareto != self.pareto:
            return False
        if self.pareto:  # the order names the objectives' places in objective_values
            return [(o.name, o.direction) for o in other.objectives] == [(o.name, o.direction) for o in self.objectives]
        return sorted((o.name, o.direction) for o in other.objectives) == sorted(
            (o.name, o.direction) for o in self.objectives
        )

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.name_to_direction.items())), self.pareto))

    def __str__(self) -> str:
        kind = "Pareto" if self.pareto else "Multi"
        return f"{kind}{super().__str__()}: [{', '.join(str(o) for o in self.objectives)}]"

    __repr__ = __str__


def create_objective(objective: Any, pareto: bool = False) -> Objective:
    """Turn what a user passed as ``objective=`` into an Objective, failing early when unclear.

    ``pareto=True`` asks for the Pareto front of a list of objectives (KerasTuner's meaning of a
    list, kept by default, is their sum)."""
    if pareto:
        found = objective.objectives if isinstance(objective, MultiObjective) else objective
        if not isinstance(found, (list, tuple)):
            raise FatalValueError(
                f"pareto=True needs a list of objectives, received objective={objective!r}; e.g. "
                'objective=[kt.Objective("val_accuracy", "max"), kt.Objective("model_params", "min")].'
            )
        return MultiObjective([create_objective(o) for o in found], pareto=True)
    if objective is None:
        return DefaultObjective()
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, (list, tuple)):
        parts = [create_objective(o) for o in objective]
        return parts[0] if len(parts) == 1 else MultiObjective(parts)
    if not isinstance(objective, str):
        raise FatalTypeError(
            f"objective={objective!r} is not understood; pass a metric name such as 'val_loss', "
            "an hyperknob.Objective('name', direction='min'|'max'), or a list of those."
        )
    direction = infer_metric_direction(objective)
    if direction is None:
        close = closest_metric_name(objective)
        if close is not None:
            raise FatalValueError(
                f'The objective "{objective}" is no metric name hyperknob knows: did you mean "{close}"? '
                f'A metric of your own needs its direction: hyperknob.Objective("{objective}", direction="max").'
            )
        raise FatalValueError(
            f'Could not infer whether to minimise or maximise the objective "{objective}". '
            f'Pass it as an Objective, e.g. hyperknob.Objective("{objective}", direction="max").'
        )
    return Objective(objective, direction.value)


def objective_directions(objective: Objective) -> list[tuple[str, str]]:
    """The (name, direction) of each objective a Pareto search ranks on; [] for one number."""
    if isinstance(objective, MultiObjective) and objective.pareto:
        return [(o.name, o.direction.value) for o in objective.objectives]
    return []


def objective_from_config(config: Mapping[str, Any]) -> Objective:
    if "objectives" in config:
        return MultiObjective(
            [objective_from_config(c) for c in config["objectives"]], pareto=bool(config.get("pareto", False))
        )
    if config["name"] == "default_objective" and config.get("direction", "min") == "min":
        return DefaultObjective()
    return Objective(config["name"], config["direction"])
