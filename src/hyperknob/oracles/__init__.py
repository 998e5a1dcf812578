"""KerasTuner-shaped oracles (``kt.oracles.RandomSearchOracle`` etc.)."""

from hyperknob.oracles.oracle import Oracle
from hyperknob.oracles.search_oracles import GridSearchOracle, RandomSearchOracle

__all__ = ["GridSearchOracle", "Oracle", "RandomSearchOracle"]
