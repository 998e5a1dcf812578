"""hyperknob: hyperparameter tuning for Keras, scikit-learn and any Python objective.

A KerasTuner script runs after changing ``import keras_tuner as kt`` to ``import hyperknob as kt``.
Names are loaded on first use, so ``import hyperknob`` stays fast and imports no framework.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from hyperknob import _fork_safety  # noqa: F401  (before any framework import; see its docstring)

__version__ = "0.1.0"

_EXPORTS = {
    # KerasTuner's names
    "HyperParameters": "hyperknob.space.hyperparameters",
    "HyperModel": "hyperknob.hypermodel",
    "Objective": "hyperknob.objective",
    "Constraint": "hyperknob.constraints",
    "Oracle": "hyperknob.oracles.oracle",
    "RandomSearchOracle": "hyperknob.oracles.search_oracles",
    "GridSearchOracle": "hyperknob.oracles.search_oracles",
    "synchronized": "hyperknob.oracles.oracle",
    "BaseTuner": "hyperknob.tuners.base_tuner",
    "Tuner": "hyperknob.tuners.tuner",
    "RandomSearch": "hyperknob.tuners.search_tuners",
    "GridSearch": "hyperknob.tuners.search_tuners",
    "BayesianOptimization": "hyperknob.tuners.model_tuners",
    "TPE": "hyperknob.tuners.model_tuners",
    "BayesianOptimizationOracle": "hyperknob.oracles.model_oracles",
    "TPEOracle": "hyperknob.oracles.model_oracles",
    "Hyperband": "hyperknob.tuners.schedule_tuners",
    "SklearnTuner": "hyperknob.integrations.sklearn.tuner",
    "HyperSearchCV": "hyperknob.integrations.sklearn.search_cv",
    "HyperbandOracle": "hyperknob.oracles.schedule_oracles",
    # hyperknob's own schedules and pruners
    "ASHA": "hyperknob.tuners.schedule_tuners",
    "BOHB": "hyperknob.tuners.schedule_tuners",
    "ASHAOracle": "hyperknob.oracles.schedule_oracles",
    "BOHBOracle": "hyperknob.oracles.schedule_oracles",
    "HyperbandScheduler": "hyperknob.schedulers",
    "ASHAScheduler": "hyperknob.schedulers",
    "MedianPruner": "hyperknob.schedulers",
    "SuccessiveHalvingPruner": "hyperknob.schedulers",
    "TrialPruned": "hyperknob.exceptions",
    "Trial": "hyperknob.study.trial",
    # the plain door
    "Study": "hyperknob.study.study",
    "create_study": "hyperknob.study.factory",
    "load_study": "hyperknob.study.factory",
    "optimize": "hyperknob.study.factory",
    "StudyCallback": "hyperknob.study.callbacks",
    "TrialStatus": "hyperknob._types",
    "FrozenTrial": "hyperknob._types",
}
_MODULES = {
    "errors": "hyperknob.errors",
    "exceptions": "hyperknob.exceptions",
    "oracles": "hyperknob.oracles",
    "tuners": "hyperknob.tuners",
    "samplers": "hyperknob.samplers",
    "schedulers": "hyperknob.schedulers",
    "space": "hyperknob.space",
    "storage": "hyperknob.storage",
    "engine": "hyperknob.engine",
    "applications": "hyperknob.applications",
}

__all__ = sorted([*_EXPORTS, *_MODULES, "__version__"])

logging.getLogger("hyperknob").addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    else:
        raise AttributeError(f"module 'hyperknob' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
