"""Dominance, non-dominated fronts, crowding and hypervolume: the arithmetic of searching for
several objectives at once.

Every function takes objective values already turned to "lower is better" (``minimising``), one
row per trial. A row holding NaN is worse than any row without: it is never on a front. Pure
numpy, so that samplers, schedulers, the study and the report share one definition.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "crowding_distance",
    "dominates",
    "hypervolume",
    "minimising",
    "nondominated_ranks",
    "pareto_mask",
    "rank_order",
]


def minimising(values: np.ndarray | Sequence[Sequence[float]], directions: Sequence[str]) -> np.ndarray:
    """Values with every 'max' column negated, as a float array of shape (n, len(directions))."""
    array = np.asarray(values, dtype=float).reshape(-1, len(directions))
    signs = np.array([-1.0 if str(d) == "max" else 1.0 for d in directions])
    return array * signs


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether ``a`` is no worse than ``b`` in every objective and better in one (NaN never dominates)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if np.isnan(x).any():
        return False
    if np.isnan(y).any():
        return True
    return bool(np.all(x <= y) and np.any(x < y))


def _dominated_by_any(candidates: np.ndarray, points: np.ndarray, chunk: int = 512) -> np.ndarray:
    """For each candidate, whether some point dominates it (chunked: memory stays n x chunk)."""
    out = np.zeros(len(candidates), dtype=bool)
    for start in range(0, len(candidates), chunk):
        c = candidates[start:start + chunk]
        le = np.all(points[None, :, :] <= c[:, None, :], axis=2)
        lt = np.any(points[None, :, :] < c[:, None, :], axis=2)
        out[start:start + chunk] = np.any(le & lt, axis=1)
    return out


def nondominated_ranks(values: np.ndarray) -> np.ndarray:
    """Each row's front: 0 for the non-dominated rows, 1 for those non-dominated once front 0 is
    removed, and so on; rows with NaN get the rank after the last front. Equal rows share a rank."""
    f = np.asarray(values, dtype=float)
    n = len(f)
    ranks = np.full(n, -1, dtype=int)
    valid = ~np.isnan(f).any(axis=1) if f.ndim == 2 else np.zeros(n, dtype=bool)
    remaining = np.flatnonzero(valid)
    rank = 0
    while len(remaining):
        points = f[remaining]
        front = ~_dominated_by_any(points, points)
        ranks[remaining[front]] = rank
        remaining = remaining[~front]
        rank += 1
    ranks[~valid] = rank
    return ranks


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """A mask of the non-dominated rows (the Pareto front)."""
    f = np.asarray(values, dtype=float)
    valid = ~np.isnan(f).any(axis=1)
    mask = np.zeros(len(f), dtype=bool)
    idx = np.flatnonzero(valid)
    if len(idx):
        mask[idx] = ~_dominated_by_any(f[idx], f[idx])
    return mask


def crowding_distance(values: np.ndarray) -> np.ndarray:
    """NSGA-II's crowding distance of each row within its set: the sides of the box its
    neighbours span, each objective scaled by its range; the extremes get infinity."""
    f = np.asarray(values, dtype=float)
    n, k = f.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(k):
        order = np.argsort(f[:, j], kind="stable")
        column = f[order, j]
        span = column[-1] - column[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (column[2:] - column[:-2]) / span
    return distance


def rank_order(values: np.ndarray, violations: np.ndarray | None = None) -> np.ndarray:
    """Each row's place (0 the best) when ranking trials of a multi-objective or constrained
    search: feasible rows first by front, then by crowding (the spread-out first), then the
    infeasible ones by how far they miss the constraints. A single objective column without
    constraints keeps its own order."""
    f = np.asarray(values, dtype=float)
    n = len(f)
    if violations is None:
        violations = np.zeros(n)
    violations = np.where(np.isnan(violations), np.inf, np.maximum(violations, 0.0))
    feasible = violations <= 0
    key_front = np.zeros(n)
    key_crowd = np.zeros(n)
    idx = np.flatnonzero(feasible)
    if len(idx):
        sub = f[idx]
        if sub.shape[1] == 1:
            key_front[idx] = np.where(np.isnan(sub[:, 0]), np.inf, sub[:, 0])
        else:
            ranks = nondominated_ranks(sub)
            key_front[idx] = ranks
            for r in np.unique(ranks):
                members = np.flatnonzero(ranks == r)
                finite = ~np.isnan(sub[members]).any(axis=1)
                if finite.all():
                    key_crowd[idx[members]] = -crowding_distance(sub[members])
    order = np.lexsort((np.arange(n), key_crowd, key_front, np.where(feasible, 0.0, violations)))
    places = np.empty(n, dtype=int)
    places[order] = np.arange(n)
    return places


def hypervolume(values: np.ndarray, reference: Sequence[float]) -> float:
    """The volume the rows dominate up to ``reference`` (exact; rows not better than the
    reference in every objective add nothing)."""
    ref = np.asarray(reference, dtype=float)
    f = np.asarray(values, dtype=float).reshape(-1, len(ref))
    f = f[~np.isnan(f).any(axis=1)]
    f = f[np.all(f < ref, axis=1)]
    if not len(f):
        return 0.0
    f = f[pareto_mask(f)]
    return float(_hv(np.unique(f, axis=0), ref))


def _hv(f: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume by slicing along the last objective (exact; fine for the fronts of a search)."""
    k = f.shape[1]
    if k == 1:
        return float(ref[0] - f[:, 0].min())
    if k == 2:
        order = np.argsort(f[:, 0], kind="stable")
        x, y = f[order, 0], f[order, 1]
        best_y = np.minimum.accumulate(y)
        widths = np.diff(np.append(x, ref[0]))
        return float(np.sum(widths * (ref[1] - best_y)))
    order = np.argsort(f[:, -1], kind="stable")
    f = f[order]
    total = 0.0
    for i in range(len(f)):
        upper = f[i + 1, -1] if i + 1 < len(f) else ref[-1]
        depth = upper - f[i, -1]
        if depth <= 0:
            continue
        points = f[: i + 1, :-1]
        points = points[pareto_mask(points)]
        total += depth * _hv(points, ref[:-1])
    return total
