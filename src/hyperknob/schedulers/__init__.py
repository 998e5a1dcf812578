"""Schedulers decide WHEN to stop or promote trials; see ``base.Scheduler`` and ``pruners.Pruner``."""

from __future__ import annotations

from typing import Any

from hyperknob.samplers import Sampler, make_sampler
from hyperknob.schedulers.asha import ASHAScheduler
from hyperknob.schedulers.base import Scheduler
from hyperknob.schedulers.hyperband import HyperbandScheduler, hyperband_table
from hyperknob.schedulers.pruners import (
    MedianPruner,
    Pruner,
    SuccessiveHalvingPruner,
    make_pruner,
)

__all__ = [
    "ASHAScheduler",
    "HyperbandScheduler",
    "MedianPruner",
    "Pruner",
    "Scheduler",
    "SuccessiveHalvingPruner",
    "hyperband_table",
    "make_pruner",
    "sampler_from_config",
]

_SCHEDULERS: dict[str, type[Scheduler]] = {"hyperband": HyperbandScheduler, "asha": ASHAScheduler}


def sampler_from_config(name: str, config: dict[str, Any] | None = None) -> Sampler:
    """The sampler or scheduler a stored study was created with (its name and stored settings)."""
    if name in _SCHEDULERS:
        scheduler = _SCHEDULERS[name]
        settings = {k: v for k, v in (config or {}).items() if k != "name"}
        return scheduler(**{**scheduler.CONFIG_DEFAULTS, **settings})
    return make_sampler(name)
