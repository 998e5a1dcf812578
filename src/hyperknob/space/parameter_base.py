"""What every hyperparameter definition is: immutable, validated when made, and mapped to [0, 1]
and back (``to_unit`` / ``from_unit``, KerasTuner's ``value_to_prob`` / ``prob_to_value``), so
samplers never branch on a parameter's type. The kinds are in ``numerical`` and ``categorical``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import random
from collections.abc import Mapping
from typing import Any, ClassVar

from hyperknob.exceptions import SearchSpaceError, SearchSpaceTypeError
from hyperknob.space.conditions import Parent

__all__ = ["SAMPLINGS", "HyperParameter"]


SAMPLINGS = ("linear", "log", "reverse_log")
_UNIT_EPS = 1e-12


def _index_from_unit(u: float, n: int) -> int:
    return min(int(math.floor(u * n)), n - 1) if n > 0 else 0


def _unit_from_index(index: int, n: int) -> float:
    return (index + 0.5) / n


def _tidy(raw: float, gap: float) -> float:
    """Drop the 0.30000000000000004 noise that stepping by a decimal step leaves, but only when
    that moves the value by a negligible part of the distance to its grid neighbour."""
    candidate = float(f"{raw:.12g}")
    return candidate if abs(candidate - raw) <= gap * 1e-6 else raw


@dataclasses.dataclass(frozen=True)
class HyperParameter:
    """Base of all definitions. ``conditions`` must all hold for the parameter to be active."""

    name: str
    conditions: tuple[Parent, ...] = dataclasses.field(default=(), kw_only=True)

    kind: ClassVar[str] = "HyperParameter"

    # --- domain -----------------------------------------------------------------------------
    @property
    def default(self) -> Any:
        raise NotImplementedError

    def grid_values(self) -> tuple[Any, ...] | None:
        """All values of a finite domain in a stable order, or None for a continuous one."""
        raise NotImplementedError

    def grid_count(self) -> int | None:
        """How many values ``grid_values`` holds, without building it (None: continuous)."""
        values = self.grid_values()
        return None if values is None else len(values)

    def contains(self, value: Any) -> bool:
        raise NotImplementedError

    def from_unit(self, u: float) -> Any:
        raise NotImplementedError

    def to_unit(self, value: Any) -> float:
        raise NotImplementedError

    # KerasTuner's names for the same maps.
    def prob_to_value(self, prob: float) -> Any:
        return self.from_unit(prob)

    def value_to_prob(self, value: Any) -> float:
        return self.to_unit(value)

    def random_sample(self, seed: int | None = None) -> Any:
        return self.from_unit(random.Random(seed).random())

    def is_active(self, values: Mapping[str, Any]) -> bool:
        return all(c.is_active(values) for c in self.conditions)

    # --- serialisation ------------------------------------------------------------------------
    def _own_config(self) -> dict[str, Any]:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name}
        config.update(self._own_config())
        config["conditions"] = [c.get_config() for c in self.conditions]
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HyperParameter:
        config = dict(config)
        conditions = tuple(Parent.from_config(c) for c in config.pop("conditions", []) or [])
        return cls(**config, conditions=conditions)

    def same_definition(self, other: HyperParameter) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def _fail(self, problem: str, fix: str, type_error: bool = False) -> SearchSpaceError:
        cls = SearchSpaceTypeError if type_error else SearchSpaceError
        return cls(f"{self.kind}('{self.name}'): {problem}. {fix}")


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name:
        raise SearchSpaceError(f"A hyperparameter name must be a non-empty string; received {name!r}.")


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _plain(x: Any) -> Any:
    """numpy scalars (np.float64, np.int64, np.bool_, np.str_) as the Python values they hold."""
    if isinstance(x, (bool, int, float, str)) and type(x) in (bool, int, float, str):
        return x
    item = getattr(x, "item", None)
    if callable(item) and getattr(x, "shape", None) == ():
        return item()
    if isinstance(x, str):
        return str(x)
    return x
