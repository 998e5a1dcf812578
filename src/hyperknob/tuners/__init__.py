"""KerasTuner-shaped tuners (``kt.tuners.RandomSearch`` etc.)."""

from hyperknob.tuners.base_tuner import BaseTuner
from hyperknob.tuners.model_tuners import TPE, BayesianOptimization
from hyperknob.tuners.schedule_tuners import ASHA, BOHB, Hyperband
from hyperknob.tuners.search_tuners import GridSearch, RandomSearch
from hyperknob.tuners.tuner import Tuner

__all__ = ["ASHA", "BOHB", "TPE", "BaseTuner", "Hyperband", "BayesianOptimization", "GridSearch", "RandomSearch", "Tuner"]
