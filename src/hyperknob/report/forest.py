"""A study's completed trials as a matrix in the unit cube, and a random forest over it read as
piecewise-constant boxes: what fANOVA, partial dependence and the ablation path are computed from.

Each parameter is one column: its unit-cube position (``to_unit``; a choice's category is the middle
of its own equal slice of [0, 1]). A conditional parameter that is inactive in a trial is drawn
uniformly at random (seeded) there: the score does not depend on it in that branch, and random
values say so to the forest without telling it which branch the trial took; so the branch's effect
lands on the parameter that chose the branch, never on its children.

The forest is scikit-learn's (``pip install 'hyperknob[sklearn]'``). Each tree is a bootstrap
replicate of the trials, so the spread of a quantity over the trees is its uncertainty.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.objective import objective_directions
from hyperknob.space.encoding import is_categorical
from hyperknob.space.parameters import Choice, Fixed, HyperParameter
from hyperknob.study.best_trials import objective_values_of

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = ["MAX_MODELLED_TRIALS", "MIN_TRIALS", "Column", "Forest", "TooFewTrials", "TrialMatrix", "trial_matrix"]

MIN_TRIALS = 5  # fewer completed trials tell nothing about importance
MAX_MODELLED_TRIALS = 2000  # a long study is modelled from a sample (the best tenth always in it)
N_TREES = 64


class TooFewTrials(ValueError):
    """The study has too few completed trials with a finite score to say what matters."""


@dataclasses.dataclass(frozen=True)
class Column:
    """One parameter: its first definition, whether it is a category, how many values it has."""

    name: str
    hp: HyperParameter
    categorical: bool  # a choice (ordered or not) or a boolean: equal slices of [0, 1]
    n_values: int | None  # a choice's number of values; None for a numeric range
    conditional: bool  # inactive in some trials


@dataclasses.dataclass
class TrialMatrix:
    """The trials as the models see them: ``x`` in [0, 1] (inactive values drawn), ``y`` the
    target as stored (``maximise`` says which way is better)."""

    columns: list[Column]
    x: np.ndarray
    active: np.ndarray
    y: np.ndarray
    maximise: bool
    trials: list[FrozenTrial]
    target: str  # the name of what is explained: the objective, or a Pareto study's first objective
    note: str  # what a reader should know about the target ("" when nothing)
    n_completed: int  # completed trials with a finite target, before any sampling

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def best_index(self) -> int:
        return int(np.argmax(self.y) if self.maximise else np.argmin(self.y))


def _target(study: Study) -> tuple[str, bool, str, Any]:
    """What is explained and how to read it from a trial: a Pareto study's first objective."""
    directions = objective_directions(study.objective)
    if directions:
        name, direction = directions[0]
        others = ", ".join(n for n, _ in directions[1:])
        note = f"Importance for {name}, the first objective of this Pareto study ({others} not considered)."
        return name, direction == "max", note, lambda t: objective_values_of(t, study.objective)[0]
    return study.objective.name, study.direction.value == "max", "", lambda t: t.score


def _sample(trials: list[FrozenTrial], y: np.ndarray, limit: int, seed: int, maximise: bool) -> np.ndarray:
    """Indices of at most ``limit`` trials: the best tenth always, the rest a seeded sample."""
    if len(trials) <= limit:
        return np.arange(len(trials))
    order = np.argsort(-y if maximise else y, kind="stable")
    top, rest = order[: limit // 10], order[limit // 10 :]
    picked = np.random.default_rng(seed).choice(rest, size=limit - len(top), replace=False)
    return np.sort(np.concatenate([top, picked]))


def _columns(study: Study, trials: Sequence[FrozenTrial]) -> list[tuple[str, list[HyperParameter]]]:
    by_name: dict[str, list[HyperParameter]] = {}
    for hp in study.space:
        if not isinstance(hp, Fixed):
            by_name.setdefault(hp.name, []).append(hp)
    return [(name, hps) for name, hps in by_name.items() if any(name in t.values for t in trials)]


def _unit(hps: Sequence[HyperParameter], values: Any, name: str) -> float:
    """The trial's value of ``name`` in the unit cube under its active definition; NaN if inactive."""
    if name not in values:
        return math.nan
    for hp in hps:
        if hp.is_active(values):
            try:
                return float(hp.to_unit(values[name]))
            except Exception:  # noqa: BLE001 - a value outside the current definition
                return math.nan
    return math.nan


def trial_matrix(study: Study, seed: int = 0, max_trials: int = MAX_MODELLED_TRIALS) -> TrialMatrix:
    """The completed trials of ``study`` with a finite target, as a matrix; raises ``TooFewTrials``
    (a ``ValueError``) with what to do when there are fewer than ``MIN_TRIALS``."""
    target, maximise, note, read = _target(study)
    everything = study.get_trials()
    done = [t for t in everything if t.status == TrialStatus.COMPLETED and t.has_finite_score()]
    ys = [float(read(t)) for t in done]
    keep = [i for i, v in enumerate(ys) if math.isfinite(v)]
    done, y = [done[i] for i in keep], np.array([ys[i] for i in keep], dtype=float)
    specs = _columns(study, done)
    if len(done) < MIN_TRIALS or not specs:
        others = len(everything) - len(done)
        why = "no tuned parameter" if not specs and len(done) >= MIN_TRIALS else (
            f"{len(done)} completed trial(s) with a score" + (f" ({others} other trial(s) failed, pruned or running)"
                                                            if others else ""))
        raise TooFewTrials(
            f"Importance needs at least {MIN_TRIALS} completed trials and a tuned parameter; study "
            f"'{study.name}' has {why}. Run more trials first (study.optimize(..., n_trials=...))."
        )
    picked = _sample(done, y, max_trials, seed, maximise)
    done, y = [done[i] for i in picked], y[picked]
    x = np.array([[_unit(hps, t.values, name) for name, hps in specs] for t in done], dtype=float)
    active = ~np.isnan(x)
    columns = []
    rng = np.random.default_rng(seed)
    for j, (name, hps) in enumerate(specs):
        hp = hps[0]
        categorical = is_categorical(hp) or isinstance(hp, Choice)
        n_values = len(hp.grid_values() or ()) if categorical else None
        columns.append(Column(name, hp, categorical, n_values, not bool(active[:, j].all())))
        missing = ~active[:, j]
        if missing.any():
            if n_values:
                x[missing, j] = (rng.integers(0, n_values, int(missing.sum())) + 0.5) / n_values
            else:
                x[missing, j] = rng.random(int(missing.sum()))
    return TrialMatrix(columns, x, active, y, maximise, done, target, note, len(keep))


@dataclasses.dataclass
class Tree:
    """One fitted tree as its leaves' boxes in [0, 1]^d: ``lo``/``hi`` (leaves x d), each leaf's
    value, volume, and the mean and variance of the tree's function over the cube."""

    lo: np.ndarray
    hi: np.ndarray
    value: np.ndarray
    volume: np.ndarray
    mean: float
    variance: float
    used: frozenset[int]  # the columns the tree splits on


def _tree_boxes(estimator: Any, columns: Sequence[Column]) -> Tree:
    tree = estimator.tree_
    left, right, feature, threshold = tree.children_left, tree.children_right, tree.feature, tree.threshold
    d = len(columns)
    lo, hi = np.zeros((tree.node_count, d)), np.ones((tree.node_count, d))
    frontier = np.array([0])
    while frontier.size:  # level by level: each child inherits its parent's box, cut at the threshold
        inner = frontier[left[frontier] != -1]
        if not inner.size:
            break
        f, t = feature[inner], np.clip(threshold[inner], 0.0, 1.0)
        for children, is_left in ((left[inner], True), (right[inner], False)):
            lo[children], hi[children] = lo[inner], hi[inner]
            if is_left:
                hi[children, f] = np.minimum(hi[children, f], t)
            else:
                lo[children, f] = np.maximum(lo[children, f], t)
        frontier = np.concatenate([left[inner], right[inner]])
    leaves = np.flatnonzero(left == -1)
    lo, hi = lo[leaves], hi[leaves]
    for j, column in enumerate(columns):  # a category owns its whole slice of [0, 1]
        if column.n_values:
            k = column.n_values
            lo[:, j], hi[:, j] = np.round(lo[:, j] * k) / k, np.round(hi[:, j] * k) / k
    value = np.asarray(tree.value[leaves, 0, 0], dtype=float)
    volume = np.prod(hi - lo, axis=1)
    mean = float(value @ volume)
    variance = max(float((value**2) @ volume) - mean**2, 0.0)
    used = frozenset(int(f) for f in np.unique(feature[left != -1]))
    return Tree(lo, hi, value, volume, mean, variance, used)


def _others_volume(tree: Tree, features: Sequence[int]) -> np.ndarray:
    """Each leaf's volume in the dimensions other than ``features``."""
    widths = tree.hi - tree.lo
    keep = np.ones(widths.shape[1], dtype=bool)
    keep[list(features)] = False
    return np.prod(widths[:, keep], axis=1)


def marginal_1d(tree: Tree, j: int) -> tuple[np.ndarray, np.ndarray]:
    """The tree's function averaged over every column but ``j``: (edges, values on each segment
    between consecutive edges), exact for a piecewise-constant tree."""
    a, b = tree.lo[:, j], tree.hi[:, j]
    weight = tree.value * _others_volume(tree, [j])
    edges = np.unique(np.concatenate([[0.0, 1.0], a, b]))
    diff = np.zeros(edges.size)
    np.add.at(diff, np.searchsorted(edges, a), weight)
    np.add.at(diff, np.searchsorted(edges, b), -weight)
    return edges, np.cumsum(diff)[:-1]


def main_variance(tree: Tree, j: int) -> float:
    """The variance of column ``j``'s main effect under the uniform measure on the cube."""
    if j not in tree.used:
        return 0.0
    edges, values = marginal_1d(tree, j)
    return max(float((values**2) @ np.diff(edges)) - tree.mean**2, 0.0)


def pair_variance(tree: Tree, i: int, j: int) -> float:
    """The variance of the function of columns ``i`` and ``j`` together (main effects included)."""
    ai, bi, aj, bj = tree.lo[:, i], tree.hi[:, i], tree.lo[:, j], tree.hi[:, j]
    weight = tree.value * _others_volume(tree, [i, j])
    ei, ej = np.unique(np.concatenate([[0.0, 1.0], ai, bi])), np.unique(np.concatenate([[0.0, 1.0], aj, bj]))
    li, ui = np.searchsorted(ei, ai), np.searchsorted(ei, bi)
    lj, uj = np.searchsorted(ej, aj), np.searchsorted(ej, bj)
    grid = np.zeros((ei.size, ej.size))
    np.add.at(grid, (li, lj), weight)
    np.add.at(grid, (li, uj), -weight)
    np.add.at(grid, (ui, lj), -weight)
    np.add.at(grid, (ui, uj), weight)
    values = np.cumsum(np.cumsum(grid, axis=0), axis=1)[:-1, :-1]
    return max(float(np.diff(ei) @ (values**2) @ np.diff(ej)) - tree.mean**2, 0.0)


def _sklearn_forest(n_trees: int, seed: int) -> Any:
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError("Parameter importance needs scikit-learn: pip install 'hyperknob[sklearn]'.") from exc
    return RandomForestRegressor(n_estimators=n_trees, min_samples_leaf=1, random_state=seed, n_jobs=1)


class Forest:
    """A random forest fitted to a ``TrialMatrix``, with each tree read as boxes (``trees``)."""

    def __init__(self, matrix: TrialMatrix, seed: int = 0, n_trees: int = N_TREES) -> None:
        self.matrix = matrix
        scale = float(np.std(matrix.y)) or 1.0
        self._shift, self._scale = float(np.mean(matrix.y)), scale
        self.model = _sklearn_forest(n_trees, seed).fit(matrix.x, (matrix.y - self._shift) / scale)
        self.trees = [_tree_boxes(e, matrix.columns) for e in self.model.estimators_]
        self.split_importance = np.asarray(self.model.feature_importances_, dtype=float)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Each tree's prediction (trees x rows), in the target's units."""
        rows = np.atleast_2d(np.asarray(x, dtype=float))
        return np.array([e.predict(rows) for e in self.model.estimators_]) * self._scale + self._shift

    def partial_dependence(self, j: int, points: np.ndarray) -> np.ndarray:
        """Each tree's average prediction with column ``j`` at ``points`` (trees x points), every
        other column averaged over [0, 1] (the uniform measure fANOVA uses)."""
        out = np.empty((len(self.trees), len(points)))
        for k, tree in enumerate(self.trees):
            edges, values = marginal_1d(tree, j)
            where = np.clip(np.searchsorted(edges, points, side="right") - 1, 0, values.size - 1)
            out[k] = values[where]
        return out * self._scale + self._shift
