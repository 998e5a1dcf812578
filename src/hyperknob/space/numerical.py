"""The numeric kinds, ``Int`` and ``Float``: ranges with an optional step and linear, log or
reverse-log sampling."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from hyperknob.space.conditions import Parent
from hyperknob.space.parameter_base import (
    SAMPLINGS,
    HyperParameter,
    _check_name,
    _index_from_unit,
    _is_number,
    _tidy,
    _unit_from_index,
)

__all__ = ["Float", "Int"]


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
            grid = self.grid_values()
            assert grid is not None  # a stepped range always has a grid
            return min(grid)
        return self.min_value

    # --- continuous maps ------------------------------------------------------------------------
    def _scale(self, u: float, max_value: float) -> float:
        lo: float = self.min_value
        if self.sampling == "linear":
            return lo + u * (max_value - lo)
        if self.sampling == "log":
            return lo * math.pow(max_value / lo, u)
        return max_value + lo - lo * math.pow(max_value / lo, 1.0 - u)

    def _unscale(self, x: float, max_value: float) -> float:
        lo: float = self.min_value
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
        lo: float = self.min_value
        hi: float = self.max_value
        step: float = self.step
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
        lo: float = self.min_value
        hi: float = self.max_value
        return min(max(_tidy(raw, abs(neighbour - raw)), lo), hi)

    def _index_of(self, value: float) -> float:
        lo: float = self.min_value
        hi: float = self.max_value
        step: float = self.step
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
        # Int and Float take ``default``: their own constructors, not the dataclass's.
        make: Callable[..., HyperParameter] = cls
        return make(
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
            lo: int = self.min_value
            hi: int = self.max_value
            return min(max(value, lo), hi)
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
            lo: float = self.min_value
            hi: float = self.max_value
            return min(max(value, lo), hi)
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
