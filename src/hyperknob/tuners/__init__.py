"""KerasTuner-shaped tuners (``kt.tuners.RandomSearch`` etc.)."""

from hyperknob.tuners.base_tuner import BaseTuner
from hyperknob.tuners.model_tuners import TPE, BayesianOptimization
from hyperknob.tuners.schedule_tuners import ASHA, BOHB, Hyperband
from hyperknob.tuners.search_tuners import GridSearch, RandomSearch
from hyperknob.tuners.tuner import Tuner

__all__ = [
    "ASHA", "BOHB", "TPE", "BaseTuner", "Hyperband", "SklearnTuner", "BayesianOptimization", "GridSearch",
    "RandomSearch", "Tuner",
]


def __getattr__(name: str) -> object:
    # SklearnTuner imports scikit-learn: only when asked for, so `hyperknob.tuners` stays light.
    if name == "SklearnTuner":
        from hyperknob.integrations.sklearn.tuner import SklearnTuner

        return SklearnTuner
    raise AttributeError(f"module 'hyperknob.tuners' has no attribute {name!r}")
