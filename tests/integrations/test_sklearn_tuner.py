"""SklearnTuner: KerasTuner's meaning, scikit-learn's scores, no pickle, no Keras needed."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import hyperknob as hk
from hyperknob._types import TrialStatus

# The module skips without scikit-learn, so its imports follow the skip.
sklearn = pytest.importorskip("sklearn")
from sklearn import datasets, ensemble, linear_model, metrics, pipeline, preprocessing  # noqa: E402
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score  # noqa: E402


def build_model(hp):
    kind = hp.Choice("model_type", ["random_forest", "ridge"])
    if kind == "random_forest":
        with hp.conditional_scope("model_type", "random_forest"):
            return ensemble.RandomForestClassifier(
                n_estimators=hp.Int("n_estimators", 5, 20, step=5), max_depth=hp.Int("max_depth", 2, 6), random_state=0
            )
    with hp.conditional_scope("model_type", "ridge"):
        return linear_model.RidgeClassifier(alpha=hp.Float("alpha", 1e-3, 1.0, sampling="log"))


@pytest.fixture(scope="module")
def iris():
    return datasets.load_iris(return_X_y=True)


def test_scores_equal_cross_val_score_and_metrics_are_recorded(tmp_path, iris):
    X, y = iris
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    tuner = hk.SklearnTuner(
        oracle=hk.oracles.RandomSearchOracle(objective=hk.Objective("score", "max"), max_trials=5, seed=1),
        hypermodel=build_model, scoring=metrics.make_scorer(metrics.balanced_accuracy_score),
        metrics=[metrics.accuracy_score], cv=cv, directory=str(tmp_path), project_name="iris",
    )
    tuner.search(X, y, verbose=0)
    trials = tuner.oracle.get_best_trials(5)
    assert len(trials) == 5 and all(t.status == TrialStatus.COMPLETED for t in trials)
    for trial in trials:
        expected = cross_val_score(
            build_model(trial.hyperparameters.copy()), X, y, cv=cv, scoring="balanced_accuracy"
        ).mean()
        assert trial.score == pytest.approx(expected, abs=1e-12)
        accuracy = cross_val_score(build_model(trial.hyperparameters.copy()), X, y, cv=cv, scoring="accuracy").mean()
        assert trial.metrics.get_last_value("accuracy_score") == pytest.approx(accuracy, abs=1e-12)
    best = tuner.get_best_models(1)[0]
    assert hasattr(best, "predict") and best.score(X, y) > 0.8  # fitted on all the data


def test_default_objective_and_scoring(tmp_path, iris):
    """No objective: 'score', maximised; no scoring: the estimator's own score (accuracy)."""
    X, y = iris
    tuner = hk.SklearnTuner(
        oracle=hk.oracles.RandomSearchOracle(max_trials=2, seed=0), hypermodel=build_model,
        directory=str(tmp_path), project_name="d",
    )
    tuner.search(X, y, verbose=0)
    assert tuner.oracle.objective == hk.Objective("score", "max")
    trial = tuner.oracle.get_best_trials(1)[0]
    cv = KFold(5, shuffle=True, random_state=1)
    assert trial.score == pytest.approx(cross_val_score(build_model(trial.hyperparameters.copy()), X, y, cv=cv).mean())


def test_a_pipeline_with_sample_weights_and_groups(tmp_path):
    from sklearn.model_selection import GroupKFold

    X, y = datasets.load_breast_cancer(return_X_y=True)
    X, y = X[:200], y[:200]
    groups = np.arange(len(y)) % 4
    weights = np.where(y == 1, 1.0, 2.0)

    def build(hp):
        return pipeline.make_pipeline(
            preprocessing.StandardScaler(), linear_model.LogisticRegression(C=hp.Float("C", 1e-2, 10, sampling="log"))
        )

    tuner = hk.SklearnTuner(
        oracle=hk.oracles.BayesianOptimizationOracle(objective=hk.Objective("score", "max"), max_trials=4, seed=2),
        hypermodel=build, cv=GroupKFold(4), directory=str(tmp_path), project_name="p",
    )
    tuner.search(X, y, sample_weight=weights, groups=groups, verbose=0)
    trial = tuner.oracle.get_best_trials(1)[0]
    assert trial.score == pytest.approx(cross_val_score(build(trial.hyperparameters.copy()), X, y, groups=groups, cv=GroupKFold(4)).mean())


def test_a_failing_fit_is_a_failed_trial_and_the_search_goes_on(tmp_path, iris):
    X, y = iris

    def build(hp):
        alpha = hp.Float("alpha", -1.0, 1.0)
        return linear_model.RidgeClassifier(alpha=alpha)  # a negative alpha fails in fit

    tuner = hk.SklearnTuner(
        oracle=hk.oracles.RandomSearchOracle(max_trials=8, seed=3, max_consecutive_failed_trials=None),
        hypermodel=build, directory=str(tmp_path), project_name="f",
    )
    tuner.search(X, y, verbose=0)
    trials = tuner.oracle.study.trials
    failed = [t for t in trials if t.status == TrialStatus.FAILED]
    assert len(trials) == 8 and failed and len(failed) < 8
    assert all(t.values["alpha"] < 0 for t in failed)
    assert "alpha" in failed[0].message


def test_best_models_of_a_reopened_search_need_its_data(tmp_path, iris):
    X, y = iris

    def tuner():
        return hk.SklearnTuner(oracle=hk.oracles.RandomSearchOracle(max_trials=2, seed=0), hypermodel=build_model,
                               directory=str(tmp_path), project_name="n")

    tuner().search(X, y, verbose=0)
    reopened = tuner()
    with pytest.raises(RuntimeError, match="call tuner.search\\(X, y\\) first"):
        reopened.get_best_models(1)
    reopened.search(X, y, verbose=0)  # nothing left to run: it only remembers the data
    assert len(reopened.oracle.study.trials) == 2
    assert reopened.get_best_models(1)[0].score(X, y) > 0.8


def test_runs_without_keras_installed(tmp_path):
    """A child process where importing keras fails: SklearnTuner still imports and searches."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('keras', 'tensorflow', 'torch', 'jax'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import hyperknob as kt\n"
        "from sklearn import datasets, linear_model\n"
        "X, y = datasets.load_iris(return_X_y=True)\n"
        "t = kt.SklearnTuner(oracle=kt.oracles.TPEOracle(max_trials=3, seed=0),\n"
        "    hypermodel=lambda hp: linear_model.LogisticRegression(C=hp.Float('C', 0.01, 10, sampling='log'), max_iter=500),\n"
        f"    directory={str(tmp_path)!r}, project_name='nk')\n"
        "t.search(X, y, verbose=0)\n"
        "print(len(t.oracle.study.trials), t.oracle.get_best_trials(1)[0].score > 0.9, 'keras' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ}, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["3", "True", "False"]
