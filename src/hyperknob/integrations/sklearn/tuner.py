"""KerasTuner's ``SklearnTuner``: each trial builds an estimator from ``hp`` and cross-validates it.

Unlike KerasTuner's, it imports without Keras, its score is exactly scikit-learn's
``cross_val_score(...).mean()``, and nothing is pickled: ``get_best_models()`` refits the best
configurations on the data of the last ``search()`` (as ``GridSearchCV(refit=True)`` does) instead
of unpickling a file that could run code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sklearn.model_selection import KFold

from hyperknob.integrations.sklearn.cross_validation import (
    cross_validate_config,
    fit_params,
    fold_means,
    scorers_for,
)
from hyperknob.objective import DefaultObjective, Objective
from hyperknob.oracles.oracle import Oracle
from hyperknob.study.trial import Trial
from hyperknob.tuners.base_tuner import BaseTuner

__all__ = ["SklearnTuner"]


class SklearnTuner(BaseTuner):
    """Cross-validated search over scikit-learn estimators (any estimator or pipeline).

    Args:
        oracle: any hyperknob oracle; without an objective it optimises ``Objective("score", "max")``
            (KerasTuner asks you to set exactly that).
        hypermodel: ``build(hp)`` returning an unfitted estimator.
        scoring: a scikit-learn scoring (a name such as ``"accuracy"``, or a scorer); None uses the
            estimator's ``score``.
        metrics: extra ``sklearn.metrics`` functions ``f(y_true, y_pred)``, recorded per trial.
        cv: a splitter or a number of folds; default ``KFold(5, shuffle=True, random_state=1)``.
        n_jobs: folds fitted in parallel (scikit-learn's ``n_jobs``).
    """

    def __init__(
        self,
        oracle: Oracle,
        hypermodel: Any,
        scoring: Any = None,
        metrics: Callable[..., float] | Sequence[Callable[..., float]] | None = None,
        cv: Any = None,
        n_jobs: int | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(oracle, Oracle) and isinstance(oracle.objective, DefaultObjective):
            oracle.objective = Objective("score", "max")
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)
        self.scoring = scoring
        if metrics is None:
            metrics = []
        # A list or tuple of functions, or one function.
        self.metrics: list[Any] = list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]
        self.cv = cv if cv is not None else KFold(5, shuffle=True, random_state=1)
        self.n_jobs = n_jobs
        self._data: tuple[Any, Any, Any] | None = None

    def search(self, X: Any, y: Any = None, sample_weight: Any = None, groups: Any = None, verbose: int = 1) -> None:
        """Cross-validate configurations until the oracle stops; ``groups`` go to the splitter."""
        self._data = (X, y, sample_weight)
        super().search(X, y, sample_weight=sample_weight, groups=groups, verbose=verbose)

    def run_trial(
        self, trial: Trial, X: Any, y: Any = None, sample_weight: Any = None, groups: Any = None, verbose: int = 1
    ) -> dict[str, float]:
        model = self._build(trial)
        scorers = scorers_for(model, self.scoring, self.metrics)
        results = cross_validate_config(
            model, X, y, scoring=scorers, cv=self.cv, groups=groups, sample_weight=sample_weight, n_jobs=self.n_jobs,
            error_score="raise",
        )
        return fold_means(results, list(scorers))

    def _build(self, trial: Trial) -> Any:
        if self.hypermodel is None:
            raise ValueError("SklearnTuner needs hypermodel=build_fn returning an estimator.")
        model = self.hypermodel.build(trial.hyperparameters)
        if model is None or not hasattr(model, "fit"):
            raise TypeError(f"build(hp) must return a scikit-learn estimator, received {model!r}.")
        return model

    def load_model(self, trial: Trial) -> Any:
        """The trial's estimator fitted on all the data of the last ``search()``."""
        if self._data is None:
            raise RuntimeError(
                "get_best_models() refits the best configurations on the search's data, and this tuner has not "
                "searched yet: call tuner.search(X, y) first (a finished search resumes without new trials)."
            )
        X, y, sample_weight = self._data
        model = self._build(trial)
        model.fit(X, y, **fit_params(model, sample_weight))
        return model
