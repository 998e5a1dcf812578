"""Which of KerasTuner's public names resolve (attribute paths a ported script may use)."""

import importlib
import os

from dt_common import Facts

kt = importlib.import_module(os.environ["KT_MODULE"])  # the one switch line

F = Facts(kt)

GROUPS = {
    "top_level": [
        "HyperParameters", "HyperModel", "Objective", "Oracle", "Tuner", "RandomSearch", "GridSearch",
        "synchronized", "errors", "oracles", "tuners", "engine",
    ],
    "top_level_other_tuners": ["BayesianOptimization", "Hyperband", "SklearnTuner"],
    "errors": [
        "errors.FailedTrialError", "errors.FatalError", "errors.FatalValueError", "errors.FatalTypeError",
        "errors.FatalRuntimeError",
    ],
    "oracles": ["oracles.RandomSearchOracle", "oracles.GridSearchOracle"],
    "oracles_other": ["oracles.BayesianOptimizationOracle", "oracles.HyperbandOracle"],
    "tuners": ["tuners.RandomSearch", "tuners.GridSearch", "tuners.Tuner"],
    "engine": [
        "engine.base_tuner.BaseTuner", "engine.tuner.Tuner", "engine.oracle.Oracle", "engine.oracle.Objective",
        "engine.hypermodel.HyperModel", "engine.hyperparameters.HyperParameters",
        "engine.hyperparameters.HyperParameter", "engine.hyperparameters.Int", "engine.hyperparameters.Float",
        "engine.hyperparameters.Choice", "engine.hyperparameters.Boolean", "engine.hyperparameters.Fixed",
        "engine.trial.Trial", "engine.trial.TrialStatus",
    ],
}


def resolves(path):
    obj = kt
    for part in path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            return False
    return True


for _group, _paths in GROUPS.items():
    def _section(paths=_paths):
        return {p: resolves(p) for p in paths}

    _section.__name__ = _group
    F.section(_section)


@F.section
def error_hierarchy():
    e = kt.errors
    return {
        "FatalValueError": [issubclass(e.FatalValueError, e.FatalError), issubclass(e.FatalValueError, ValueError)],
        "FatalTypeError": [issubclass(e.FatalTypeError, e.FatalError), issubclass(e.FatalTypeError, TypeError)],
        "FatalRuntimeError": [issubclass(e.FatalRuntimeError, e.FatalError), issubclass(e.FatalRuntimeError, RuntimeError)],
        "FailedTrialError_is_fatal": issubclass(e.FailedTrialError, e.FatalError),
    }


@F.section
def trial_status_values():
    # The path kt.engine.trial.TrialStatus is checked in "engine"; here only the values matter.
    try:
        ts = kt.engine.trial.TrialStatus
    except AttributeError:
        ts = kt.TrialStatus
    return {name: str(getattr(ts, name)) for name in ("RUNNING", "IDLE", "INVALID", "STOPPED", "COMPLETED", "FAILED")}


@F.section
def standalone_hyperparameter_classes():
    hps = kt.engine.hyperparameters
    i = hps.Int("n", 1, 4)
    c = hps.Choice("c", ["a", "b"], default="b")
    return {"int_default": i.default, "int_name": i.name, "choice_default": c.default,
            "int_prob": i.prob_to_value(0.99), "choice_values": list(c.values)}


F.dump()
