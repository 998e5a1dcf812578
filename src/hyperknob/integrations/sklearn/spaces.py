"""``RandomizedSearchCV``-style search spaces as hyperknob parameters.

A space is a dict from an estimator parameter name to a hyperknob parameter (``Float("C", 1e-3,
1e3, sampling="log")``), a list of values, or a frozen scipy distribution (uniform, loguniform,
randint). Lists of same-typed numbers, strings or booleans become a ``Choice`` of those values;
any other list (``[None, 5, 10]``, estimators, callables) becomes a choice among positions, so the
study stores plain JSON and the estimator still receives the objects themselves.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from hyperknob.space.parameters import Choice, Float, HyperParameter, Int

__all__ = ["ParameterSpace"]

_SUPPORTED = (
    "a hyperknob parameter (Int, Float, Choice, Boolean, Fixed), a list of values, "
    "or scipy.stats uniform, loguniform or randint"
)


def _same_plain_type(values: Sequence[Any]) -> bool:
    kinds: set[type] = set()
    for v in values:
        if isinstance(v, bool):
            kinds.add(bool)
        elif isinstance(v, numbers.Integral):
            kinds.add(int)
        elif isinstance(v, numbers.Real):
            kinds.add(float)
        elif isinstance(v, str):
            kinds.add(str)
        else:
            return False
    return len(kinds) == 1 or kinds == {int, float}


class ParameterSpace:
    """The hyperknob parameters of a dict space, and the way back to the estimator's values."""

    def __init__(self, space: Mapping[str, Any]) -> None:
        if not isinstance(space, Mapping) or not space:
            raise ValueError(
                f"The search space must be a non-empty dict from parameter names to {_SUPPORTED}; received {space!r}."
            )
        self.parameters: list[HyperParameter] = []
        self._by_position: dict[str, list[Any]] = {}
        for name, spec in space.items():
            self.parameters.append(self._parameter(str(name), spec))

    def _parameter(self, name: str, spec: Any) -> HyperParameter:
        if isinstance(spec, HyperParameter):
            if spec.name != name:
                raise ValueError(f"The space maps '{name}' to a parameter named '{spec.name}'; use the same name.")
            return spec
        if isinstance(spec, (list, tuple)):
            values = list(spec)
            if not values:
                raise ValueError(f"The values listed for '{name}' are empty; list at least one.")
            if _same_plain_type(values) and len(set(values)) == len(values):
                if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values) and any(
                    isinstance(v, float) for v in values
                ):
                    values = [float(v) for v in values]
                return Choice(name, values)  # numbers are ordered, as KerasTuner's Choice has them
            self._by_position[name] = values
            return Choice(name, list(range(len(values))), ordered=False)
        dist = getattr(spec, "dist", None)
        if dist is not None and hasattr(spec, "rvs"):
            return self._distribution(name, spec)
        raise ValueError(f"'{name}': {spec!r} is not a search space entry; use {_SUPPORTED}.")

    @staticmethod
    def _distribution(name: str, frozen: Any) -> HyperParameter:
        kind = frozen.dist.name
        low, high = (float(v) for v in frozen.support())
        if kind == "uniform":
            return Float(name, low, high)
        if kind in ("loguniform", "reciprocal"):
            return Float(name, low, high, sampling="log")
        if kind == "randint":
            return Int(name, int(low), int(high))
        raise ValueError(
            f"'{name}': scipy.stats.{kind} is not supported; use {_SUPPORTED} (a hyperknob Float or Int with "
            "sampling='log' covers most priors)."
        )

    def to_estimator(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The estimator's parameters for a trial's stored values."""
        out = {}
        for hp in self.parameters:
            if hp.name not in values:
                continue
            value = values[hp.name]
            out[hp.name] = self._by_position[hp.name][value] if hp.name in self._by_position else value
        return out
