"""Grid search: every combination exactly once, in a stable order, the default configuration first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperknob.samplers.base import Sampler, TrialsView
from hyperknob.space.parameters import HyperParameter
from hyperknob.space.search_space import config_key, iter_grid

__all__ = ["GridSampler"]


class GridSampler(Sampler):
    """Walks the grid with the last-declared parameter varying fastest (KerasTuner's order).

    Continuous floats contribute ten evenly spread points; give them a ``step`` to choose the grid.
    """

    name = "grid"

    def propose(
        self, space: Sequence[HyperParameter], view: TrialsView, rng: np.random.Generator
    ) -> dict[str, Any] | None:
        tried = view.tried_keys(space)
        for values in iter_grid(space):
            if config_key(values) not in tried:
                return values
        return None

    def suggest(self, hp: HyperParameter, rng: np.random.Generator) -> Any:
        # A parameter discovered mid-trial starts at its default; the grid covers it from then on.
        return hp.default

    def exhausted_message(self) -> str:
        return "the grid is complete: every combination has been tried"
