"""scikit-learn integration: ``SklearnTuner`` (KerasTuner's) and ``HyperSearchCV`` (a drop-in for
``GridSearchCV``/``RandomizedSearchCV`` with every hyperknob algorithm behind it).

Needs scikit-learn only, never Keras: ``pip install 'hyperknob[sklearn]'``.
"""

from __future__ import annotations

try:
    import sklearn  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in an environment without sklearn
    raise ModuleNotFoundError(
        "hyperknob's scikit-learn integration needs scikit-learn: pip install 'hyperknob[sklearn]'."
    ) from exc

from hyperknob.integrations.sklearn.cross_validation import cross_validate_config
from hyperknob.integrations.sklearn.search_cv import HyperSearchCV
from hyperknob.integrations.sklearn.tuner import SklearnTuner

__all__ = ["HyperSearchCV", "SklearnTuner", "cross_validate_config"]
