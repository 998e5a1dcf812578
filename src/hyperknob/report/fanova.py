"""fANOVA (Hutter, Hoos and Leyton-Brown, 2014): how much of the score's variance each parameter,
and each pair of parameters, explains, over a random forest fitted to the trials.

A regression tree is constant on boxes, so its functional-ANOVA decomposition under the uniform
measure on the unit cube is exact and cheap: a parameter's main effect is the tree averaged over
every other column (a step function, built from the leaves with one cumulative sum), and a pair's
is the same on a grid of the two columns' split points (``forest.marginal_1d``/``pair_variance``).
Each tree is fitted to a bootstrap sample of the trials, so the 5th-95th percentile of a share
over the trees is its 90% interval.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np

from hyperknob.report.forest import N_TREES, Forest, TrialMatrix, main_variance, pair_variance, trial_matrix
from hyperknob.report.importances import Estimate, Importances, PairEstimate

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = ["MAX_PAIRED", "fanova", "fanova_of_forest"]

MAX_PAIRED = 8  # pairs among the parameters the forest splits on most (28 pairs at most)


def _interval(samples: np.ndarray) -> tuple[float, float, float]:
    low, high = np.percentile(samples, [5, 95])
    return float(samples.mean()), float(low), float(high)


def fanova_of_forest(forest: Forest, max_paired: int = MAX_PAIRED) -> Importances:
    """fANOVA shares from an already fitted forest (so that advice can reuse one fit)."""
    matrix = forest.matrix
    trees = [t for t in forest.trees if t.variance > 1e-12]
    d = len(matrix.columns)
    if not trees:  # every tree constant: the score never varied, so nothing explains it
        zero = [Estimate(c.name, 0.0, 0.0, 0.0) for c in matrix.columns]
        return _result(matrix, zero, [])
    shares = np.array([[main_variance(t, j) / t.variance for j in range(d)] for t in trees])
    main = [Estimate(c.name, *_interval(shares[:, j])) for j, c in enumerate(matrix.columns)]
    # Pairs among the columns the forest used most (which also catches a pure interaction, whose
    # columns have no main effect but are split on everywhere).
    paired = sorted(np.argsort(-forest.split_importance, kind="stable")[:max_paired].tolist())
    pairs = []
    for i, j in itertools.combinations(paired, 2):
        values = np.array([
            max(pair_variance(t, i, j) - main_variance(t, i) - main_variance(t, j), 0.0) / t.variance
            if i in t.used and j in t.used else 0.0
            for t in trees
        ])
        pairs.append(PairEstimate((matrix.columns[i].name, matrix.columns[j].name), *_interval(values)))
    return _result(matrix, main, pairs)


def _result(matrix: TrialMatrix, main: list[Estimate], pairs: list[PairEstimate]) -> Importances:
    best = dict(matrix.trials[matrix.best_index()].values)
    return Importances(
        "fanova", matrix.target, matrix.maximise, len(matrix.trials),
        sorted(main, key=lambda e: (-e.value, e.name)), sorted(pairs, key=lambda p: (-p.value, p.names)),
        matrix.note, {c.name: best[c.name] for c in matrix.columns if c.name in best},
    )


def fanova(study: Study, seed: int = 0, n_trees: int = N_TREES) -> Importances:
    """fANOVA main effects and pairwise interactions of ``study``'s completed trials, with 90%
    intervals from the spread over the forest's ``n_trees`` bootstrap trees."""
    return fanova_of_forest(Forest(trial_matrix(study, seed), seed, n_trees))
