"""Conditions that make a hyperparameter active only for some values of its parent."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from hyperknob.exceptions import SearchSpaceError

__all__ = ["Parent"]


def _normalise_values(name: str, values: Any) -> tuple[Any, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        values = [values]
    values = list(values)
    if not values:
        raise SearchSpaceError(
            f"conditional_scope('{name}', parent_values=[]) received no parent values; "
            "pass the list of parent values that activate the scope, e.g. ['cnn']."
        )
    for value in values:
        if not isinstance(value, (str, int, float, bool)):
            raise SearchSpaceError(
                f"conditional_scope('{name}', ...) received parent value {value!r} of type "
                f"{type(value).__name__}; parent values must be str, int, float or bool."
            )
    return tuple(values)


@dataclasses.dataclass(frozen=True)
class Parent:
    """Active when the parent hyperparameter ``name`` currently holds one of ``values``."""

    name: str
    values: tuple[Any, ...]

    def __init__(self, name: str, values: Any) -> None:
        object.__setattr__(self, "name", str(name))
        object.__setattr__(self, "values", _normalise_values(str(name), values))

    def is_active(self, values: Mapping[str, Any]) -> bool:
        if self.name not in values:
            return False
        current = values[self.name]
        # bool is an int in Python; keep True from matching 1 and the other way round.
        return any(current == v and isinstance(current, bool) == isinstance(v, bool) for v in self.values)

    def get_config(self) -> dict[str, Any]:
        return {"class_name": "Parent", "config": {"name": self.name, "values": list(self.values)}}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Parent:
        inner = config.get("config", config)
        return cls(inner["name"], inner["values"])
