"""The finite kinds: ``Choice`` (ordered or not), ``Boolean`` and ``Fixed``."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from hyperknob.space.conditions import Parent
from hyperknob.space.parameter_base import (
    HyperParameter,
    _check_name,
    _index_from_unit,
    _plain,
    _unit_from_index,
)

__all__ = ["Boolean", "Choice", "Fixed"]


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
            int_for_float = isinstance(default, int) and not isinstance(default, bool) and float in types
            if not (int_for_float and default in values):
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
        return (f"Choice(name='{self.name}', values={list(self.values)}, ordered={self.ordered}, "
                f"default={self.default!r})")


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
        same: bool = value == self.value
        return same

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
