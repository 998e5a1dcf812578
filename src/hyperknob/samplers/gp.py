"""Gaussian-process Bayesian optimisation: a Matern-5/2 GP fitted each step, log expected
improvement and UCB (in turn, by default) maximised over valid configurations only.

Configurations are encoded into the unit cube (``UnitCubeEncoder``). Candidates are snapped to
valid encodings (integers and steps to their grid, one-hot blocks to one category, conditional
dimensions to absent) before the acquisition is evaluated, so the model never scores a point
that cannot be run. The losses are standardised and power-transformed (Yeo-Johnson) before the
fit, so a long tail of bad values does not cost the model its resolution near the optimum. The
acquisition is maximised by multi-start local search: L-BFGS-B in lengthscale-scaled coordinates
for continuous dimensions, exhaustive sweeps for discrete ones. Pending trials enter as constant
liars (the mean observed value), so parallel workers spread out. The sampler is pure: everything
is rebuilt from the trials on every call.
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
from hyperknob.samplers._gp_targets import (
    constraint_margins,
    log_feasibility,
    log_feasibility_grad,
    scalarised_losses,
)
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
_N_ROULETTE = 8  # acquisition local searches started from candidates drawn by their value
_N_BEST_STARTS = 2  # and from the best observed points
_MAX_CLIMB_ROUNDS = 3
_CLIMB_MAXITER = 100
_MAX_GRID = 4096  # discrete parameters with more values than this are snapped one value at a time
_LOG_2PI = math.log(2 * math.pi)
_PRIOR_NOISE = 0.1  # the noise variance of an earlier study's point at full weight (losses are standardised)
_KERAS_TUNER_BETA = 2.6  # UCB's weight alone (KerasTuner's default)
_ALTERNATE_BETA = 2.0  # UCB's weight when it alternates with log EI (measured: GPSampler's docstring)
# Yeo-Johnson exponents tried (steps of 0.1, never exactly 0 or 2). Below 0 the bad tail would be
# squashed to a constant and the good one stretched faster than quadratically: measured on the
# suite's mixed problem, that made the GP settle on a plateau in 3 of 10 seeds (1 of 10 with >= 0).
_YJ_GRID = np.linspace(0.05, 1.95, 20)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(x)) for x < 0, accurately."""
    x = np.minimum(x, -1e-300)
    out: np.ndarray = np.where(x > -math.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))
    return out


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


def best_and_recent(y: np.ndarray, limit: int) -> np.ndarray:
    """Indices, in order, of at most ``limit`` of the losses ``y``: the best half and the most
    recent half. A long history keeps the GP's cost bounded without forgetting where it did well
    or what it learned last."""
    if len(y) <= limit:
        return np.arange(len(y))
    order = np.argsort(y, kind="stable")
    return np.unique(np.concatenate([order[: limit // 2], np.arange(len(y) - limit // 2, len(y))]))


def _yeo_johnson(y: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The Yeo-Johnson transform of ``y`` (n,) for each exponent in ``lam`` (k,): shape (k, n).
    The exponents must avoid exactly 0 and 2 (the log cases)."""
    lam = lam[:, None]
    pos = y >= 0.0
    up = (np.power(np.where(pos, y, 0.0) + 1.0, lam) - 1.0) / lam
    down = -(np.power(1.0 - np.where(pos, 0.0, y), 2.0 - lam) - 1.0) / (2.0 - lam)
    return np.where(pos, up, down)


def _with_prior(
    prior: Sequence[Any], encoder: UnitCubeEncoder, snap: Any, x: np.ndarray, y: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """This study's points followed by earlier studies' (the best of them, to ``limit`` in all).
    An earlier result enters at the normal quantile of its rank in its own study (this study's
    losses are standardised too, so both share a scale), with extra noise that grows as its
    study's weight falls: a source that predicts this study badly is all but ignored."""
    from scipy.special import ndtri

    order = sorted(range(len(prior)), key=lambda i: prior[i].quantile)[: max(limit - len(y), 0)]
    if not order:
        return x, y, np.zeros(len(y))
    rows = np.array([encoder.encode(prior[i].values) for i in order]).reshape(len(order), encoder.dim)
    rows = np.where(np.isnan(rows), snap.fill, rows)
    q = np.clip([prior[i].quantile for i in order], 0.02, 0.98)
    weight = np.array([prior[i].weight for i in order])
    noise = _PRIOR_NOISE / np.maximum(weight, 1e-6)
    return np.vstack([x, rows]), np.concatenate([y, ndtri(q)]), np.concatenate([np.zeros(len(y)), noise])


def warp_losses(y: np.ndarray) -> np.ndarray:
    """Standardised losses, made closer to normal by a Yeo-Johnson power transform whose exponent
    maximises the normal likelihood (on a grid, between 0: about a log, and 2): a long tail of bad
    values (most of Branin's range) no longer eats the model's resolution near the optimum.
    Monotone: trials keep their ranking."""
    y = (y - y.mean()) / y.std()
    with np.errstate(all="ignore"):
        warped = _yeo_johnson(y, _YJ_GRID)
        var = warped.var(axis=1)
        llf = -0.5 * len(y) * np.log(var) + (_YJ_GRID - 1.0) * (np.sign(y) * np.log1p(np.abs(y))).sum()
    llf = np.where(np.isfinite(llf) & (var > 0.0), llf, -np.inf)
    if not np.isfinite(llf).any():
        return y
    best = warped[int(np.argmax(llf))]
    if not np.all(np.isfinite(best)):
        return y
    scaled: np.ndarray = (best - best.mean()) / best.std()
    return scaled


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
                grid = list(hp.grid_values() or ())
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
        # Discrete parameters that local search sweeps exhaustively: (slice, encodings of the values).
        self.discrete: list[tuple[slice, np.ndarray]] = []
        for _hp, where, kind, data in self.parts:
            if kind == "cat":
                self.discrete.append((where, np.eye(where.stop - where.start)))
            elif kind == "grid" and not refine[where.start]:
                self.discrete.append((where, np.sort(data[1])[:, None]))

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
    def _condition(cond: Any, values: dict[str, Any], m: int) -> np.ndarray:
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
        num_initial_points: random configurations before the model is used (default 10).
        acquisition: ``"alternate"`` (default): log expected improvement and UCB in turn, by the
            parity of the number of finished trials; ``"log_ei"`` or ``"ucb"`` alone. Why both:
            log EI refines the incumbent's basin finely but commits to it early; UCB keeps
            looking where the model is unsure. Over 20 seeds at 100 trials, alternating took
            Ackley-10 from a median regret of 3.14 (log EI) to 2.78 (UCB alone: 2.64) and left
            Hartmann-6 in a local minimum in 7 seeds instead of 8 at 50 trials (UCB alone: its
            median regret 0.037 against 0.003), at the price of the mixed space at 50 trials
            (1.6e-4 to 8.4e-4, still far ahead of the other optimisers' 0.3).
        beta: the UCB exploration weight (KerasTuner's meaning: mean - beta * std is minimised).
            By default KerasTuner's 2.6 for UCB alone and 2.0 for the UCB half of ``"alternate"``:
            there, chosen by mean rank over Branin, Hartmann-6, Ackley-10 and the mixed space at
            50 and 100 trials (seeds 0-19, against 1.5 and 2.6) and confirmed on seeds 20-39,
            2.0 left the mixed space on its plateau at 50 trials in 3 seeds of 20 against 6 with
            2.6 and Hartmann-6 in a local minimum in 8 against 10, and took Ackley-10 from 4.05 to
            3.69 at 50 trials and from 2.83 to 2.75 at 100.
    """

    name = "gp"
    models_results = True

    def __init__(
        self, num_initial_points: int | None = None, acquisition: str = "alternate", beta: float | None = None
    ) -> None:
        if acquisition not in ("alternate", "log_ei", "ucb"):
            raise ValueError(f"acquisition must be 'alternate', 'log_ei' or 'ucb', received {acquisition!r}.")
        if num_initial_points is not None and (isinstance(num_initial_points, bool) or int(num_initial_points) < 0):
            raise ValueError(f"num_initial_points must be a non-negative integer, received {num_initial_points!r}.")
        self.num_initial_points = num_initial_points
        self.acquisition = acquisition
        if beta is None:
            beta = _KERAS_TUNER_BETA if acquisition == "ucb" else _ALTERNATE_BETA
        self.beta = float(beta)
        self._random = RandomSampler()

    # --- the proposal ----------------------------------------------------------------------
    def startup_trials(self, space: Sequence[HyperParameter]) -> int:
        if self.num_initial_points is not None:
            return int(self.num_initial_points)
        # Ten, as optuna's GPSampler, whatever the dimension: with 2 * d + 1 (5 on a 2-D space) the
        # lengthscales fitted on too few points sent 5 of 10 seeds of the suite's elastic net into
        # one spot of a curved valley (regret 6e-4, worse than random search); with 10, 0 of 10.
        return 10

    def propose(
        self, space: Sequence[HyperParameter], view: TrialsView, rng: np.random.Generator
    ) -> dict[str, Any] | None:
        encoder = UnitCubeEncoder(space)
        n_init = self.startup_trials(encoder.space)
        finished = view.finished()
        prior_mass = sum(p.weight for p in view.prior)  # earlier studies' results count towards the start-up
        if encoder.dim == 0 or len(finished) + prior_mass < max(n_init, 2):
            return self._random.propose(space, view, rng)
        tried = view.tried_keys(space)
        snap = _Snapper(space, encoder)

        x_obs = np.array([encoder.encode(t.values) for t in finished]).reshape(len(finished), encoder.dim)
        # The score, or for several objectives ParEGO's scalarisation with this proposal's weights.
        y_obs = scalarised_losses(view, finished, rng)
        keep = best_and_recent(y_obs, _MAX_HISTORY)
        x_obs, y_obs = x_obs[keep], y_obs[keep]
        margins = constraint_margins([finished[i] for i in keep]) if view.constrained else None
        own = len(y_obs) >= 2 and np.ptp(y_obs) > 0.0
        if not own and not view.prior:
            return self._random.propose(space, view, rng)
        y = warp_losses(y_obs) if own else np.zeros(len(y_obs))
        x = np.where(np.isnan(x_obs), snap.fill, x_obs)

        fit_rows = best_and_recent(y, _MAX_FIT)
        x_fit, y_fit = x[fit_rows], y[fit_rows]
        noise = None  # extra noise per conditioned point: only a warm start's points have any
        if view.prior:
            # This study's points and earlier studies' together: the model is fitted and
            # conditioned on both, and candidates are drawn near the best of either.
            x_fit, y_fit, noise = _with_prior(view.prior, encoder, snap, x_fit, y_fit, _MAX_FIT)
            x, y = x_fit, y_fit
            x_obs, y_obs = x_fit, y_fit
        gp = fit_gp(x_fit, y_fit, rng)
        if noise is not None:
            try:
                gp = GaussianProcess(x_fit, y_fit, gp.ils, gp.scale, gp.noise, noise)
            except np.linalg.LinAlgError:
                pass
        best = float(y.min())

        running = view.running()
        if running:
            # Constant liar: pending configurations count as observed at the mean, so the
            # acquisition near them collapses and another worker looks elsewhere.
            x_pend = np.array([encoder.encode(t.values) for t in running])
            x_pend = np.where(np.isnan(x_pend), snap.fill, x_pend)
            x_all = np.vstack([x, x_pend])
            y_all = np.concatenate([y, np.zeros(len(x_pend))])
            pending_noise = None if noise is None else np.concatenate([noise, np.zeros(len(x_pend))])
            try:
                gp = GaussianProcess(x_all, y_all, gp.ils, gp.scale, gp.noise, pending_noise)
            except np.linalg.LinAlgError:
                pass
        if margins is not None and not view.prior and (margins > 0).any():
            # Constrained EI: improvement over the best feasible trial, times the probability
            # that the candidate is feasible (only that, while no trial is).
            gp.feasibility = self._feasibility_model(x, margins, fit_rows, rng)
            feasible = margins <= 0
            best = float(y[feasible].min()) if feasible.any() else math.inf

        cand = self._candidates(encoder.dim, x, y, rng, snap)
        ucb = self.acquisition == "ucb" or (self.acquisition == "alternate" and len(finished) % 2 == 1)
        scores = self._acq(gp, np.where(np.isnan(cand), snap.fill, cand), best, ucb)
        incumbents = x_obs[np.argsort(y_obs, kind="stable")[:_N_BEST_STARTS]]
        cand, scores = self._local_search(gp, cand, scores, best, ucb, snap, incumbents, rng)

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

    @staticmethod
    def _feasibility_model(
        x: np.ndarray, margins: np.ndarray, fit_rows: np.ndarray, rng: np.random.Generator
    ) -> GaussianProcess | None:
        """A GP of the largest constraint value, scaled but not centred (0 stays the boundary;
        the prior mean says "on it" where nothing is known)."""
        scaled = margins / max(float(np.std(margins)), 1e-12)
        try:
            fitted = fit_gp(x[fit_rows], scaled[fit_rows], rng)
            return GaussianProcess(x, scaled, fitted.ils, fitted.scale, fitted.noise)
        except np.linalg.LinAlgError:
            return None

    def _acq(self, gp: GaussianProcess, filled: np.ndarray, best: float, ucb: bool) -> np.ndarray:
        feasibility = gp.feasibility
        log_pof: Any = 0.0
        if feasibility is not None:
            log_pof = log_feasibility(*feasibility.predict(filled))
            if not math.isfinite(best):
                only: np.ndarray = log_pof
                return only
            ucb = False  # constrained EI: log EI + log P(feasible)
        mean, std = gp.predict(filled)
        if ucb:
            return -mean + self.beta * std
        value: np.ndarray = np.log(std) + log_h((best - mean) / std) + log_pof
        return value

    def _acq_grad(self, gp: GaussianProcess, x: np.ndarray, best: float, ucb: bool) -> tuple[np.ndarray, np.ndarray]:
        feasibility = gp.feasibility
        log_pof: Any = 0.0
        d_log_pof: Any = 0.0
        if feasibility is not None:
            log_pof, d_log_pof = log_feasibility_grad(*feasibility.predict_with_grad(x))
            if not math.isfinite(best):
                return log_pof, d_log_pof
            ucb = False
        mean, std, d_mean, d_std = gp.predict_with_grad(x)
        if ucb:
            return -mean + self.beta * std, -d_mean + self.beta * d_std
        z = (best - mean) / std
        lh = log_h(z)
        ratio = np.exp(scipy.special.log_ndtr(z) - lh)  # d log h / dz
        dz = (-d_mean - z[:, None] * d_std) / std[:, None]
        return np.log(std) + lh + log_pof, d_std / std[:, None] + ratio[:, None] * dz + d_log_pof

    def _local_search(
        self, gp: GaussianProcess, cand: np.ndarray, scores: np.ndarray, best: float, ucb: bool,
        snap: _Snapper, incumbents: np.ndarray, rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Hill-climbs the acquisition from several starts and adds the results to the candidates.

        Starts: the best candidate, a roulette draw of others (weight exp(acquisition - best)),
        and the best observed points. All starts climb together: L-BFGS-B on the sum of their
        acquisitions over their active continuous dimensions (scaled by the lengthscales, so the
        problem is well conditioned), then every value of each discrete parameter is tried, one
        parameter at a time; repeated while the discrete pass still finds something better.
        """
        top = int(np.argmax(scores))
        starts = [cand[top][None, :]]
        weights = np.exp(np.clip(scores - scores[top], -700.0, 0.0))
        weights[top] = 0.0
        n_draw = min(_N_ROULETTE, int(np.count_nonzero(weights > 0.0)))
        if n_draw > 0:
            picked = rng.choice(len(cand), size=n_draw, replace=False, p=weights / weights.sum())
            starts.append(cand[picked])
        starts.append(incumbents)
        points = snap(np.vstack(starts))
        values = self._acq(gp, np.where(np.isnan(points), snap.fill, points), best, ucb)
        for _ in range(_MAX_CLIMB_ROUNDS):
            points, values = self._gradient_step(gp, points, values, best, ucb, snap)
            points, values, moved = self._discrete_step(gp, points, values, best, ucb, snap)
            if not moved:
                break
        ok = np.isfinite(values)
        return np.vstack([cand, points[ok]]), np.concatenate([scores, values[ok]])

    def _gradient_step(
        self, gp: GaussianProcess, points: np.ndarray, values: np.ndarray, best: float, ucb: bool,
        snap: _Snapper,
    ) -> tuple[np.ndarray, np.ndarray]:
        free = snap.refine[None, :] & ~np.isnan(points)
        if not free.any():
            return points, values
        filled = np.where(np.isnan(points), snap.fill, points)
        rows, cols = np.nonzero(free)
        ls = 1.0 / np.sqrt(gp.ils[cols])  # optimise z = x / lengthscale: well conditioned

        def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
            full = filled.copy()
            full[rows, cols] = z * ls
            value, grad = self._acq_grad(gp, full, best, ucb)
            return -float(value.sum()), -grad[rows, cols] * ls

        try:
            with np.errstate(all="ignore"):
                result = scipy.optimize.minimize(
                    objective, filled[rows, cols] / ls, jac=True, method="L-BFGS-B",
                    bounds=list(zip(np.zeros(len(ls)), 1.0 / ls, strict=True)),
                    options={"maxiter": _CLIMB_MAXITER},
                )
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            return points, values
        if not np.all(np.isfinite(result.x)):
            return points, values
        moved = points.copy()
        moved[rows, cols] = np.clip(result.x * ls, 0.0, 1.0)
        moved = snap(moved)
        new_values = self._acq(gp, np.where(np.isnan(moved), snap.fill, moved), best, ucb)
        better = new_values > values  # a start that got worse (joint line search, snapping) keeps its place
        return np.where(better[:, None], moved, points), np.where(better, new_values, values)

    def _discrete_step(
        self, gp: GaussianProcess, points: np.ndarray, values: np.ndarray, best: float, ucb: bool,
        snap: _Snapper,
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """Tries every value of each discrete parameter of every point, one parameter at a time."""
        if not snap.discrete:
            return points, values, False
        variants, owner = [], []
        for where, options in snap.discrete:
            active = np.flatnonzero(~np.isnan(points[:, where.start]))
            if len(active) == 0:
                continue
            block = np.repeat(points[active], len(options), axis=0)
            block[:, where] = np.tile(options, (len(active), 1))
            variants.append(block)
            owner.append(np.repeat(active, len(options)))
        if not variants:
            return points, values, False
        rows = snap(np.vstack(variants))
        owners = np.concatenate(owner)
        scored = self._acq(gp, np.where(np.isnan(rows), snap.fill, rows), best, ucb)
        points, values, moved = points.copy(), values.copy(), False
        for i in np.argsort(-scored, kind="stable"):
            k = owners[i]
            if scored[i] > values[k] + 1e-12 * abs(values[k]):
                points[k], values[k], moved = rows[i], scored[i], True
        return points, values, moved
