"""``algorithm="auto"``: the model-based sampler that suits the space and the study's length.

A Gaussian process is the stronger model on small numeric spaces and budgets up to a few hundred
trials (and its cost grows with the cube of the trials it has seen); TPE handles conditional and
large spaces, and long studies, at a cost that stays flat. ``AutoSampler`` decides at every
proposal from what is known then (the declared space, the finished trials), so a define-by-run
space learned from the first trial is taken into account, and a long study moves from the GP to
TPE. Both start with random configurations, so the choice made before any result is harmless.
The choice is visible: ``describe()`` (the display and ``hyperknob summary``) and each trial's
``user_attrs["algorithm"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from hyperknob.samplers.base import Sampler, TrialsView
from hyperknob.space.parameters import HyperParameter

__all__ = ["AutoSampler"]


class AutoSampler(Sampler):
    """GP for unconditional spaces of at most ``gp_max_dims`` parameters while fewer than
    ``gp_max_trials`` trials have finished; TPE otherwise, and for a Pareto search NSGA-II once
    ``nsga2_after`` trials have finished. For several objectives the GP models ParEGO's
    scalarisation and TPE splits by front (see ``samplers._gp_targets``)."""

    name = "auto"
    models_results = True

    def __init__(self, gp_max_dims: int = 12, gp_max_trials: int = 250, nsga2_after: int = 1000) -> None:
        self.gp_max_dims = int(gp_max_dims)
        self.nsga2_after = int(nsga2_after)
        self.gp_max_trials = int(gp_max_trials)
        from hyperknob.samplers.gp import GPSampler
        from hyperknob.samplers.nsga2 import NSGAIISampler
        from hyperknob.samplers.tpe import TPESampler

        # All built now, in the process that creates the study: their modules (scipy's among
        # them, about a second to import) are then shared by forked workers instead of imported
        # by each worker at its first model-based proposal.
        self._samplers: dict[str, Sampler] = {"gp": GPSampler(), "tpe": TPESampler(), "nsga2": NSGAIISampler()}
        self.chosen: str | None = None
        self.reason = "nothing proposed yet"

    def choose(self, space: Sequence[HyperParameter], finished: int) -> tuple[str, str]:
        """(``"gp"`` or ``"tpe"``, why) for a study with ``finished`` finished trials."""
        conditional = [hp.name for hp in space if hp.conditions]
        if conditional:
            return "tpe", f"conditional parameters ({', '.join(conditional[:3])})"
        if len(space) > self.gp_max_dims:
            return "tpe", f"{len(space)} parameters, more than {self.gp_max_dims}"
        if finished >= self.gp_max_trials:
            return "tpe", f"{finished} finished trials, {self.gp_max_trials} or more"
        return "gp", f"{len(space)} unconditional parameters, under {self.gp_max_trials} trials"

    def propose(
        self, space: Sequence[HyperParameter], view: TrialsView, rng: np.random.Generator
    ) -> dict[str, Any] | Literal["idle"] | None:
        self.chosen, self.reason = self.choose(space, len(view.finished()))
        if view.objectives and self.chosen == "tpe" and len(view.finished()) >= self.nsga2_after:
            # A long Pareto search: NSGA-II's population keeps the whole front moving at a flat cost.
            self.chosen, self.reason = "nsga2", f"a Pareto search past {self.nsga2_after} finished trials"
        return self._samplers[self.chosen].propose(space, view, rng)

    def startup_trials(self, space: Sequence[HyperParameter]) -> int:
        return self._samplers[self.chosen or self.choose(space, 0)[0]].startup_trials(space)

    def suggest(self, hp: HyperParameter, rng: np.random.Generator) -> Any:
        return self._samplers[self.chosen or "tpe"].suggest(hp, rng)

    def describe(self) -> str:
        return "auto" if self.chosen is None else f"auto: {self.chosen} ({self.reason})"

    def exhausted_message(self) -> str:
        return self._samplers[self.chosen or "tpe"].exhausted_message()
