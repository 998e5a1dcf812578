"""Cross-validating one configuration with scikit-learn's own ``cross_validate``, so a trial's score
is exactly what ``cross_val_score(...).mean()`` gives for the same estimator, data, cv and scoring."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sklearn
from sklearn.metrics import check_scoring, make_scorer
from sklearn.model_selection import cross_validate

__all__ = ["cross_validate_config", "fit_params", "fold_means", "scorers_for"]


def scorers_for(estimator: Any, scoring: Any, metrics: Sequence[Callable[..., float]] = ()) -> dict[str, Any]:
    """``{"score": the scoring (the estimator's own ``score`` when None), metric name: scorer}``.

    ``metrics`` are KerasTuner's extra ``sklearn.metrics`` functions ``f(y_true, y_pred)``; they are
    recorded and never optimised.
    """
    scorers = {"score": check_scoring(estimator, scoring=scoring)}
    for metric in metrics:
        scorers[getattr(metric, "__name__", str(metric))] = make_scorer(metric)
    return scorers


def fit_params(estimator: Any, sample_weight: Any) -> dict[str, Any]:
    if sample_weight is None:
        return {}
    if isinstance(estimator, sklearn.pipeline.Pipeline):
        return {}  # a pipeline routes sample weights per step; KerasTuner fits it without them
    if "sample_weight" not in inspect.signature(estimator.fit).parameters:
        return {}
    return {"sample_weight": sample_weight}


def cross_validate_config(
    estimator: Any,
    X: Any,
    y: Any = None,
    *,
    scoring: Any = None,
    cv: Any = None,
    groups: Any = None,
    sample_weight: Any = None,
    n_jobs: int | None = None,
    error_score: Any = np.nan,
    return_train_score: bool = False,
) -> dict[str, np.ndarray]:
    """``sklearn.model_selection.cross_validate`` with ``sample_weight`` passed to ``fit`` when the
    estimator takes it; returns its dict (``test_<name>``, ``fit_time``, ``score_time``, ...)."""
    params = fit_params(estimator, sample_weight)
    kwargs: dict[str, Any] = {"params": params} if params else {}
    return cross_validate(
        estimator, X, y, groups=groups, scoring=scoring, cv=cv, n_jobs=n_jobs, error_score=error_score,
        return_train_score=return_train_score, **kwargs,
    )


def fold_means(results: Mapping[str, np.ndarray], names: Sequence[str]) -> dict[str, float]:
    return {name: float(np.mean(results[f"test_{name}"])) for name in names}
