"""The one encoding of any space into the unit cube and back, for model-based samplers.

Numerical parameters and ordered choices take one dimension through ``to_unit``; unordered
choices and booleans take one dimension per value (one-hot, decoded by argmax); fixed values take
none. An inactive parameter's dimensions are NaN, so a model sees "absent", never a fake value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

import numpy as np

from hyperknob.space.parameters import Boolean, Choice, Fixed, HyperParameter
from hyperknob.space.search_space import values_by_walking

__all__ = ["UnitCubeEncoder", "is_categorical"]


def is_categorical(hp: HyperParameter) -> TypeGuard[Boolean | Choice]:
    """Unordered choices and booleans: encoded one-hot, never as ordinals."""
    return isinstance(hp, Boolean) or (isinstance(hp, Choice) and not hp.ordered)


class UnitCubeEncoder:
    """Maps configurations of one space to vectors in [0, 1]^d and back."""

    def __init__(self, space: Sequence[HyperParameter]) -> None:
        self.space = [hp for hp in space if not isinstance(hp, Fixed)]
        self._fixed = [hp for hp in space if isinstance(hp, Fixed)]
        self._all = list(space)
        self.slices: list[slice] = []
        start = 0
        for hp in self.space:
            width = len(hp.grid_values()) if is_categorical(hp) else 1
            self.slices.append(slice(start, start + width))
            start += width
        self.dim = start

    def encode(self, values: Mapping[str, Any]) -> np.ndarray:
        vector = np.full(self.dim, np.nan)
        used: set[str] = set()
        for hp, where in zip(self.space, self.slices, strict=False):
            if hp.name in used or hp.name not in values or not hp.is_active(values):
                continue
            used.add(hp.name)
            if is_categorical(hp):
                choices = list(hp.grid_values())
                if values[hp.name] not in choices:
                    continue  # a choice an older definition (or another study) had: unknown here
                one_hot = np.zeros(where.stop - where.start)
                one_hot[choices.index(values[hp.name])] = 1.0
                vector[where] = one_hot
            else:
                vector[where.start] = hp.to_unit(values[hp.name])
        return vector

    def decode(self, vector: np.ndarray) -> dict[str, Any]:
        by_id = {id(hp): where for hp, where in zip(self.space, self.slices, strict=False)}

        def choose(hp: HyperParameter) -> Any:
            if isinstance(hp, Fixed):
                return hp.value
            part = np.nan_to_num(np.asarray(vector[by_id[id(hp)]], dtype=float), nan=0.5)
            if is_categorical(hp):
                return hp.grid_values()[int(np.argmax(part))]
            return hp.from_unit(float(np.clip(part[0], 0.0, 1.0)))

        return values_by_walking(self._all, choose)
