"""Constraints a trial's result must meet: bounds on reported metrics (``Constraint``), stored
with the study, or a user's function of the trial returning values that must be <= 0.

A trial that misses a constraint is kept and shown, but never the best; model-based samplers
learn from how far it missed (its *violation*: the sum of the positive constraint values).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hyperknob.exceptions import FatalTypeError, FatalValueError

__all__ = ["CONSTRAINTS_ATTR", "Constraint", "constraint_from_config", "make_constraints", "violation"]

# Where a finished trial's constraint values are kept (its user_attrs: plain JSON numbers).
CONSTRAINTS_ATTR = "constraints"
_OPERATORS = ("<=", ">=", "<", ">")


class Constraint:
    """A bound on a metric the trial reports, e.g. ``Constraint("predict_latency_ms", "<=", 20)``.

    Its value is how far the metric is on the wrong side of the bound (<= 0: met), read at the
    trial's best step, as the objective is."""

    def __init__(self, metric: str, op: str, bound: float) -> None:
        if not isinstance(metric, str) or not metric:
            raise FatalValueError(f"Constraint metric must be a metric's name, received {metric!r}.")
        if op not in _OPERATORS:
            raise FatalValueError(
                f"Constraint('{metric}', {op!r}, {bound!r}): the operator must be one of {', '.join(_OPERATORS)}."
            )
        try:
            self.bound = float(bound)
        except (TypeError, ValueError):
            raise FatalValueError(f"Constraint('{metric}', '{op}', {bound!r}): the bound must be a number.") from None
        if not math.isfinite(self.bound):
            raise FatalValueError(f"Constraint('{metric}', '{op}', {bound!r}): the bound must be finite.")
        self.metric = metric
        self.op = op

    def value(self, metrics: Mapping[str, float]) -> float:
        """How far ``metrics`` miss this bound: positive when missed, <= 0 when met."""
        if self.metric not in metrics:
            known = ", ".join(sorted(metrics)) or "none"
            raise FatalValueError(
                f"{self} names the metric '{self.metric}', which the trial did not report (it reported: {known}). "
                "Fix the name or report that metric."
            )
        x = float(metrics[self.metric])
        return x - self.bound if self.op in ("<=", "<") else self.bound - x

    def get_config(self) -> dict[str, Any]:
        return {"metric": self.metric, "op": self.op, "bound": self.bound}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Constraint) and other.get_config() == self.get_config()

    def __hash__(self) -> int:
        return hash((self.metric, self.op, self.bound))

    def __repr__(self) -> str:
        return f"Constraint({self.metric!r}, {self.op!r}, {self.bound:g})"


def constraint_from_config(config: Mapping[str, Any]) -> Constraint:
    return Constraint(config["metric"], config["op"], config["bound"])


ConstraintFunction = Callable[[Any], Sequence[float]]


def make_constraints(constraints: Any) -> tuple[list[Constraint], ConstraintFunction | None]:
    """Split what a user passed as ``constraints=`` (None, a Constraint, a function of the trial
    returning values that must be <= 0, or a list of Constraints and at most one function)."""
    if constraints is None:
        return [], None
    items = list(constraints) if isinstance(constraints, (list, tuple)) else [constraints]
    bounds = [c for c in items if isinstance(c, Constraint)]
    functions = [c for c in items if not isinstance(c, Constraint)]
    if any(not callable(f) for f in functions) or len(functions) > 1:
        raise FatalTypeError(
            f"constraints={constraints!r} is not understood: pass hyperknob.Constraint('metric', '<=', bound) "
            "objects, a function of the trial returning values that must be <= 0, or a list of those "
            "(at most one function)."
        )
    return bounds, (functions[0] if functions else None)


def violation(values: Sequence[float] | None) -> float:
    """How far a trial misses its constraints: 0 when every value is <= 0 (or none is known),
    the sum of the positive ones otherwise, infinity when one is NaN."""
    if not values:
        return 0.0
    total = 0.0
    for v in values:
        x = float(v)
        if math.isnan(x):
            return math.inf
        total += max(x, 0.0)
    return total
