"""Gaussian-process Bayesian optimisation: a Matern-5/2 GP fitted each step, log expected
improvement (or UCB) maximised over valid configurations only.

Configurations are encoded into the unit cube (``UnitCubeEncoder``). Candidates are snapped to
valid encodings (integers and steps to their grid, one-hot blocks to one category, conditional
dimensions to absent) before the acquisition is evaluated, so the model never scores a point
that cannot be run. Pending trials enter as constant liars (the mean observed value), so parallel
workers spread out. The sampler is pure: everything is rebuilt from the trials on every call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.optimize
import scipy.special
from scipy.stats import qmc

from hyperknob.samplers._gp_model import GaussianProcess, fit_gp
from hyperknob.samplers.base import Sampler, TrialsView
from hyperknob.samplers.random import RandomSampler
from hyperknob.space.encoding import UnitCubeEncoder, is_categorical
from hyperknob.space.parameters import Float, HyperParameter
from hyperknob.space.search_space import config_key

__all__ = ["GPSampler"]

_MAX_HISTORY = 300  # observations the GP conditions on (the best half plus the most recent)
_MAX_FIT = 150  # observations the hyperparameters are fitted on
_N_CANDIDATES = 2048
_N_LOCAL_PER_BEST = 128
_N_BEST_FOR_LOCAL = 5
_N_REFINE = 5
_MAX_GRID = 4096  # discrete parameters with more values than this are snapped one value at a time
_LOG_2PI = math.log(2 * math.pi)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(x)) for x < 0, accurately."""
    x = np.minimum(x, -1e-300)
    return np.where(x > -math.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def log_h(z: np.ndarray) -> np.ndarray:
    """log(phi(z) + z * Phi(z)), stable for very negative z (Ament et al. 2023, logEI)."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    big = z > -1.0
    zb = z[big]
    out[big] = np.log(np.exp(-0.5 * zb * zb - 0.5 * _LOG_2PI) + zb * scipy.special.ndtr(zb))
    zs = z[~big]
    t = np.log(scipy.special.erfcx(-zs / math.sqrt(2.0)) * np.abs(zs)) + 0.5 * math.log(math.pi / 2.0)
    out[~big] = -0.5 * zs * zs - 0.5 * _LOG_2PI + _log1mexp(t)
    return out


class _Snapper:
    """Maps arbitrary points of the unit cube to valid encodings, vectorised over rows.

    Equal to ``encode(decode(u))`` up to where discrete values fall (nearest grid value in unit
    space instead of ``from_unit``'s cells): every output row is the encoding of a configuration.
    """

    def __init__(self, space: Sequence[HyperParameter], encoder: UnitCubeEncoder) -> None:
        self.encoder = encoder
        self.parts: list[tuple[HyperParameter, slice, str, Any]] = []
        for hp, where in zip(encoder.space, encoder.slices, strict=False):
            if is_categorical(hp):
                self.parts.append((hp, where, "cat", list(hp.grid_values())))
                continue
            count = hp.grid_count()
            if isinstance(hp, Float) and hp.step is None and count is None:
                self.parts.append((hp, where, "cont", None))
            elif count is not None and count <= _MAX_GRID:
                grid = list(hp.grid_values())
                pos = np.array([hp.to_unit(v) for v in grid])
                order = np.argsort(pos, kind="stable")
                self.parts.append((hp, where, "grid", (grid, pos[order], order)))
            else:
                self.parts.append((hp, where, "slow", None))
        self.has_conditions = any(hp.conditions for hp in encoder.space)
        # Dimensions that local refinement moves (continuous, or discrete with many values).
        refine = np.zeros(encoder.dim, dtype=bool)
        self.fill = np.full(encoder.dim, 0.5)
        for _hp, where, kind, data in self.parts:
            if kind == "cat":
                self.fill[where] = 0.0
            elif kind in ("cont", "slow") or (kind == "grid" and len(data[0]) > 16):
                refine[where] = True
        self.refine = refine

    def __call__(self, u: np.ndarray) -> np.ndarray:
        m = len(u)
        out = np.full_like(u, np.nan)
        decided: dict[str, np.ndarray] = {}  # name -> bool mask of rows where some definition decided it
        values: dict[str, list[tuple[np.ndarray, HyperParameter, str, Any, np.ndarray]]] = {}
        for hp, where, kind, data in self.parts:
            active = np.ones(m, dtype=bool)
            for cond in hp.conditions:
                active &= self._condition(cond, values, m)
            if hp.name in decided:
                active &= ~decided[hp.name]
            if not active.any():
                continue
            rows = np.flatnonzero(active)
            block = u[rows, where]
            if kind == "cat":
                index = np.argmax(np.nan_to_num(block, nan=0.5), axis=1)
                one_hot = np.zeros_like(block)
                one_hot[np.arange(len(rows)), index] = 1.0
                out[rows, where] = one_hot
            else:
                col = np.clip(np.nan_to_num(block[:, 0], nan=0.5), 0.0, 1.0)
                if kind == "cont":
                    index = col  # the parent value of a condition is decoded from it when needed
                    out[rows, where.start] = col
                elif kind == "grid":
                    grid, sorted_pos, order = data
                    mids = (sorted_pos[1:] + sorted_pos[:-1]) / 2.0
                    k = np.searchsorted(mids, col)
                    index = order[k]
                    out[rows, where.start] = sorted_pos[k]
                else:
                    vals = [hp.from_unit(float(c)) for c in col]
                    out[rows, where.start] = [hp.to_unit(v) for v in vals]
                    index = np.array(vals, dtype=object)
            decided[hp.name] = decided.get(hp.name, np.zeros(m, dtype=bool)) | active
            values.setdefault(hp.name, []).append((rows, hp, kind, data, index))
        return out

    @staticmethod
    def _condition(cond: Any, values: dict, m: int) -> np.ndarray:
        match = np.zeros(m, dtype=bool)
        for rows, hp, kind, data, index in values.get(cond.name, []):
            if kind in ("cat", "grid"):
                grid = data if kind == "cat" else data[0]
                table = np.array([cond.is_active({cond.name: v}) for v in grid], dtype=bool)
                match[rows] = table[index]
            elif kind == "cont":
                match[rows] = [cond.is_active({cond.name: hp.from_unit(float(c))}) for c in index]
            else:
                match[rows] = [cond.is_active({cond.name: v}) for v in index]
        return match


class GPSampler(Sampler):
    """Bayesian optimisation with a Gaussian process.

    Args:
        num_initial_points: random configurations before the model is used (default: twice the
            number of tuned parameters plus one, at most 10).
        acquisition: ``"log_ei"`` (log expected improvement, default) or ``"ucb"``.
        beta: the UCB exploration weight (KerasTuner's meaning: mean - beta * std is minimised).
    """

    name = "gp"

    def __init__(self, num_initial_points: int | None = None, acquisition: str = "log_ei", beta: float = 2.6) -> None:
        if acquisition not in ("log_ei", "ucb"):
            raise ValueError(f"acquisition must be 'log_ei' or 'ucb', received {acquisition!r}.")
        if num_initial_points is not None and (isinstance(num_initial_points, bool) or int(num_initial_points) < 0):
            raise ValueError(f"num_initial_points must be a non-negative integer, received {num_initial_points!r}.")
        self.num_initial_points = num_initial_points
        self.acquisition = acquisition
        self.beta = float(beta)
        self._random = RandomSampler()

    # --- the proposal ----------------------------------------------------------------------
    def propose(
        self, space: Sequence[HyperParameter], view: TrialsView, rng: np.random.Generator
    ) -> dict[str, Any] | None:
        encoder = UnitCubeEncoder(space)
        n_params = len({hp.name for hp in encoder.space})
        n_init = self.num_initial_points
        if n_init is None:
            n_init = min(2 * n_params + 1, 10)
        finished = view.finished()
        if encoder.dim == 0 or len(finished) < max(n_init, 2):
            return self._random.propose(space, view, rng)
        tried = view.tried_keys(space)
        snap = _Snapper(space, encoder)

        x_obs = np.array([encoder.encode(t.values) for t in finished])
        y_obs = np.array([float(t.score) for t in finished])
        if view.direction == "max":
            y_obs = -y_obs
        x_obs, y_obs = self._cap(x_obs, y_obs)
        if np.ptp(y_obs) == 0.0:
            return self._random.propose(space, view, rng)
        mean, std = y_obs.mean(), y_obs.std()
        y = (y_obs - mean) / std
        x = np.where(np.isnan(x_obs), snap.fill, x_obs)

        fit_rows = np.arange(len(y))
        if len(y) > _MAX_FIT:
            order = np.argsort(y, kind="stable")
            fit_rows = np.unique(np.concatenate([order[: _MAX_FIT // 2], np.arange(len(y) - _MAX_FIT // 2, len(y))]))
        gp = fit_gp(x[fit_rows], y[fit_rows], rng)
        best = float(y.min())

        running = view.running()
        if running:
            # Constant liar: pending configurations count as observed at the mean, so the
            # acquisition near them collapses and another worker looks elsewhere.
            x_pend = np.array([encoder.encode(t.values) for t in running])
            x_pend = np.where(np.isnan(x_pend), snap.fill, x_pend)
            x_all = np.vstack([x, x_pend])
            y_all = np.concatenate([y, np.zeros(len(x_pend))])
            try:
                gp = GaussianProcess(x_all, y_all, gp.ils, gp.scale, gp.noise)
            except np.linalg.LinAlgError:
                pass

        cand = self._candidates(encoder.dim, x, y, rng, snap)
        scores = self._acq(gp, np.where(np.isnan(cand), snap.fill, cand), best)
        cand, scores = self._refine(gp, cand, scores, best, snap)

        order = np.argsort(-scores, kind="stable")
        seen: set[bytes] = set()
        for i in order:
            key_bytes = np.round(cand[i], 12).tobytes()
            if key_bytes in seen:
                continue
            seen.add(key_bytes)
            values = encoder.decode(cand[i])
            if config_key(values) not in tried:
                return values
        return self._random.propose(space, view, rng)

    # --- parts --------------------------------------------------------------------------------
    @staticmethod
    def _cap(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(y) <= _MAX_HISTORY:
            return x, y
        order = np.argsort(y, kind="stable")
        keep = np.unique(np.concatenate([order[: _MAX_HISTORY // 2], np.arange(len(y) - _MAX_HISTORY // 2, len(y))]))
        return x[keep], y[keep]

    def _candidates(
        self, dim: int, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, snap: _Snapper
    ) -> np.ndarray:
        sobol = qmc.Sobol(dim, scramble=True, seed=rng).random(_N_CANDIDATES)
        best = x[np.argsort(y, kind="stable")[:_N_BEST_FOR_LOCAL]]
        local = []
        for centre in best:
            for sd in (0.02, 0.1):
                local.append(centre + sd * rng.standard_normal((_N_LOCAL_PER_BEST // 2, dim)))
        raw = np.vstack([sobol, *local]) if local else sobol
        return snap(np.clip(raw, 0.0, 1.0))

    def _acq(self, gp: GaussianProcess, filled: np.ndarray, best: float) -> np.ndarray:
        mean, std = gp.predict(filled)
        if self.acquisition == "ucb":
            return -mean + self.beta * std
        return np.log(std) + log_h((best - mean) / std)

    def _acq_grad(self, gp: GaussianProcess, x: np.ndarray, best: float) -> tuple[np.ndarray, np.ndarray]:
        mean, std, d_mean, d_std = gp.predict_with_grad(x)
        if self.acquisition == "ucb":
            return -mean + self.beta * std, -d_mean + self.beta * d_std
        z = (best - mean) / std
        lh = log_h(z)
        ratio = np.exp(scipy.special.log_ndtr(z) - lh)  # d log h / dz
        dz = (-d_mean - z[:, None] * d_std) / std[:, None]
        return np.log(std) + lh, d_std / std[:, None] + ratio[:, None] * dz

    def _refine(
        self, gp: GaussianProcess, cand: np.ndarray, scores: np.ndarray, best: float, snap: _Snapper
    ) -> tuple[np.ndarray, np.ndarray]:
        """L-BFGS-B from the best candidates over their active continuous dimensions, then snap."""
        top = np.argsort(-scores, kind="stable")[:_N_REFINE]
        starts = cand[top]
        free = snap.refine[None, :] & ~np.isnan(starts)
        if not free.any():
            return cand, scores
        filled = np.where(np.isnan(starts), snap.fill, starts)
        idx = np.flatnonzero(free.ravel())

        def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
            full = filled.ravel().copy()
            full[idx] = z
            points = full.reshape(filled.shape)
            value, grad = self._acq_grad(gp, points, best)
            return -float(value.sum()), -grad.ravel()[idx]

        try:
            result = scipy.optimize.minimize(
                objective, filled.ravel()[idx], jac=True, method="L-BFGS-B",
                bounds=[(0.0, 1.0)] * len(idx), options={"maxiter": 50},
            )
            full = filled.ravel().copy()
            full[idx] = np.clip(result.x, 0.0, 1.0)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            return cand, scores
        refined = full.reshape(filled.shape)
        refined = np.where(np.isnan(starts), np.nan, refined)
        refined = snap(refined)
        refined_filled = np.where(np.isnan(refined), snap.fill, refined)
        refined_scores = self._acq(gp, refined_filled, best)
        ok = np.isfinite(refined_scores)
        return np.vstack([cand, refined[ok]]), np.concatenate([scores, refined_scores[ok]])
