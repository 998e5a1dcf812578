"""KerasTuner-shaped oracles (``kt.oracles.RandomSearchOracle`` etc.)."""

from hyperknob.oracles.model_oracles import BayesianOptimizationOracle, TPEOracle
from hyperknob.oracles.oracle import Oracle
from hyperknob.oracles.schedule_oracles import ASHAOracle, BOHBOracle, HyperbandOracle
from hyperknob.oracles.search_oracles import GridSearchOracle, RandomSearchOracle

# The short names older KerasTuner releases and guides use (``kt.oracles.BayesianOptimization``).
BayesianOptimization = BayesianOptimizationOracle
GridSearch = GridSearchOracle
Hyperband = HyperbandOracle
RandomSearch = RandomSearchOracle

__all__ = [
    "BayesianOptimization",
    "GridSearch",
    "Hyperband",
    "RandomSearch",
    "ASHAOracle",
    "BOHBOracle",
    "BayesianOptimizationOracle",
    "GridSearchOracle",
    "HyperbandOracle",
    "Oracle",
    "RandomSearchOracle",
    "TPEOracle",
]
