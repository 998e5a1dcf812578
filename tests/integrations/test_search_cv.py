"""HyperSearchCV against scikit-learn's own searches, on data shipped with scikit-learn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
from scipy.stats import loguniform, randint, uniform
from sklearn import datasets, ensemble, linear_model, pipeline, preprocessing, svm, tree
from sklearn.model_selection import GridSearchCV

import hyperknob as hk
from hyperknob._types import TrialStatus


@pytest.fixture(scope="module")
def iris():
    return datasets.load_iris(return_X_y=True)


def by_params(results, key="mean_test_score"):
    return {tuple(sorted(p.items(), key=lambda kv: kv[0])): s for p, s in zip(results["params"], results[key], strict=True)}


def test_the_same_grid_gives_gridsearchcvs_results(iris):
    X, y = iris
    grid = {"C": [0.1, 1.0, 10.0], "kernel": ["linear", "rbf"], "shrinking": [True, False]}
    theirs = GridSearchCV(svm.SVC(), grid, cv=3).fit(X, y)
    ours = hk.HyperSearchCV(svm.SVC(), grid, algorithm="grid", n_trials=100, cv=3).fit(X, y)
    assert set(ours.cv_results_) == set(theirs.cv_results_)
    assert len(ours.cv_results_["params"]) == 12
    for key in ("mean_test_score", "std_test_score", "split0_test_score", "split2_test_score"):
        assert by_params(ours.cv_results_, key) == pytest.approx(by_params(theirs.cv_results_, key))
    assert by_params(ours.cv_results_, "rank_test_score") == by_params(theirs.cv_results_, "rank_test_score")
    assert ours.best_score_ == theirs.best_score_
    assert ours.cv_results_["mean_test_score"][ours.best_index_] == ours.best_score_
    assert theirs.cv_results_["mean_test_score"][theirs.best_index_] == ours.best_score_
    assert np.array_equal(ours.predict(X), ours.best_estimator_.predict(X))
    assert ours.score(X, y) == ours.best_estimator_.score(X, y)


def test_distributions_lists_and_multi_metric_scoring(iris):
    X, y = iris
    space = {
        "C": loguniform(1e-3, 1e2),
        "tol": uniform(1e-5, 1e-3),
        "max_iter": randint(200, 400),
        "class_weight": [None, "balanced"],  # mixed types: chosen by position, passed as the objects
    }
    search = hk.HyperSearchCV(
        linear_model.LogisticRegression(), space, algorithm="tpe", n_trials=12, random_state=0,
        scoring={"acc": "accuracy", "f1": "f1_macro"}, refit="f1", cv=4,
    ).fit(X, y)
    results = search.cv_results_
    assert {"mean_test_acc", "mean_test_f1", "rank_test_f1", "split3_test_acc"} <= set(results)
    assert len(results["params"]) == 12
    for params in results["params"]:
        assert 1e-3 <= params["C"] <= 1e2 and 1e-5 <= params["tol"] <= 1e-5 + 1e-3
        assert 200 <= params["max_iter"] <= 399 and isinstance(params["max_iter"], int)
        assert params["class_weight"] in (None, "balanced")
    assert search.best_score_ == max(results["mean_test_f1"])
    assert search.predict_proba(X[:3]).shape == (3, 3)
    with pytest.raises(ValueError, match="refit must be the name"):
        hk.HyperSearchCV(linear_model.LogisticRegression(), {"C": [1.0]}, scoring=["accuracy", "f1_macro"]).fit(X, y)


def test_a_pipeline_refit_callable_and_no_refit(iris):
    X, y = iris
    pipe = pipeline.Pipeline([("scale", preprocessing.StandardScaler()), ("clf", linear_model.LogisticRegression())])
    space = {"clf__C": hk.space.Float("clf__C", 1e-2, 1e2, sampling="log")}

    def lowest_c_within_one_percent(results):
        best = np.max(results["mean_test_score"])
        ok = [i for i, s in enumerate(results["mean_test_score"]) if s >= best - 0.01]
        return min(ok, key=lambda i: results["params"][i]["clf__C"])

    search = hk.HyperSearchCV(pipe, space, algorithm="gp", n_trials=8, random_state=1, refit=lowest_c_within_one_percent).fit(X, y)
    assert search.best_index_ == lowest_c_within_one_percent(search.cv_results_)
    assert search.best_estimator_.named_steps["clf"].C == search.best_params_["clf__C"]
    plain = hk.HyperSearchCV(pipe, space, algorithm="random", n_trials=3, refit=False).fit(X, y)
    assert not hasattr(plain, "best_estimator_") and hasattr(plain, "best_params_")


def test_failing_fits_follow_error_score(iris):
    X, y = iris
    space = {"max_depth": [-1, 2, 3]}  # max_depth=-1 is refused in fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = hk.HyperSearchCV(tree.DecisionTreeClassifier(random_state=0), space, algorithm="grid", n_trials=3).fit(X, y)
    results = search.cv_results_
    bad = [i for i, p in enumerate(results["params"]) if p["max_depth"] == -1]
    assert len(results["params"]) == 3 and len(bad) == 1
    assert np.isnan(results["mean_test_score"][bad[0]]) and results["rank_test_score"][bad[0]] == 3
    assert search.best_params_["max_depth"] in (2, 3)
    assert [t.status for t in search.study_.trials].count(TrialStatus.FAILED) == 1
    with pytest.raises(ValueError, match="max_depth"):
        hk.HyperSearchCV(tree.DecisionTreeClassifier(), space, algorithm="grid", n_trials=3, error_score="raise").fit(X, y)


def test_a_search_in_a_directory_resumes(tmp_path, iris):
    X, y = iris
    space = {"n_estimators": hk.space.Int("n_estimators", 5, 30), "max_depth": [2, 3, 4]}

    def search(n):
        return hk.HyperSearchCV(ensemble.RandomForestClassifier(random_state=0), space, n_trials=n, random_state=3,
                                directory=str(tmp_path), project_name="rf", cv=3)

    first = search(4).fit(X, y)
    assert len(first.cv_results_["params"]) == 4
    more = search(6).fit(X, y)  # 2 new candidates; the first 4 are read back, not refitted
    assert len(more.cv_results_["params"]) == 6
    assert more.cv_results_["params"][:4] == first.cv_results_["params"]
    assert hk.load_study(str(tmp_path), "rf").best_value == more.best_score_


def test_bad_spaces_say_what_is_accepted():
    X, y = datasets.load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="is not a search space entry"):
        hk.HyperSearchCV(svm.SVC(), {"C": 3.0}).fit(X, y)
    from scipy.stats import norm

    with pytest.raises(ValueError, match="scipy.stats.norm is not supported"):
        hk.HyperSearchCV(svm.SVC(), {"C": norm(1, 2)}).fit(X, y)


@pytest.mark.parametrize("inner", [linear_model.LogisticRegression(), linear_model.Ridge()], ids=["classifier", "regressor"])
def test_scikit_learn_estimator_checks(inner):
    """scikit-learn's own check_estimator suite, every check, for a classifier and a regressor."""
    from sklearn.utils.estimator_checks import check_estimator

    param = "C" if isinstance(inner, linear_model.LogisticRegression) else "alpha"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(hk.HyperSearchCV(inner, {param: [0.1, 1.0]}, n_trials=2, cv=2), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert len(results) > 40 and not failed


def test_successive_halving_on_samples_spends_less_and_picks_from_the_largest_budget():
    X, y = datasets.load_digits(return_X_y=True)
    space = {"C": loguniform(1e-2, 1e3), "gamma": loguniform(1e-5, 1e-1)}
    search = hk.HyperSearchCV(svm.SVC(), space, algorithm="hyperband", n_trials=200, cv=3, random_state=0).fit(X, y)
    results = search.cv_results_
    assert {"iter", "n_resources"} <= set(results)
    assert sorted(set(results["n_resources"])) == [67, 200, 599, 1797]
    n_candidates = len({tuple(sorted(p.items())) for p in results["params"]})
    # Every candidate trained on all samples would cost n_candidates * 1797 samples per fold.
    assert results["n_resources"].sum() < 0.5 * n_candidates * len(y)
    assert results["n_resources"][search.best_index_] == len(y)
    full = results["mean_test_score"][results["n_resources"] == len(y)]
    assert search.best_score_ == max(full) > 0.95


def test_successive_halving_on_an_estimator_parameter():
    X, y = datasets.load_iris(return_X_y=True)
    search = hk.HyperSearchCV(
        ensemble.RandomForestClassifier(random_state=0), {"max_depth": [2, 3, None]}, algorithm="asha",
        resource="n_estimators", min_resources=2, max_resources=18, n_trials=20, cv=3,
    ).fit(X, y)
    results = search.cv_results_
    assert set(results["n_resources"]) <= {2, 6, 18} and 18 in set(results["n_resources"])
    assert all(p["n_estimators"] == n for p, n in zip(results["params"], results["n_resources"], strict=True))
    assert search.best_params_["n_estimators"] == 18 == search.best_estimator_.n_estimators
    with pytest.raises(ValueError, match="needs max_resources"):
        hk.HyperSearchCV(ensemble.RandomForestClassifier(), {"max_depth": [2]}, algorithm="asha", resource="n_estimators").fit(X, y)
    with pytest.raises(ValueError, match="neither 'n_samples' nor a parameter"):
        hk.HyperSearchCV(svm.SVC(), {"C": [1.0]}, algorithm="hyperband", resource="n_estimators", max_resources=5).fit(X, y)


def test_a_search_warm_started_from_another_data_set_and_with_defaults_first(iris):
    wine = datasets.load_wine(return_X_y=True)
    from hyperknob.space.parameters import Float

    space = {"C": Float("svc__C", 1e-3, 1e3, sampling="log", default=1.0),
             "gamma": Float("svc__gamma", 1e-4, 1.0, sampling="log", default=0.01)}
    model = pipeline.make_pipeline(preprocessing.StandardScaler(), svm.SVC())
    space = {f"svc__{k}": v for k, v in space.items()}
    source = hk.HyperSearchCV(model, space, algorithm="random", n_trials=20, random_state=0, cv=3).fit(*wine)
    search = hk.HyperSearchCV(model, space, algorithm="tpe", n_trials=6, random_state=0, cv=3,
                              warm_start=[source.study_], enqueue_defaults=True).fit(*iris)
    first = search.study_.trials[0]
    assert first.user_attrs["enqueued"] == "defaults" and dict(first.values) == {"svc__C": 1.0, "svc__gamma": 0.01}
    assert len(search.cv_results_["params"]) == 6  # the source's 20 candidates are not this search's
    (summary,) = search.study_.warm_start.summaries
    assert summary.trials == 20 and summary.used == ["svc__C", "svc__gamma"]


def test_a_pareto_search_of_accuracy_against_tree_size():
    X, y = datasets.load_digits(return_X_y=True)

    def leaves(estimator, X_, y_):
        return -float(estimator.get_n_leaves())  # higher is better for a scorer: fewer leaves

    search = hk.HyperSearchCV(
        tree.DecisionTreeClassifier(random_state=0), {"max_depth": randint(1, 16), "min_samples_leaf": randint(1, 30)},
        scoring={"accuracy": "accuracy", "leaves": leaves}, refit="accuracy", pareto=True, n_trials=12, cv=3,
        random_state=0, algorithm="random",
    )
    search.fit(X, y)
    acc, size = search.cv_results_["mean_test_accuracy"], search.cv_results_["mean_test_leaves"]
    front = {i for i in range(len(acc))
             if not any(acc[j] >= acc[i] and size[j] >= size[i] and (acc[j] > acc[i] or size[j] > size[i])
                        for j in range(len(acc)))}
    assert set(search.pareto_front_) == front and len(front) >= 2
    assert search.best_index_ in front and acc[search.best_index_] == acc.max()  # the front's most accurate
    with pytest.raises(ValueError, match="pareto=True needs several metrics"):
        hk.HyperSearchCV(tree.DecisionTreeClassifier(), {"max_depth": randint(1, 5)}, pareto=True).fit(X, y)
