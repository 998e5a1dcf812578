"""What the GP models when a search has several objectives or constraints.

Several objectives: ParEGO (Knowles 2006). Each proposal draws its own weights on the simplex
(from the proposal's random stream, so every trial number gets other weights and the proposals
spread along the front) and models the augmented Tchebycheff scalarisation of the objectives,
each scaled to [0, 1] over the trials seen. One GP per proposal: the cost stays the one-objective
GP's, and a parallel worker gets other weights as well as the constant liar.

Constraints: constrained expected improvement (Gardner et al. 2014). A second GP models each
trial's largest constraint value (<= 0: met); the acquisition is log EI over the best *feasible*
trial plus the log probability that a candidate meets the constraints, or only that probability
while no trial has met them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.special

from hyperknob._types import FrozenTrial
from hyperknob.constraints import CONSTRAINTS_ATTR
from hyperknob.samplers.base import TrialsView

__all__ = ["constraint_margins", "log_feasibility", "scalarised_losses"]

_RHO = 0.05  # ParEGO's augmentation: ties on the max are broken by the weighted sum


def scalarised_losses(view: TrialsView, trials: Sequence[FrozenTrial], rng: np.random.Generator) -> np.ndarray:
    """One loss per trial, lower is better: the score (turned to minimise) for one objective,
    ParEGO's scalarisation with freshly drawn weights for several."""
    if not view.objectives:
        column: np.ndarray = view.objective_matrix(trials)[:, 0]
        return column
    f = view.objective_matrix(trials)
    low, high = np.nanmin(f, axis=0), np.nanmax(f, axis=0)
    scaled = (f - low) / np.where(high > low, high - low, 1.0)
    weights = rng.dirichlet(np.ones(f.shape[1]))
    weighted = scaled * weights
    losses: np.ndarray = np.max(weighted, axis=1) + _RHO * np.sum(weighted, axis=1)
    return np.where(np.isnan(losses), np.nanmax(losses) if np.isfinite(losses).any() else 1.0, losses)


def constraint_margins(trials: Sequence[FrozenTrial]) -> np.ndarray:
    """Each trial's largest constraint value (<= 0: every constraint met; 0 when it has none)."""
    out = []
    for t in trials:
        values = [float(v) for v in t.user_attrs.get(CONSTRAINTS_ATTR) or []]
        out.append(max(values) if values else 0.0)
    margins = np.array(out, dtype=float)
    worst = np.nanmax(np.abs(margins)) if np.isfinite(margins).any() else 1.0
    return np.where(np.isfinite(margins), margins, 2.0 * worst + 1.0)


def log_feasibility(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """log P(constraint value <= 0) under the feasibility GP's posterior."""
    result: np.ndarray = scipy.special.log_ndtr(-mean / std)
    return result


def log_feasibility_grad(
    mean: np.ndarray, std: np.ndarray, d_mean: np.ndarray, d_std: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """log P(feasible) and its gradient (rows of shape (m, d))."""
    z = -mean / std
    value = scipy.special.log_ndtr(z)
    ratio = np.exp(-0.5 * z * z - 0.5 * np.log(2 * np.pi) - value)  # d log Phi / dz
    dz = (-d_mean - z[:, None] * d_std) / std[:, None]
    return value, ratio[:, None] * dz
