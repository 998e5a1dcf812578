"""What to do next, read from a forest fitted to the trials: partial dependence with an uncertainty
band, "the best trials sit at the edge of this range: widen it", "this parameter never mattered: fix
it", and the ablation path from the space's defaults to the best trial (which change bought how much).

The forest's trees are bootstrap replicates of the trials, so every curve and gain here comes with
the 5th-95th percentile over the trees.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperknob.report.fanova import fanova_of_forest
from hyperknob.report.forest import Forest, TrialMatrix, _unit, trial_matrix
from hyperknob.report.importances import MATTERS, Importances
from hyperknob.report.ped_anova import ped_anova_of_matrix
from hyperknob.space.search_space import values_by_walking

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = [
    "AblationStep", "PartialDependence", "ablation_path", "ablation_sentences", "advice", "edge_advice",
    "partial_dependence",
]

EDGE = 0.1  # the outer tenth of a range (in its unit-cube position, so log ranges by decade)
N_IMPUTED = 16  # random draws averaged over for a parameter a configuration leaves inactive


@dataclasses.dataclass(frozen=True)
class PartialDependence:
    """The predicted target at each value of one parameter, every other parameter averaged over
    its range: ``mean`` and the 90% band ``low``-``high`` over the forest's trees."""

    name: str
    target: str
    values: list[Any]
    mean: list[float]
    low: list[float]
    high: list[float]
    categorical: bool

    def best_value(self, maximise: bool) -> Any:
        return self.values[int(np.argmax(self.mean) if maximise else np.argmin(self.mean))]


@dataclasses.dataclass(frozen=True)
class AblationStep:
    """One change on the way from the defaults to the best trial: ``name`` from ``before`` to
    ``after`` (with any parameter that change switched on), the predicted target after it, and the
    predicted gain (positive: better) with its 90% interval over the trees."""

    name: str
    before: Any
    after: Any
    predicted: float
    gain: float
    low: float
    high: float


def _column(matrix: TrialMatrix, name: str) -> int:
    names = matrix.names
    if name not in names:
        raise KeyError(f"No modelled parameter named {name!r}; the parameters are: {', '.join(names)}.")
    return names.index(name)


def partial_dependence(study: Study, name: str, seed: int = 0, n_points: int = 25,
                       forest: Forest | None = None) -> PartialDependence:
    """How the target moves with ``name`` (its categories, or ``n_points`` across its range)."""
    forest = forest or Forest(trial_matrix(study, seed), seed)
    j = _column(forest.matrix, name)
    column = forest.matrix.columns[j]
    k = column.n_values or n_points
    points = (np.arange(k) + 0.5) / k
    values = list(column.hp.grid_values() or ()) if column.n_values else [column.hp.from_unit(float(u)) for u in points]
    curves = forest.partial_dependence(j, points)
    low, high = np.percentile(curves, [5, 95], axis=0)
    return PartialDependence(name, forest.matrix.target, values, curves.mean(axis=0).tolist(), low.tolist(),
                             high.tolist(), column.categorical)


def _predict(forest: Forest, definitions: Mapping[str, list[Any]], configs: Sequence[Mapping[str, Any]],
             rng: np.random.Generator) -> np.ndarray:
    """Each tree's prediction for each configuration (trees x configs), averaging over random
    values of the parameters a configuration leaves inactive."""
    matrix = forest.matrix
    rows = []
    for values in configs:
        x = np.array([_unit(definitions.get(c.name, [c.hp]), values, c.name) for c in matrix.columns])
        block = np.tile(x, (N_IMPUTED, 1))
        for j in np.flatnonzero(np.isnan(x)):
            k = matrix.columns[j].n_values
            block[:, j] = (rng.integers(0, k, N_IMPUTED) + 0.5) / k if k else rng.random(N_IMPUTED)
        rows.append(block)
    out = forest.predict(np.vstack(rows))
    return out.reshape(out.shape[0], len(configs), N_IMPUTED).mean(axis=2)


def ablation_path(study: Study, seed: int = 0, forest: Forest | None = None) -> list[AblationStep]:
    """The greedy path from the space's defaults to the best trial: at each step the one change
    (default to best value) the forest predicts buys the most; a change that switches a branch on
    brings the best trial's values of that branch with it."""
    forest = forest or Forest(trial_matrix(study, seed), seed)
    matrix = forest.matrix
    space = list(study.space)
    definitions: dict[str, list[Any]] = {}
    for hp in space:
        definitions.setdefault(hp.name, []).append(hp)
    best = dict(matrix.trials[matrix.best_index()].values)
    names = [c.name for c in matrix.columns]

    def walk(chosen: Mapping[str, Any]) -> dict[str, Any]:
        return values_by_walking(space, lambda hp: chosen.get(hp.name, best.get(hp.name, hp.default)))

    current = values_by_walking(space, lambda hp: hp.default)
    sign = 1.0 if matrix.maximise else -1.0
    rng = np.random.default_rng(seed)
    now = _predict(forest, definitions, [current], rng)[:, 0]
    steps: list[AblationStep] = []
    while True:
        left = [n for n in names if current.get(n) != best.get(n) and n in best]
        if not left:
            return steps
        candidates = [walk({**current, n: best[n]}) for n in left]
        predicted = _predict(forest, definitions, candidates, rng)
        gains = sign * (predicted - now[:, None])
        pick = int(np.argmax(gains.mean(axis=0)))
        low, high = np.percentile(gains[:, pick], [5, 95])
        name = left[pick]
        steps.append(AblationStep(name, current.get(name), best[name], float(predicted[:, pick].mean()),
                                  float(gains[:, pick].mean()), float(low), float(high)))
        current, now = candidates[pick], predicted[:, pick]


def edge_advice(forest: Forest, found: Importances) -> list[str]:
    """"Widen it" for each numeric parameter that matters whose best trials crowd one end of its range."""
    matrix, out = forest.matrix, []
    order = np.argsort(-matrix.y if matrix.maximise else matrix.y, kind="stable")
    for j, column in enumerate(matrix.columns):
        if column.categorical or found.get(column.name).value < MATTERS:
            continue
        rows = [i for i in order if matrix.active[i, j]][: max(3, len(order) // 10)]
        u = matrix.x[rows, j]
        hp: Any = column.hp  # a numeric range (Int or Float)
        curve = forest.partial_dependence(j, (np.arange(20) + 0.5) / 20).mean(axis=0)
        peak = int(np.argmax(curve) if matrix.maximise else np.argmin(curve))
        ends = ((0, u <= EDGE, hp.min_value, "below"), (1, u >= 1 - EDGE, hp.max_value, "above"))
        for side, near, bound, word in ends:
            # The model's best value at that end of the range, and the best trials crowding it.
            if peak == (0 if side == 0 else 19) and near.mean() >= 1 / 3:
                out.append(f"The best trials sit at the {'low' if side == 0 else 'high'} edge of `{column.name}` "
                           f"({int(near.sum())} of the best {len(rows)} in the outer tenth of "
                           f"{hp.min_value:g}-{hp.max_value:g}): widen the range {word} {bound:g}.")
    return out


def _show(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else repr(value)


def ablation_sentences(steps: list[AblationStep], target: str) -> list[str]:
    if not steps:
        return ["The best trial uses the defaults: nothing to ablate."]
    total = sum(s.gain for s in steps)
    shown = [s for s in steps if (s.gain >= 0.05 * abs(total) and s.low > 0) or s is steps[0]][:5]
    parts = [f"`{s.name}` ({_show(s.before)} -> {_show(s.after)}) bought {s.gain:.3g}" for s in shown]
    rest = len(steps) - len(shown)
    others = sum(s.gain for s in steps if s not in shown)
    tail = f"; the other {rest} change(s) bought {others:.3g} together, within the model's uncertainty" if rest else ""
    return [f"From the defaults to the best trial the forest predicts {total:.3g} better {target}: "
            + ", ".join(parts) + tail + "."]


def advice(study: Study, method: str = "fanova", seed: int = 0) -> list[str]:
    """Everything above as plain sentences: what matters (and its intervals), which pairs interact,
    what to fix, which ranges to widen, and which changes from the defaults bought the gain."""
    matrix = trial_matrix(study, seed)
    forest = Forest(matrix, seed)
    found = fanova_of_forest(forest) if method == "fanova" else ped_anova_of_matrix(matrix, seed)
    return [*found.sentences(), *edge_advice(forest, found), *ablation_sentences(ablation_path(study, seed, forest),
                                                                                 matrix.target)]
