"""The study's stored configuration: what a new study writes, and the check that a resumed study
is the search the caller asks for."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from hyperknob.constraints import Constraint, constraint_from_config
from hyperknob.exceptions import FatalValueError
from hyperknob.objective import Objective, objective_from_config
from hyperknob.samplers import Sampler
from hyperknob.schedulers import Scheduler
from hyperknob.space import parameters as P

__all__ = ["CONFIG_FORMAT", "check_compatible", "constraints_config", "new_study_config", "stored_constraints"]

logger = logging.getLogger("hyperknob")

CONFIG_FORMAT = 1


def new_study_config(
    objective: Objective,
    sampler: Sampler,
    seed: int | None,
    max_trials: int | None,
    predefined: Sequence[P.HyperParameter],
    liveness: Mapping[str, float],
) -> dict[str, Any]:
    """The JSON configuration a new study is created with (a resumed study keeps its own)."""
    return {
        "format": CONFIG_FORMAT,
        "objective": objective.get_config(),
        "algorithm": sampler.name,
        **({"algorithm_config": sampler.get_config()} if isinstance(sampler, Scheduler) else {}),
        "seed": int(seed) if seed is not None else secrets.randbits(32),
        "max_trials": max_trials,
        "space": [P.serialize(p) for p in predefined],
        "predefined": sorted({p.name for p in predefined}),
        **liveness,
    }


def check_compatible(stored: Mapping[str, Any], objective: Objective, seed: int | None, name: str, url: str) -> None:
    """Refuse to resume a study written in another format or for another objective; a different
    seed only warns (the stored one is kept, so the resumed search proposes what it would have)."""
    if stored.get("format") != CONFIG_FORMAT:
        raise FatalValueError(
            f"Study '{name}' in {url} was written in study format {stored.get('format')}; "
            f"this hyperknob writes format {CONFIG_FORMAT}. Use overwrite=True or another project_name."
        )
    stored_objective = objective_from_config(stored["objective"])
    if stored_objective != objective:
        raise FatalValueError(
            f"Study '{name}' was created with {stored_objective}, but this search asks for {objective}. "
            "Use the same objective to resume it, or overwrite=True / another project_name to start afresh."
        )
    if seed is not None and int(seed) != int(stored["seed"]):
        logger.warning(
            "Study '%s' resumes with its stored seed %s; the seed %s passed now is ignored.", name, stored["seed"], seed
        )


def constraints_config(constraints: Sequence[Constraint], function: Any) -> dict[str, Any]:
    """What a study stores of its constraints: the bounds (every worker applies them), and whether
    a function gave some (only processes that pass it can apply it)."""
    return {"constraints": [c.get_config() for c in constraints], "constraint_function": function is not None}


def stored_constraints(stored: Mapping[str, Any]) -> list[Constraint]:
    return [constraint_from_config(c) for c in stored.get("constraints", [])]
