"""Turn whatever a trial returned (a number, a dict, a Keras-style History, a list of those) into
per-step metrics, and score a trial from its metrics.

Keras is never imported: a History is anything with a ``history`` dict of per-epoch lists.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hyperknob.exceptions import FatalTypeError, FatalValueError
from hyperknob.objective import DefaultObjective, MultiObjective, Objective, closest_metric_name

if TYPE_CHECKING:
    from hyperknob.study.trial import Trial

__all__ = ["Results", "UnusableResultError", "convert_results", "record_results", "score_from_history"]

# metrics by name -> {step: value}
Results = dict[str, dict[int, float]]


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_history(x: Any) -> bool:
    return isinstance(getattr(x, "history", None), dict)


def convert_results(results: Any, objective: Objective, where: str = "run_trial()") -> Results:
    """Per-step metrics from a trial's return value; raises a Fatal error for unusable returns."""
    if isinstance(results, list):
        if not results:
            raise FatalValueError(f"{where} returned an empty list; return a float, a dict of metrics or a History.")
        return _average([convert_results(r, objective, where) for r in results])
    if results is None:
        raise FatalTypeError(
            f"{where} returned None. Did you forget to return the metrics (a float, a dict or a History)?"
        )
    if _is_number(results) or (hasattr(results, "item") and hasattr(results, "shape") and results.shape == ()):
        return {objective.name: {0: _to_float(results, objective.name, where)}}
    if isinstance(results, Mapping):
        _check_objective_in(results.keys(), objective, where)
        out: Results = {}
        for name, value in results.items():
            if not _is_number(value) and not (hasattr(value, "item") and getattr(value, "shape", None) == ()):
                raise FatalTypeError(
                    f"{where} returned metric '{name}' = {value!r} ({type(value).__name__}); "
                    "metric values must be numbers."
                )
            out[str(name)] = {0: _to_float(value, name, where)}
        return out
    if _is_history(results):
        history = results.history
        _check_objective_in(history.keys(), objective, where, per_epoch=True)
        # Keras numbers epochs from fit's initial_epoch (a continued trial starts past 0).
        epochs = list(getattr(results, "epoch", None) or [])
        out = {}
        for name, values in history.items():
            steps = epochs if len(epochs) == len(values) else range(len(values))
            out[str(name)] = {int(step): _to_float(v, name, where) for step, v in zip(steps, values, strict=True)}
        return out
    raise FatalTypeError(
        f"{where} returned {results!r} of type {type(results).__name__}; expected a float, a dict of metrics, "
        "a keras.callbacks.History, or a list of those."
    )


def _to_float(value: Any, name: Any, where: str) -> float:
    """A metric as a float; an integer beyond a float's range is refused with the reason (the trial
    fails; it is not left unfinished)."""
    try:
        return float(value)
    except OverflowError:
        text = str(value)
        shown = text if len(text) <= 40 else f"{text[:20]}...{text[-10:]} ({len(text)} digits)"
        raise UnusableResultError(
            f"{where} returned metric '{name}' = {shown}, a number too large for a float (at most about "
            "1.8e308); return it as a float."
        ) from None


class UnusableResultError(ValueError):
    """A trial's result that cannot be stored: the trial fails with this message, the search goes on."""


def _check_objective_in(keys: Any, objective: Objective, where: str, per_epoch: bool = False) -> None:
    keys = [str(k) for k in keys]
    if isinstance(objective, DefaultObjective):
        if objective.name in keys:
            return
        raise FatalTypeError(
            f"{where} returned metrics {keys}, but no objective was given, so a single float was expected. "
            f"Pass objective= one of {keys} (e.g. objective='{keys[0] if keys else 'val_loss'}') or return a float."
        )
    missing = [name for name in objective.metric_names if name not in keys]
    if missing:
        what = "logged each epoch" if per_epoch else "returned"
        close = {m: c for m in missing if (c := closest_metric_name(m, keys)) is not None}
        meant = "".join(f" Did you mean {c!r} for {m!r}?" for m, c in close.items())
        raise FatalValueError(
            f"The objective {', '.join(repr(m) for m in missing)} is not among the metrics {what} by {where}: "
            f"{', '.join(keys) or 'none'}.{meant} Set objective= to one of those, or report the missing metric "
            "(for Keras, a validation metric needs validation_data= or validation_split=)."
        )


def _average(parts: list[Results]) -> Results:
    out: dict[str, dict[int, list[float]]] = {}
    for part in parts:
        for name, steps in part.items():
            for step, value in steps.items():
                out.setdefault(name, {}).setdefault(step, []).append(value)
    return {name: {s: sum(v) / len(v) for s, v in steps.items()} for name, steps in out.items()}


def score_from_history(
    metrics: Mapping[str, Mapping[int, float]], objective: Objective
) -> tuple[float | None, int | None]:
    """The objective's best value over the steps, and that step (NaN values never win)."""
    if isinstance(objective, MultiObjective):
        if objective.metric_names:
            steps = set.intersection(*(set(metrics.get(n, {})) for n in objective.metric_names))
        else:
            steps = set()
        series = {s: objective.get_value({n: metrics[n][s] for n in objective.metric_names}) for s in steps}
    else:
        series = dict(metrics.get(objective.name, {}))
    if not series:
        return None, None
    finite = {s: v for s, v in series.items() if not math.isnan(v)}
    if not finite:
        step = max(series)
        return series[step], step
    if isinstance(objective, MultiObjective) and objective.pareto:
        # A Pareto trial is the point of its best epoch by the first objective (the one named
        # first is the one the user reads first); its score stays KerasTuner's sum there.
        first = objective.objectives[0]
        values = {s: metrics[first.name][s] for s in finite}
        best_step = min(values, key=lambda s: (first.sort_key(values[s]), s))
        return finite[best_step], best_step
    best_step = min(finite, key=lambda s: (objective.sort_key(finite[s]), s))
    return finite[best_step], best_step


def record_results(trial: Trial, results: Results) -> None:
    """Put converted results into the trial's metrics: per-step values replace what was reported
    at that step; a single value after per-step reports lands on the last reported step."""
    for name, steps in results.items():
        last = trial.metrics.last_step(name)
        if last is not None and set(steps) == {0}:
            trial.metrics.set(name, steps[0], step=last)
            continue
        for step, value in steps.items():
            trial.metrics.set(name, value, step=step)
