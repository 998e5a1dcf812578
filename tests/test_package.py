"""The package surface: what `import hyperknob` costs and exposes."""

from __future__ import annotations

import subprocess
import sys

import hyperknob

PUBLIC = {
    "BaseTuner", "BayesianOptimization", "Constraint", "BayesianOptimizationOracle", "TPE", "TPEOracle", "FrozenTrial", "GridSearch", "GridSearchOracle", "HyperModel", "HyperParameters", "Objective",
    "Oracle", "RandomSearch", "RandomSearchOracle", "Study", "StudyCallback", "Trial", "TrialStatus", "Tuner",
    "__version__", "applications", "create_study", "engine", "errors", "exceptions", "load_study", "optimize", "oracles", "samplers",
    "space", "storage", "synchronized", "tuners",
    # multi-fidelity schedules and pruning (issue 6)
    "ASHA", "ASHAOracle", "ASHAScheduler", "BOHB", "BOHBOracle", "Hyperband", "HyperbandOracle", "HyperbandScheduler",
    "MedianPruner", "SuccessiveHalvingPruner", "TrialPruned", "schedulers",
    "SklearnTuner", "HyperSearchCV",
}


def test_public_surface_is_pinned():
    assert set(hyperknob.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(hyperknob, name) is not None


def test_import_pulls_in_no_framework():
    code = (
        "import sys, hyperknob\n"
        "hyperknob.RandomSearch, hyperknob.create_study, hyperknob.HyperParameters\n"
        "heavy = [m for m in ('keras', 'tensorflow', 'torch', 'jax', 'sklearn') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_keras_tuner_error_names_are_available():
    import hyperknob as kt

    assert issubclass(kt.errors.FatalValueError, kt.errors.FatalError)
    assert issubclass(kt.errors.FatalRuntimeError, RuntimeError)
    assert kt.errors.FailedTrialError.__name__ == "FailedTrialError"
