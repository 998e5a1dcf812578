"""Random search: independent uniform draws on each parameter's unit scale, never a repeat."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperknob.samplers.base import Sampler, TrialsView
from hyperknob.space.parameters import HyperParameter
from hyperknob.space.search_space import (
    config_key,
    grid_size,
    iter_grid,
    values_by_walking,
)

__all__ = ["RandomSampler"]

# Draws that may collide with tried configurations before the sampler checks, by enumeration,
# whether anything untried is left at all.
_COLLISIONS_BEFORE_ENUMERATING = 20
_MAX_ENUMERATED = 200_000
_MAX_COLLISIONS_CONTINUOUS = 1000


class RandomSampler(Sampler):
    name = "random"

    def propose(
        self, space: Sequence[HyperParameter], view: TrialsView, rng: np.random.Generator
    ) -> dict[str, Any] | None:
        tried = view.tried_keys(space)

        def draw() -> dict[str, Any]:
            return values_by_walking(space, lambda hp: hp.from_unit(float(rng.random())))

        for _ in range(_COLLISIONS_BEFORE_ENUMERATING):
            values = draw()
            if config_key(values) not in tried:
                return values
        size = grid_size(space, limit=_MAX_ENUMERATED)
        if size is not None:
            # A small finite space: choose uniformly among what is left, so the search ends only when
            # every configuration has truly been tried.
            untried = [v for v in iter_grid(space) if config_key(v) not in tried]
            if not untried:
                return None
            return untried[int(rng.integers(len(untried)))]
        for _ in range(_MAX_COLLISIONS_CONTINUOUS):
            values = draw()
            if config_key(values) not in tried:
                return values
        return None
