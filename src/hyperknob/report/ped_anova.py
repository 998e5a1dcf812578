"""PED-ANOVA (Watanabe et al., IJCAI 2023; optuna 5's default): which parameters set the best trials
apart, as the Pearson divergence between the top-``quantile`` trials' density of a parameter and
all trials' density of it, one parameter at a time.

The densities are the paper's: each parameter on a grid of at most 50 points of its unit-cube
position (a choice: its categories), a Parzen estimator with Scott's bandwidth and a flat prior.
A conditional parameter is measured where it is active, weighted as condPED-ANOVA weighs a regime
(the share of the top trials in it squared over the share of all trials in it).

Two things are hyperknob's own. A handful of top trials differ from all trials by chance alone, so
each divergence has the divergence of a random subset of the same size subtracted (a parameter that
never mattered scores about 0, not a positive number that depends on the study's size). And the 90%
interval is a bootstrap over the trials: the top set, the densities and that chance baseline are
recomputed on each resample.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtr

from hyperknob.report.forest import Column, TrialMatrix, trial_matrix
from hyperknob.report.importances import Estimate, Importances

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = ["QUANTILE", "ped_anova", "ped_anova_of_matrix"]

QUANTILE = 0.1  # the best tenth of the trials
N_STEPS = 50  # grid points of a numeric parameter
PRIOR_WEIGHT = 1.0
N_BOOTSTRAP = 100
N_BASELINE = 32  # random subsets averaged for the chance baseline of the point estimate


def _bins(column: Column) -> int:
    if column.n_values:
        return column.n_values
    count = column.hp.grid_count()
    return int(min(N_STEPS, count)) if count else N_STEPS


def _pmf(codes: np.ndarray, size: int, categorical: bool) -> np.ndarray:
    """A Parzen estimator of ``codes`` (grid indices) as a probability on the ``size`` grid points."""
    counts = np.bincount(codes, minlength=size).astype(float)
    n = counts.sum()
    if categorical:
        return (counts + PRIOR_WEIGHT / size) / (n + PRIOR_WEIGHT)
    observed = np.flatnonzero(counts)
    weights = counts[observed]
    mean = float(weights @ observed) / n
    std = math.sqrt(float(weights @ (observed - mean) ** 2) / max(1.0, n - 1))
    q1, q3 = np.percentile(codes, [25, 75])
    sigma = 1.059 * min((q3 - q1) / 1.34, std) * n**-0.2 if n > 1 else 0.0
    sigma = max(sigma, 0.5 / 1.64)
    grid = np.arange(size)
    mus = np.append(observed, (size - 1) / 2.0)
    sigmas = np.append(np.full(observed.size, sigma), float(size))
    mass = ndtr((grid[None, :] + 0.5 - mus[:, None]) / sigmas[:, None]) - ndtr(
        (grid[None, :] - 0.5 - mus[:, None]) / sigmas[:, None])
    mass /= mass.sum(axis=1, keepdims=True)  # a normal truncated to the grid
    mix = np.append(weights, PRIOR_WEIGHT)
    return (mix / mix.sum()) @ mass


def _divergences(codes: np.ndarray, active: np.ndarray, top: np.ndarray, sizes: list[int],
                 categorical: list[bool]) -> np.ndarray:
    """Each column's weighted Pearson divergence between the ``top`` rows and all rows."""
    out = np.zeros(codes.shape[1])
    n_top = int(top.sum())
    for j in range(codes.shape[1]):
        on = active[:, j]
        top_on = top & on
        if top_on.sum() < 1 or on.sum() < 2:
            continue
        alpha, beta = top_on.sum() / n_top, on.sum() / len(on)
        p_all = _pmf(codes[on, j], sizes[j], categorical[j]) + 1e-12
        p_top = _pmf(codes[top_on, j], sizes[j], categorical[j]) + 1e-12
        out[j] = alpha**2 / beta * float(p_all @ (p_top / p_all - 1.0) ** 2)
    return out


def _top(y: np.ndarray, maximise: bool, quantile: float) -> np.ndarray:
    n_top = max(2, int(math.ceil(quantile * len(y))))
    order = np.argsort(-y if maximise else y, kind="stable")
    mask = np.zeros(len(y), dtype=bool)
    mask[order[:n_top]] = True
    return mask


def _random_top(n: int, n_top: int, rng: np.random.Generator) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, size=n_top, replace=False)] = True
    return mask


def _shares(raw: np.ndarray) -> np.ndarray:
    clipped = np.clip(raw, 0.0, None)
    total = clipped.sum()
    return clipped / total if total > 0 else np.zeros_like(clipped)


def ped_anova_of_matrix(matrix: TrialMatrix, seed: int = 0, quantile: float = QUANTILE,
                        n_bootstrap: int = N_BOOTSTRAP) -> Importances:
    """PED-ANOVA shares (summing to 1 unless nothing stands out) with bootstrap 90% intervals."""
    sizes = [_bins(c) for c in matrix.columns]
    categorical = [c.categorical for c in matrix.columns]
    codes = np.minimum((matrix.x * np.array(sizes)).astype(int), np.array(sizes) - 1)
    rng = np.random.default_rng(seed)
    n = len(matrix.y)
    top = _top(matrix.y, matrix.maximise, quantile)
    n_top = int(top.sum())

    def corrected(rows: np.ndarray, top_rows: np.ndarray, draws: int) -> np.ndarray:
        c, a = codes[rows], matrix.active[rows]
        found = _divergences(c, a, top_rows, sizes, categorical)
        chance = np.mean([_divergences(c, a, _random_top(len(rows), n_top, rng), sizes, categorical)
                          for _ in range(draws)], axis=0)
        return found - chance

    point = _shares(corrected(np.arange(n), top, N_BASELINE))
    replicates = []
    for _ in range(n_bootstrap):
        rows = rng.integers(0, n, n)
        replicates.append(_shares(corrected(rows, _top(matrix.y[rows], matrix.maximise, quantile), 1)))
    low, high = np.percentile(np.array(replicates), [5, 95], axis=0)
    main = [Estimate(c.name, float(point[j]), float(min(low[j], point[j])), float(max(high[j], point[j])))
            for j, c in enumerate(matrix.columns)]
    best = dict(matrix.trials[matrix.best_index()].values)
    return Importances("ped-anova", matrix.target, matrix.maximise, n, sorted(main, key=lambda e: (-e.value, e.name)),
                       [], matrix.note, {c.name: best[c.name] for c in matrix.columns if c.name in best}, quantile)


def ped_anova(study: Study, seed: int = 0, quantile: float = QUANTILE, n_bootstrap: int = N_BOOTSTRAP) -> Importances:
    """PED-ANOVA importance of ``study``'s parameters for reaching its best ``quantile`` of trials."""
    return ped_anova_of_matrix(trial_matrix(study, seed), seed, quantile, n_bootstrap)
