"""``HyperSearchCV``: ``GridSearchCV``/``RandomizedSearchCV``'s interface with any hyperknob algorithm.

Each candidate is one trial of a study (in memory, or an SQLite file with ``directory=``, so a long
search resumes), cross-validated with scikit-learn's own ``cross_validate``. ``cv_results_`` has
``GridSearchCV``'s keys and shapes, so ``pandas.DataFrame(search.cv_results_)`` and code written for
scikit-learn's searches keep working.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.metrics import check_scoring
from sklearn.metrics._scorer import _check_multimetric_scoring
from sklearn.model_selection import check_cv, cross_validate
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, indexable

from hyperknob._types import TrialStatus
from hyperknob.exceptions import FatalRuntimeError
from hyperknob.integrations.sklearn.resources import (
    SCHEDULES,
    ResourceBudget,
    budget_for,
    make_schedule,
)
from hyperknob.integrations.sklearn.spaces import ParameterSpace
from hyperknob.objective import Objective
from hyperknob.schedulers.base import ROUND
from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.space.parameters import serialize

__all__ = ["HyperSearchCV"]


def _delegates(method: str) -> Callable[[Any], bool]:
    def check(self: Any) -> bool:
        if hasattr(self, "best_estimator_"):
            return hasattr(self.best_estimator_, method)
        return hasattr(self.estimator, method)

    return check


class HyperSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Cross-validated search over ``param_distributions`` with ``algorithm``.

    Args:
        estimator: the scikit-learn estimator (or pipeline) to tune.
        param_distributions: dict from parameter names to hyperknob parameters, lists of values
            or scipy.stats uniform/loguniform/randint (see ``spaces.ParameterSpace``).
        algorithm: ``"auto"`` (default: GP for small unconditional spaces, TPE for large or
            conditional ones and long searches), ``"tpe"``, ``"gp"``, ``"random"``, ``"grid"`` or a
            Sampler; or a
            successive-halving schedule, ``"hyperband"``, ``"asha"`` or ``"bohb"``, over ``resource``.
        n_trials: candidates to evaluate (a grid stops earlier when it is exhausted).
        n_iter: ``RandomizedSearchCV``'s name for ``n_trials``, accepted so that a port runs.
        scoring, cv, refit, n_jobs, error_score, return_train_score: as in ``GridSearchCV``;
            ``n_jobs`` fits the folds of a candidate in parallel.
        random_state: the study's seed.
        resource, min_resources, max_resources, factor: for the schedules, as in
            ``HalvingRandomSearchCV``: the budget is ``"n_samples"`` (training folds subsampled; by
            default up to all samples) or an estimator parameter such as ``"n_estimators"`` (then
            ``max_resources`` is required); each round keeps the best 1/``factor``.
        directory, project_name, storage: where the study lives; by default in memory. With a
            directory, a search interrupted and fitted again resumes instead of starting over.
        warm_start: earlier studies (a fitted search's ``study_``, project folders, ``(storage_url,
            study_name)`` pairs) whose results guide the algorithm (docs/warm-start.md).
        enqueue_defaults: evaluate the parameters' ``default=`` values first.
        pareto: with several metrics in ``scoring``, search their Pareto front (the refit metric
            first) instead of the refit metric alone; ``pareto_front_`` lists the front's indices.
        constraints: ``Constraint`` bounds on ``mean_test_<metric>`` values (or a function of the
            trial): a candidate that misses one is never ``best_index_``.
    """

    def __init__(
        self,
        estimator: Any,
        param_distributions: Mapping[str, Any],
        *,
        algorithm: Any = "auto",
        n_trials: int = 20,
        n_iter: int | None = None,
        scoring: Any = None,
        cv: Any = None,
        refit: bool | str | Callable[..., int] = True,
        n_jobs: int | None = None,
        random_state: int | None = None,
        error_score: Any = np.nan,
        return_train_score: bool = False,
        directory: str | None = None,
        project_name: str | None = None,
        storage: Any = None,
        verbose: int = 0,
        resource: str = "n_samples",
        min_resources: int | None = None,
        max_resources: int | None = None,
        factor: int = 3,
        warm_start: Any = None,
        enqueue_defaults: bool = False,
        pareto: bool = False,
        constraints: Any = None,
    ) -> None:
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.algorithm = algorithm
        self.n_trials = n_trials
        self.n_iter = n_iter
        self.scoring = scoring
        self.cv = cv
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.directory = directory
        self.project_name = project_name
        self.storage = storage
        self.verbose = verbose
        self.resource = resource
        self.min_resources = min_resources
        self.max_resources = max_resources
        self.factor = factor
        self.warm_start = warm_start
        self.enqueue_defaults = enqueue_defaults
        self.pareto = pareto
        self.constraints = constraints

    def __sklearn_tags__(self) -> Any:
        """The tuned estimator's kind and input tags (sparse input, pairwise kernels) are the search's."""
        import copy

        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = copy.deepcopy(inner.classifier_tags)
        tags.regressor_tags = copy.deepcopy(inner.regressor_tags)
        tags.target_tags = copy.deepcopy(inner.target_tags)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.pairwise = inner.input_tags.pairwise
        return tags

    def __getstate__(self) -> dict[str, Any]:
        # A fitted search pickles (joblib.dump) without its study, which holds a database
        # connection: the study stays where it is stored, cv_results_ travels with the estimator.
        state = super().__getstate__()
        state.pop("study_", None)
        return state

    # --- scoring ----------------------------------------------------------------------------------
    def _scorers(self) -> tuple[Any, bool, str]:
        if callable(self.scoring) or self.scoring is None or isinstance(self.scoring, str):
            return check_scoring(self.estimator, scoring=self.scoring), False, "score"
        scorers = _check_multimetric_scoring(self.estimator, self.scoring)
        if self.refit is True or (isinstance(self.refit, str) and self.refit not in scorers):
            raise ValueError(
                f"With several metrics in scoring, refit must be the name of the one to select the best candidate "
                f"by (one of {sorted(scorers)}), a callable, or False; received refit={self.refit!r}."
            )
        # The study optimises the refit metric; with refit=False or a callable, the first metric.
        key = self.refit if isinstance(self.refit, str) else next(iter(scorers))
        return scorers, True, key

    def _n_candidates(self) -> int:
        n_trials = self.n_trials
        if self.n_iter is not None:
            if n_trials not in (20, self.n_iter):
                raise ValueError(
                    f"n_iter={self.n_iter!r} and n_trials={n_trials!r} name the same budget: pass one of them."
                )
            n_trials = self.n_iter
        if not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials < 1:
            name = "n_iter" if self.n_iter is not None else "n_trials"
            raise ValueError(f"{name} must be a positive integer, received {n_trials!r}.")
        return n_trials

    # --- fitting ----------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, groups: Any = None, **fit_params: Any) -> HyperSearchCV:
        from hyperknob.study.factory import create_study

        n_trials = self._n_candidates()
        from sklearn.utils import get_tags

        if y is None and get_tags(self.estimator).target_tags.required:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        X, y, groups = indexable(X, y, groups)
        space = ParameterSpace(self.param_distributions)
        scorers, multimetric, key = self._scorers()
        cv = check_cv(self.cv, y, classifier=_is_classifier(self.estimator))
        names = list(scorers) if multimetric else ["score"]
        predefined = HyperParameters.from_config({"space": [serialize(p) for p in space.parameters], "values": {}})
        storage = self.storage if self.storage is not None else (None if self.directory else ":memory:")
        algorithm, budget = self.algorithm, None
        if isinstance(algorithm, str) and algorithm in SCHEDULES:
            budget = budget_for(self.estimator, self.resource, _num_samples(X), self.min_resources,
                                self.max_resources, self.factor)
            algorithm = make_schedule(algorithm, budget)
            splits = list(cv.split(X, y, groups))
        if self.pareto and not multimetric:
            raise ValueError(
                "pareto=True needs several metrics in scoring, e.g. scoring={'accuracy': 'accuracy', "
                "'speed': speed_scorer}, refit='accuracy'."
            )
        objective: Any = Objective(f"mean_test_{key}", "max")
        if self.pareto:  # the refit metric first: the front is ordered by it
            objective = [objective] + [Objective(f"mean_test_{n}", "max") for n in names if n != key]
        study = create_study(
            self.directory, self.project_name or "hyper_search_cv", storage=storage,
            objective=objective, algorithm=algorithm, seed=self.random_state,
            max_trials=n_trials, hyperparameters=predefined, max_consecutive_failed_trials=None,
            warm_start=self.warm_start, enqueue_defaults=self.enqueue_defaults, pareto=self.pareto,
            constraints=self.constraints,
        )
        raised: list[BaseException] = []

        def evaluate(hp: HyperParameters) -> dict[str, float]:
            params = space.to_estimator(hp.values)
            folds: Any = cv
            if budget is not None:
                amount = budget.amount(hp.values)
                if budget.resource == "n_samples":
                    seed = [self.random_state or 0, amount]  # the same subsample for every candidate of a budget
                    folds = list(budget.subsampled_splits(splits, _num_samples(X), amount, seed=seed))
                else:
                    params[budget.resource] = amount
            candidate = clone(self.estimator).set_params(**params)
            try:
                results = cross_validate(
                    candidate, X, y, groups=groups, scoring=scorers, cv=folds, n_jobs=self.n_jobs,
                    error_score=self.error_score, return_train_score=self.return_train_score,
                    params=dict(fit_params) or None,
                )
            except Exception as exc:
                if self.error_score == "raise":
                    raised.append(exc)
                    raise FatalRuntimeError(f"A fit failed and error_score='raise': {exc!r}") from exc
                raise
            return _trial_metrics(results, names, multimetric, self.return_train_score)

        try:
            study.optimize(evaluate, verbose=self.verbose)
        except FatalRuntimeError:
            if raised:
                raise raised[0] from None
            raise
        self.study_ = study
        self.multimetric_ = multimetric
        self.scorer_ = scorers
        self.n_splits_ = cv.get_n_splits(X, y, groups)
        self.cv_results_ = _cv_results(
            study, space, names, self.n_splits_, self.return_train_score, self.error_score, budget
        )
        self._select_best(key)
        if self.pareto or study.constrained:
            # The front's (or the feasible) candidates, as indices of cv_results_ (in trial order).
            index = {t.number: i for i, t in enumerate(
                t for t in study.trials if t.status in (TrialStatus.COMPLETED, TrialStatus.FAILED)
            )}
            self.pareto_front_ = [index[t.number] for t in study.best_trials if t.number in index]
            if not callable(self.refit) and study.get_best_trials(1):
                self.best_index_ = index[study.best_trial.number]
                self.best_score_ = float(self.cv_results_[f"mean_test_{key}"][self.best_index_])
                self.best_params_ = dict(self.cv_results_["params"][self.best_index_])
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_)
            started = time.perf_counter()
            self.best_estimator_.fit(X, y, **fit_params) if y is not None else self.best_estimator_.fit(X, **fit_params)
            self.refit_time_ = time.perf_counter() - started
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        if hasattr(X, "shape") and len(getattr(X, "shape", ())) > 1:
            self.n_features_in_ = X.shape[1]
        return self

    def _select_best(self, key: str) -> None:
        results = self.cv_results_
        if callable(self.refit):
            self.best_index_ = int(self.refit(results))
            if not 0 <= self.best_index_ < len(results["params"]):
                raise IndexError(f"The refit callable returned {self.best_index_}, not a candidate's index.")
        else:
            ranks = np.asarray(results[f"rank_test_{key}"], dtype=float)
            if "n_resources" in results:
                # As HalvingRandomSearchCV: the best of the candidates trained on the most resources.
                scored = ~np.isnan(results[f"mean_test_{key}"])
                most = np.max(results["n_resources"][scored]) if scored.any() else np.max(results["n_resources"])
                ranks = np.where(results["n_resources"] == most, ranks, np.inf)
            self.best_index_ = int(np.argmin(ranks))
            self.best_score_ = float(results[f"mean_test_{key}"][self.best_index_])
        self.best_params_ = dict(results["params"][self.best_index_])

    # --- the fitted estimator -------------------------------------------------------------------------
    @property
    def classes_(self) -> Any:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.classes_

    @available_if(_delegates("predict"))
    def predict(self, X: Any) -> Any:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    @available_if(_delegates("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    @available_if(_delegates("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_delegates("decision_function"))
    def decision_function(self, X: Any) -> Any:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.decision_function(X)

    @available_if(_delegates("transform"))
    def transform(self, X: Any) -> Any:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.transform(X)

    @available_if(_delegates("inverse_transform"))
    def inverse_transform(self, X: Any) -> Any:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.inverse_transform(X)

    def score(self, X: Any, y: Any = None) -> float:
        """The refit estimator's score with the search's scoring (its refit metric)."""
        check_is_fitted(self, "best_estimator_")
        scorer = self.scorer_[self.refit] if self.multimetric_ else self.scorer_
        return float(scorer(self.best_estimator_, X, y))


def _num_samples(X: Any) -> int:
    from sklearn.utils.validation import _num_samples as count

    return int(count(X))


def _is_classifier(estimator: Any) -> bool:
    from sklearn.base import is_classifier

    return is_classifier(estimator)


def _trial_metrics(
    results: Mapping[str, np.ndarray], names: list[str], multimetric: bool, train: bool
) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for name in names:
        for part in ("test", "train") if train else ("test",):
            scores = np.asarray(results[f"{part}_{name}" if multimetric else f"{part}_score"], dtype=float)
            for i, value in enumerate(scores):
                metrics[f"split{i}_{part}_{name}"] = float(value)
            metrics[f"mean_{part}_{name}"] = float(np.mean(scores))
            metrics[f"std_{part}_{name}"] = float(np.std(scores))
    for what in ("fit_time", "score_time"):
        metrics[f"mean_{what}"] = float(np.mean(results[what]))
        metrics[f"std_{what}"] = float(np.std(results[what]))
    return metrics


def _cv_results(
    study: Any, space: ParameterSpace, names: list[str], n_splits: int, train: bool, error_score: Any,
    budget: ResourceBudget | None = None,
) -> dict[str, Any]:
    """``GridSearchCV``'s ``cv_results_`` from the study's trials (in trial order)."""
    trials = [t for t in study.trials if t.status in (TrialStatus.COMPLETED, TrialStatus.FAILED)]
    fill = float(error_score) if isinstance(error_score, (int, float)) else np.nan

    def column(key: str) -> np.ndarray:
        out = []
        for t in trials:
            points = t.metrics.get(key, ())
            out.append(points[-1].value if points else fill)
        return np.asarray(out, dtype=float)

    results: dict[str, Any] = {}
    for what in ("fit_time", "score_time"):
        results[f"mean_{what}"] = column(f"mean_{what}")
        results[f"std_{what}"] = column(f"std_{what}")
    params = [space.to_estimator(t.values) for t in trials]
    if budget is not None:
        amounts = [budget.amount(t.values) for t in trials]
        results["iter"] = np.asarray([int(t.values.get(ROUND, 0)) for t in trials])
        results["n_resources"] = np.asarray(amounts)
        if budget.resource != "n_samples":
            for p, amount in zip(params, amounts, strict=True):
                p[budget.resource] = amount
    columns = [hp.name for hp in space.parameters]
    if budget is not None and budget.resource != "n_samples":
        columns.append(budget.resource)
    for name in columns:
        values = np.ma.MaskedArray(np.empty(len(trials), dtype=object), mask=True)
        for i, p in enumerate(params):
            if name in p:
                values[i] = p[name]
        results[f"param_{name}"] = values
    results["params"] = params
    for name in names:
        for part in ("test", "train") if train else ("test",):
            for i in range(n_splits):
                results[f"split{i}_{part}_{name}"] = column(f"split{i}_{part}_{name}")
            results[f"mean_{part}_{name}"] = column(f"mean_{part}_{name}")
            results[f"std_{part}_{name}"] = column(f"std_{part}_{name}")
            if part == "test":
                means = results[f"mean_test_{name}"]
                worst = np.where(np.isnan(means), -np.inf, means)
                results[f"rank_test_{name}"] = np.asarray(rankdata(-worst, method="min"), dtype=np.int32)
    return results
