"""Hyperparameter definitions: immutable, validated when made, and mapped to [0, 1] and back.

Each definition knows its domain and one bijection-like map to the unit interval
(``to_unit`` / ``from_unit``, KerasTuner's ``value_to_prob`` / ``prob_to_value``), so samplers
never branch on a parameter's type. Finite domains also enumerate themselves (``grid_values``)
for grid search and exhaustion checks.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import random
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from hyperknob.exceptions import SearchSpaceError, SearchSpaceTypeError
from hyperknob.space.conditions import Parent

__all__ = [
    "Boolean",
    "Choice",
    "Fixed",
    "Float",
    "HyperParameter",
    "Int",
    "deserialize",
    "serialize",
]

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
        config = {"name": self.name}
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


@dataclasses.dataclass(frozen=True)
class _Numerical(HyperParameter):
    min_value: Any = None
    max_value: Any = None
    step: Any = None
    sampling: str = "linear"
    default_value: Any = None  # as given; ``default`` resolves it

    def _validate_numerical(self) -> None:
        _check_name(self.name)
        if not _is_number(self.min_value) or not _is_number(self.max_value):
            raise self._fail(
                f"min_value and max_value must be numbers, received min_value={self.min_value!r}, "
                f"max_value={self.max_value!r}",
                "Pass numeric bounds.",
            )
        if not (math.isfinite(self.min_value) and math.isfinite(self.max_value)):
            raise self._fail(
                f"bounds must be finite, received min_value={self.min_value}, max_value={self.max_value}",
                "Pass finite bounds.",
            )
        if self.min_value > self.max_value:
            raise self._fail(
                f"min_value={self.min_value} is greater than max_value={self.max_value}",
                "Swap the bounds so that min_value <= max_value.",
            )
        sampling = self.sampling
        if not isinstance(sampling, str) or sampling.lower() not in SAMPLINGS:
            raise self._fail(
                f"unknown sampling={sampling!r}",
                f"Use one of {', '.join(repr(s) for s in SAMPLINGS)}.",
            )
        object.__setattr__(self, "sampling", sampling.lower())
        if self.sampling != "linear" and self.min_value <= 0:
            raise self._fail(
                f"sampling='{self.sampling}' needs min_value > 0, received min_value={self.min_value}",
                "Use a positive min_value, or sampling='linear'.",
            )
        if self.step is not None:
            if not _is_number(self.step) or not math.isfinite(self.step):
                raise self._fail(f"step must be a number, received step={self.step!r}", "Pass a numeric step or None.")
            if self.sampling == "linear":
                if self.step <= 0:
                    raise self._fail(
                        f"step must be positive, received step={self.step}",
                        "Pass a step > 0, or step=None for a continuous range.",
                    )
                if self.max_value > self.min_value and self.step > self.max_value - self.min_value:
                    raise self._fail(
                        f"step={self.step} is larger than the range [{self.min_value}, {self.max_value}], "
                        "so only min_value could ever be chosen",
                        "Use a step no larger than max_value - min_value, or hp.Fixed for a constant.",
                    )
            else:
                if self.step <= 1:
                    raise self._fail(
                        f"with sampling='{self.sampling}' the step is a multiplier and must be > 1, "
                        f"received step={self.step}",
                        "Pass a step > 1 (e.g. step=2 for powers of two), or step=None.",
                    )
                if self.max_value > self.min_value and self.step > self.max_value / self.min_value:
                    raise self._fail(
                        f"step={self.step} multiplies past the range [{self.min_value}, {self.max_value}]",
                        "Use a step no larger than max_value / min_value.",
                    )
        if self.default_value is not None:
            if not self.contains(self.default_value):
                raise self._fail(
                    f"default={self.default_value!r} is not in the range [{self.min_value}, {self.max_value}]"
                    + (f" on step {self.step}" if self.step is not None else ""),
                    "Pass a default inside the range (or leave it out: the default is min_value).",
                )
            if self.step is not None:
                # Store the grid value itself, so the default and its grid point are one value.
                snapped = self._grid_value(int(round(self._index_of(self.default_value))))
                object.__setattr__(self, "default_value", type(self.default_value)(snapped))

    @property
    def default(self) -> Any:
        if self.default_value is not None:
            return self.default_value
        if self.step is not None and self.sampling == "reverse_log":
            # min_value is not on a stepped reverse_log grid; its smallest grid value is.
            return min(self.grid_values())  # type: ignore[type-var]
        return self.min_value

    # --- continuous maps ------------------------------------------------------------------------
    def _scale(self, u: float, max_value: float) -> float:
        lo = self.min_value
        if self.sampling == "linear":
            return lo + u * (max_value - lo)
        if self.sampling == "log":
            return lo * math.pow(max_value / lo, u)
        return max_value + lo - lo * math.pow(max_value / lo, 1.0 - u)

    def _unscale(self, x: float, max_value: float) -> float:
        lo = self.min_value
        if max_value == lo:
            return 0.5
        if self.sampling == "linear":
            return (x - lo) / (max_value - lo)
        if self.sampling == "log":
            return math.log(x / lo) / math.log(max_value / lo)
        return 1.0 - math.log((max_value + lo - x) / lo) / math.log(max_value / lo)

    # --- stepped maps --------------------------------------------------------------------------
    def _n_steps(self) -> int:
        lo, hi, step = self.min_value, self.max_value, self.step
        if self.sampling == "linear":
            return int(math.floor((hi - lo) / step + 1e-9)) + 1
        if hi == lo:
            return 1
        return int(math.floor(math.log(hi / lo) / math.log(step) + 1e-9)) + 1

    def _value_at(self, index: int) -> float:
        lo, hi, step = self.min_value, self.max_value, self.step
        if self.sampling == "linear":
            raw = lo + index * step
        elif self.sampling == "log":
            raw = lo * step**index
        else:
            raw = hi + lo - lo * step**index
        # The step count tolerates rounding, so the last value may overshoot a bound by a hair.
        return min(max(raw, lo), hi)

    def _grid_value(self, index: int) -> float:
        """The index-th grid value as the user sees it (tidied of float noise, inside the bounds)."""
        raw = self._value_at(index)
        n = self._n_steps()
        if n == 1 or index == 0:
            return raw  # the first value is the bound the user wrote, exactly
        neighbour = self._value_at(index + 1 if index + 1 < n else index - 1)
        return min(max(_tidy(raw, abs(neighbour - raw)), self.min_value), self.max_value)

    def _index_of(self, value: float) -> float:
        lo, hi, step = self.min_value, self.max_value, self.step
        if self.sampling == "linear":
            return (value - lo) / step
        if self.sampling == "log":
            return math.log(value / lo) / math.log(step)
        return math.log((hi + lo - value) / lo) / math.log(step)

    def _on_step(self, value: float) -> bool:
        try:
            index = self._index_of(value)
        except (ValueError, ZeroDivisionError):
            return False
        nearest = round(index)
        if not 0 <= nearest < self._n_steps():
            return False
        grid_value = self._grid_value(nearest)
        gap = abs(self._value_at(min(nearest + 1, self._n_steps() - 1)) - self._value_at(max(nearest - 1, 0)))
        return math.isclose(grid_value, value, rel_tol=1e-12, abs_tol=gap * 1e-9)

    def _numerical_config(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "step": self.step,
            "sampling": self.sampling,
            "default": self.default_value,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HyperParameter:
        config = dict(config)
        conditions = tuple(Parent.from_config(c) for c in config.pop("conditions", []) or [])
        return cls(
            config["name"],
            config["min_value"],
            config["max_value"],
            step=config.get("step"),
            sampling=config.get("sampling", "linear"),
            default=config.get("default"),
            conditions=conditions,
        )


class Int(_Numerical):
    """An integer in ``[min_value, max_value]``, both included (unlike ``range``)."""

    kind: ClassVar[str] = "Int"

    def __init__(
        self,
        name: str,
        min_value: int,
        max_value: int,
        step: int | None = None,
        sampling: str = "linear",
        default: int | None = None,
        *,
        conditions: Sequence[Parent] = (),
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "conditions", tuple(conditions))
        if sampling is None:
            sampling = "linear"
        min_value = self._check_int(min_value, "min_value")
        max_value = self._check_int(max_value, "max_value")
        if step is not None:
            step = self._check_int(step, "step")
        elif isinstance(sampling, str) and sampling.lower() == "linear":
            step = 1
        if default is not None:
            default = self._check_int(default, "default")
        object.__setattr__(self, "min_value", min_value)
        object.__setattr__(self, "max_value", max_value)
        object.__setattr__(self, "step", step)
        object.__setattr__(self, "sampling", sampling)
        object.__setattr__(self, "default_value", default)
        self._validate_numerical()

    def _check_int(self, value: Any, arg: str) -> int:
        if isinstance(value, bool) or not _is_number(value) or not math.isfinite(value) or int(value) != value:
            raise self._fail(
                f"{arg} must be an integer, received {arg}={value!r} ({type(value).__name__})",
                "Pass whole numbers to hp.Int, or use hp.Float for a real-valued range.",
            )
        return int(value)

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not _is_number(value) or int(value) != value:
            return False
        if not self.min_value <= value <= self.max_value:
            return False
        return self.step is None or self._on_step(value)

    def grid_count(self) -> int:
        return self.max_value - self.min_value + 1 if self.step is None else self._n_steps()

    def grid_values(self) -> tuple[int, ...]:
        if self.step is None:
            return tuple(range(self.min_value, self.max_value + 1))
        return tuple(int(round(self._value_at(i))) for i in range(self._n_steps()))

    def from_unit(self, u: float) -> int:
        u = min(max(float(u), 0.0), 1.0)
        if self.step is None:
            value = int(math.floor(self._scale(u, self.max_value + 1)))
            return min(max(value, self.min_value), self.max_value)
        return int(round(self._value_at(_index_from_unit(u, self._n_steps()))))

    def to_unit(self, value: Any) -> float:
        if self.step is None:
            return min(max(self._unscale(value + 0.5, self.max_value + 1), 0.0), 1.0)
        return _unit_from_index(int(round(self._index_of(value))), self._n_steps())

    def _own_config(self) -> dict[str, Any]:
        return self._numerical_config()

    def __repr__(self) -> str:
        return (
            f"Int(name='{self.name}', min_value={self.min_value}, max_value={self.max_value}, "
            f"step={self.step}, sampling='{self.sampling}', default={self.default})"
        )


class Float(_Numerical):
    """A real number in ``[min_value, max_value]``, optionally on a grid of ``step``."""

    kind: ClassVar[str] = "Float"

    def __init__(
        self,
        name: str,
        min_value: float,
        max_value: float,
        step: float | None = None,
        sampling: str = "linear",
        default: float | None = None,
        *,
        conditions: Sequence[Parent] = (),
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "conditions", tuple(conditions))
        if sampling is None:
            sampling = "linear"
        for arg, value in (("min_value", min_value), ("max_value", max_value), ("step", step), ("default", default)):
            if value is not None and not _is_number(value):
                raise self._fail(
                    f"{arg} must be a number, received {arg}={value!r} ({type(value).__name__})",
                    "Pass numbers to hp.Float.",
                )
        object.__setattr__(self, "min_value", float(min_value))
        object.__setattr__(self, "max_value", float(max_value))
        object.__setattr__(self, "step", None if step is None else float(step))
        object.__setattr__(self, "sampling", sampling)
        object.__setattr__(self, "default_value", None if default is None else float(default))
        self._validate_numerical()

    def contains(self, value: Any) -> bool:
        if not _is_number(value) or not math.isfinite(value):
            return False
        lo, hi = self.min_value, self.max_value
        tol = 1e-12 * max(1.0, abs(lo), abs(hi))
        if not lo - tol <= value <= hi + tol:
            return False
        return self.step is None or self._on_step(value)

    def grid_count(self) -> int | None:
        if self.step is None:
            return 1 if self.min_value == self.max_value else None
        return self._n_steps()

    def grid_values(self) -> tuple[float, ...] | None:
        if self.step is None:
            return (self.min_value,) if self.min_value == self.max_value else None
        return tuple(self._grid_value(i) for i in range(self._n_steps()))

    def from_unit(self, u: float) -> float:
        u = min(max(float(u), 0.0), 1.0)
        if self.step is None:
            value = self._scale(u, self.max_value)
            return min(max(value, self.min_value), self.max_value)
        return self._grid_value(_index_from_unit(u, self._n_steps()))

    def to_unit(self, value: Any) -> float:
        if self.step is None:
            return min(max(self._unscale(float(value), self.max_value), 0.0), 1.0)
        return _unit_from_index(int(round(self._index_of(float(value)))), self._n_steps())

    @property
    def values(self) -> tuple[float, ...]:
        """KerasTuner's ``values``: the grid, or ten evenly spread points for a continuous range."""
        grid = self.grid_values()
        if grid is not None:
            return grid
        return tuple(self.from_unit(i * 0.1 + 0.05) for i in range(10))

    def _own_config(self) -> dict[str, Any]:
        return self._numerical_config()

    def __repr__(self) -> str:
        return (
            f"Float(name='{self.name}', min_value={self.min_value}, max_value={self.max_value}, "
            f"step={self.step}, sampling='{self.sampling}', default={self.default})"
        )


@dataclasses.dataclass(frozen=True, init=False)
class Choice(HyperParameter):
    """One value among a list of values of one type (int, float, str or bool)."""

    values: tuple[Any, ...] = ()
    ordered: bool = False
    default_value: Any = None

    kind: ClassVar[str] = "Choice"

    def __init__(
        self,
        name: str,
        values: Sequence[Any],
        ordered: bool | None = None,
        default: Any = None,
        *,
        conditions: Sequence[Parent] = (),
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "conditions", tuple(conditions))
        _check_name(name)
        if isinstance(values, (str, bytes)) or values is None:
            raise self._fail(f"values must be a list, received {values!r}", "Pass a list such as ['adam', 'sgd'].")
        values = [_plain(v) for v in values]
        default = _plain(default)
        if not values:
            raise self._fail("received an empty list of values", "Pass at least one value.")
        types = {type(v) for v in values}
        if not types <= {int, float, str, bool}:
            bad = sorted(t.__name__ for t in types - {int, float, str, bool})
            raise self._fail(
                f"values may be int, float, str or bool; received values={values} with types {bad}",
                "Convert the values to one of those types (e.g. use names for objects).",
                type_error=True,
            )
        if len(types) > 1:
            raise self._fail(
                f"all values must have one type; received values={values} with types "
                f"{sorted(t.__name__ for t in types)}",
                "Make them one type, e.g. [0.5, 1.0, 2.0] rather than [0.5, 1, 2].",
                type_error=True,
            )
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            raise self._fail(
                f"values must be finite numbers, received {values}",
                "Leave NaN and infinity out; they cannot be compared or stored as JSON.",
            )
        if len(set(values)) != len(values):
            raise self._fail(f"values contain duplicates: {values}", "List each value once.")
        is_numeric = types <= {int, float}
        if ordered is None:
            ordered = is_numeric
        elif ordered and not is_numeric:
            raise self._fail(
                f"ordered=True needs numeric values, received {values}",
                "Pass ordered=False (the default for str and bool values).",
            )
        if default is not None and not any(default == v and type(default) is type(v) for v in values):
            if not (isinstance(default, int) and not isinstance(default, bool) and float in types and default in values):
                raise self._fail(
                    f"default={default!r} is not among the values {values}",
                    "Pass a default that is one of the values, or leave it out (the first value).",
                )
            default = float(default)
        object.__setattr__(self, "values", tuple(values))
        object.__setattr__(self, "ordered", bool(ordered))
        object.__setattr__(self, "default_value", default)

    @property
    def default(self) -> Any:
        return self.values[0] if self.default_value is None else self.default_value

    def contains(self, value: Any) -> bool:
        return any(value == v and isinstance(value, bool) == isinstance(v, bool) for v in self.values)

    def grid_values(self) -> tuple[Any, ...]:
        return self.values

    def from_unit(self, u: float) -> Any:
        return self.values[_index_from_unit(min(max(float(u), 0.0), 1.0), len(self.values))]

    def to_unit(self, value: Any) -> float:
        return _unit_from_index(self.values.index(value), len(self.values))

    def _own_config(self) -> dict[str, Any]:
        return {"values": list(self.values), "ordered": self.ordered, "default": self.default_value}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HyperParameter:
        config = dict(config)
        conditions = tuple(Parent.from_config(c) for c in config.pop("conditions", []) or [])
        return cls(
            config["name"], config["values"], ordered=config.get("ordered"), default=config.get("default"),
            conditions=conditions,
        )

    def __repr__(self) -> str:
        return f"Choice(name='{self.name}', values={list(self.values)}, ordered={self.ordered}, default={self.default!r})"


@dataclasses.dataclass(frozen=True, init=False)
class Boolean(HyperParameter):
    default_value: bool = False

    kind: ClassVar[str] = "Boolean"

    def __init__(self, name: str, default: bool = False, *, conditions: Sequence[Parent] = ()) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "conditions", tuple(conditions))
        _check_name(name)
        default = _plain(default)
        if default is None:
            default = False
        if not isinstance(default, bool):
            raise self._fail(f"default must be True or False, received {default!r}", "Pass a bool default.")
        object.__setattr__(self, "default_value", default)

    @property
    def default(self) -> bool:
        return self.default_value

    def contains(self, value: Any) -> bool:
        return isinstance(value, bool)

    def grid_values(self) -> tuple[bool, ...]:
        return (False, True)

    def from_unit(self, u: float) -> bool:
        return bool(float(u) >= 0.5)

    def to_unit(self, value: Any) -> float:
        return 0.75 if value else 0.25

    def _own_config(self) -> dict[str, Any]:
        return {"default": self.default_value}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HyperParameter:
        config = dict(config)
        conditions = tuple(Parent.from_config(c) for c in config.pop("conditions", []) or [])
        return cls(config["name"], default=config.get("default", False), conditions=conditions)

    def __repr__(self) -> str:
        return f"Boolean(name='{self.name}', default={self.default})"


@dataclasses.dataclass(frozen=True, init=False)
class Fixed(HyperParameter):
    """A constant recorded with the trial; never tuned."""

    value: Any = None

    kind: ClassVar[str] = "Fixed"

    def __init__(self, name: str, value: Any, *, conditions: Sequence[Parent] = ()) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "conditions", tuple(conditions))
        _check_name(name)
        value = _plain(value)
        if isinstance(value, float) and not math.isfinite(value):
            raise self._fail(
                f"value must be a finite number, received {value!r}",
                "Use a finite value; NaN and infinity cannot be compared or stored as JSON.",
            )
        if value is not None and not isinstance(value, (int, float, str, bool)):
            raise self._fail(
                f"value must be an int, float, str, bool or None, received {value!r} ({type(value).__name__})",
                "Store a name or number and build the object from it inside build(hp).",
            )
        object.__setattr__(self, "value", value)

    @property
    def default(self) -> Any:
        return self.value

    def contains(self, value: Any) -> bool:
        return value == self.value

    def grid_values(self) -> tuple[Any, ...]:
        return (self.value,)

    def from_unit(self, u: float) -> Any:
        return self.value

    def to_unit(self, value: Any) -> float:
        return 0.5

    def _own_config(self) -> dict[str, Any]:
        return {"value": self.value}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HyperParameter:
        config = dict(config)
        conditions = tuple(Parent.from_config(c) for c in config.pop("conditions", []) or [])
        return cls(config["name"], config.get("value"), conditions=conditions)

    def __repr__(self) -> str:
        return f"Fixed(name='{self.name}', value={self.value!r})"


_CLASSES: dict[str, type[HyperParameter]] = {c.kind: c for c in (Int, Float, Choice, Boolean, Fixed)}


def serialize(hp: HyperParameter) -> dict[str, Any]:
    return {"class_name": hp.kind, "config": hp.get_config()}


def deserialize(config: Mapping[str, Any]) -> HyperParameter:
    class_name = config.get("class_name")
    if class_name not in _CLASSES:
        raise SearchSpaceError(
            f"Unknown hyperparameter class {class_name!r} in a stored space; expected one of {sorted(_CLASSES)}."
        )
    return _CLASSES[class_name].from_config(config["config"])
