"""The Gaussian-process sampler: beats random search, proposes only valid, untried configurations,
reproducible under a seed."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize

import hyperknob as hk
from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.samplers.base import TrialsView
from hyperknob.samplers.gp import _YJ_GRID, GPSampler, _Snapper, warp_losses, _yeo_johnson, log_h
from hyperknob.samplers._gp_model import _neg_objective
from hyperknob.space.conditions import Parent
from hyperknob.space.encoding import UnitCubeEncoder
from hyperknob.space.parameters import Boolean, Choice, Fixed, Float, Int
from hyperknob.space.search_space import config_key, grid_size
from hyperknob.testing.functions import OPTIMA, branin, hartmann6


def _regret(algorithm, objective, name, seed, n_trials=50):
    study = hk.create_study(storage=":memory:", algorithm=algorithm, seed=seed)
    return study.optimize(objective, n_trials=n_trials, verbose=0).best_value - OPTIMA[name]


@pytest.mark.parametrize(
    "name, objective",
    [("branin", branin), ("hartmann6", hartmann6)],
)
def test_beats_random_search_in_nine_of_ten_seeds(name, objective):
    gp = [_regret(GPSampler(), objective, name, seed) for seed in range(10)]
    rand = [_regret("random", objective, name, seed) for seed in range(10)]
    wins = sum(g < r for g, r in zip(gp, rand, strict=True))
    assert wins >= 9, (gp, rand)
    assert np.median(gp) < 0.1 * np.median(rand)


def _mixed_space():
    return [
        Float("lr", 1e-5, 1e-1, sampling="log"),
        Int("units", 8, 256, step=8),
        Int("layers", 1, 5),
        Float("dropout", 0.0, 0.5, step=0.1),
        Choice("optimizer", ["adam", "sgd", "rmsprop"]),
        Choice("batch", [16, 32, 64], ordered=True),
        Boolean("bn"),
        Fixed("seed", 7),
        Float("momentum", 0.0, 0.99, conditions=[Parent("optimizer", ["sgd"])]),
        Int("warmup", 0, 10, conditions=[Parent("optimizer", ["adam", "rmsprop"])]),
    ]


def _mixed_objective(values):
    score = (math.log10(values["lr"]) + 3) ** 2 + (values["units"] - 128) ** 2 / 1e4 + values["dropout"]
    score += {"adam": 0.0, "sgd": 0.5, "rmsprop": 1.0}[values["optimizer"]] + 0.1 * values["layers"]
    if values["optimizer"] == "sgd":
        score += (values["momentum"] - 0.9) ** 2
    return score


def _run_loop(sampler, space, n_trials, seed, objective, direction="min", pending=0):
    """An ask/tell loop on the sampler alone; the last ``pending`` proposals stay running."""
    trials = []
    for number in range(n_trials):
        view = TrialsView(trials, number, direction)
        values = sampler.propose(space, view, np.random.default_rng([seed, number]))
        if values is None:
            return trials, None
        running = number >= n_trials - pending
        trials.append(
            FrozenTrial(
                study_id=0, number=number, trial_id=str(number),
                status=TrialStatus.RUNNING if running else TrialStatus.COMPLETED,
                values=values, score=None if running else objective(values),
            )
        )
    return trials, True


def _check_valid(space, values):
    expected = set()
    walked = {}
    for hp in space:
        if hp.name in walked or not hp.is_active(walked):
            continue
        assert hp.name in values, (hp.name, values)
        walked[hp.name] = values[hp.name]
        expected.add(hp.name)
        assert hp.contains(values[hp.name]), (hp, values[hp.name])
    assert set(values) == expected, (set(values), expected)


def test_samples_respect_bounds_steps_types_and_conditions():
    space = _mixed_space()
    trials, _ = _run_loop(GPSampler(), space, 40, 3, _mixed_objective)
    assert len(trials) == 40
    for trial in trials:
        values = trial.values
        _check_valid(space, values)
        assert isinstance(values["units"], int) and values["units"] % 8 == 0
        assert isinstance(values["layers"], int) and not isinstance(values["layers"], bool)
        assert isinstance(values["bn"], bool)
        assert values["seed"] == 7
        assert round(values["dropout"] * 10) == pytest.approx(values["dropout"] * 10)
        assert ("momentum" in values) == (values["optimizer"] == "sgd")
        assert ("warmup" in values) == (values["optimizer"] != "sgd")
    assert len({config_key(t.values) for t in trials}) == 40
    # The model-based phase finds something good on this easy objective.
    assert min(t.score for t in trials) < min(t.score for t in trials[:10])


def test_snapper_outputs_valid_encodings():
    space = _mixed_space()
    encoder = UnitCubeEncoder(space)
    snap = _Snapper(space, encoder)
    raw = np.random.default_rng(0).random((200, encoder.dim))
    snapped = snap(raw)
    for row in snapped:
        values = encoder.decode(row)
        _check_valid(space, values)
        np.testing.assert_allclose(encoder.encode(values), row, atol=1e-9)


def test_no_duplicates_on_a_small_discrete_space_until_exhausted():
    space = [Int("a", 0, 3), Choice("b", ["x", "y", "z"]), Boolean("c")]
    size = grid_size(space)
    assert size == 24
    trials, finished = _run_loop(
        GPSampler(num_initial_points=3), space, size + 1, 0,
        lambda v: v["a"] + {"x": 0, "y": 1, "z": 2}[v["b"]] + v["c"],
    )
    assert finished is None
    assert len(trials) == size
    assert len({config_key(t.values) for t in trials}) == size


def test_pending_trials_are_not_proposed_again():
    space = [Float("x", 0.0, 1.0), Float("y", 0.0, 1.0)]
    trials, _ = _run_loop(GPSampler(), space, 20, 1, lambda v: (v["x"] - 0.3) ** 2 + (v["y"] - 0.6) ** 2, pending=4)
    pending = [t.values for t in trials[-4:]]
    for i in range(4):
        for j in range(i):
            distance = math.dist(pending[i].values(), pending[j].values())
            assert distance > 1e-3


def test_reproducible_with_the_same_seed():
    def run(seed):
        study = hk.create_study(storage=":memory:", algorithm=GPSampler(), seed=seed)
        study.optimize(branin, n_trials=15, verbose=0)
        return [dict(t.values) for t in study.get_trials()]

    assert run(4) == run(4)
    space = _mixed_space()
    first, _ = _run_loop(GPSampler(), space, 15, 9, _mixed_objective)
    second, _ = _run_loop(GPSampler(), space, 15, 9, _mixed_objective)
    assert [t.values for t in first] == [t.values for t in second]


def test_maximisation_and_ucb():
    space = [Float("x", -2.0, 2.0)]
    for acquisition in ("log_ei", "ucb"):
        trials, _ = _run_loop(
            GPSampler(acquisition=acquisition), space, 20, 2, lambda v: -((v["x"] - 1.0) ** 2), direction="max"
        )
        assert max(t.score for t in trials) > -1e-2


def test_alternate_takes_log_ei_and_ucb_in_turn():
    space = [Float("x", 0.0, 1.0), Float("y", 0.0, 1.0)]
    bumpy = lambda v: math.sin(9.0 * v["x"]) + math.cos(7.0 * v["y"]) + v["x"] * v["y"]  # noqa: E731
    history, _ = _run_loop(GPSampler(acquisition="log_ei"), space, 13, 5, bumpy)
    for n, expected in ((12, "log_ei"), (13, "ucb")):
        view = TrialsView(history[:n], n, "min")
        beta = GPSampler().beta  # the weight of alternate's UCB half
        proposals = {
            acquisition: GPSampler(acquisition=acquisition, beta=beta).propose(space, view, np.random.default_rng(n))
            for acquisition in ("alternate", "log_ei", "ucb")
        }
        assert proposals["log_ei"] != proposals["ucb"]  # else this test could not tell them apart
        assert proposals["alternate"] == proposals[expected], n


def test_ucb_alone_keeps_keras_tuners_beta_and_alternating_uses_its_own():
    assert GPSampler(acquisition="ucb").beta == 2.6
    assert GPSampler().beta == 2.0
    assert GPSampler(beta=3.0).beta == GPSampler(acquisition="ucb", beta=3.0).beta == 3.0


def test_invalid_arguments():
    with pytest.raises(ValueError, match="acquisition"):
        GPSampler(acquisition="pi")
    with pytest.raises(ValueError, match="num_initial_points"):
        GPSampler(num_initial_points=-1)


def test_kernel_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.random((25, 3))
    y = np.sin(5 * x[:, 0]) + x[:, 1]
    y = (y - y.mean()) / y.std()
    theta = rng.normal(size=5) * 0.5
    numeric = scipy.optimize.approx_fprime(theta, lambda t: _neg_objective(t, x, y)[0], 1e-6)
    np.testing.assert_allclose(_neg_objective(theta, x, y)[1], numeric, rtol=1e-4, atol=1e-4)


def test_log_h_is_finite_and_accurate():
    z = np.array([-1e3, -40.0, -5.0, -1.0001, -0.9999, 0.0, 3.0])
    values = log_h(z)
    assert np.all(np.isfinite(values))
    from scipy.stats import norm

    for zi, vi in zip(z[2:], values[2:], strict=True):
        assert vi == pytest.approx(math.log(norm.pdf(zi) + zi * norm.cdf(zi)), rel=1e-6)
    assert np.all(np.diff(values) > 0)


def test_output_warp_keeps_the_ranking_and_tames_a_long_tail():
    from scipy.stats import skew, yeojohnson

    y = np.random.default_rng(0).lognormal(sigma=1.5, size=60) * 100.0
    warped = warp_losses(y)
    np.testing.assert_array_equal(np.argsort(warped, kind="stable"), np.argsort(y, kind="stable"))
    assert warped.mean() == pytest.approx(0.0, abs=1e-9) and warped.std() == pytest.approx(1.0)
    assert abs(skew(warped)) < 0.6 * abs(skew(y))
    z = np.linspace(-3.0, 4.0, 15)
    for lam in _YJ_GRID[::7]:
        np.testing.assert_allclose(_yeo_johnson(z, np.array([lam]))[0], yeojohnson(z, lmbda=lam), rtol=1e-10)


def test_local_search_sweeps_discrete_values():
    # The optimum needs a categorical and a small integer value that the continuous climb cannot move.
    space = [Float("x", 0.0, 1.0), Choice("c", ["a", "b", "c", "d"]), Int("k", 0, 4)]

    def objective(v):
        return (v["x"] - 0.37) ** 2 + {"a": 1.0, "b": 0.6, "c": 0.0, "d": 0.8}[v["c"]] + 0.3 * abs(v["k"] - 3)

    trials, _ = _run_loop(GPSampler(num_initial_points=5), space, 25, 5, objective)
    best = min(trials, key=lambda t: t.score)
    assert best.values["c"] == "c" and best.values["k"] == 3
    assert best.score < 1e-3


def test_branin_to_high_precision():
    """The noise floor limits how finely a deterministic optimum is resolved: with 1e-6 (optuna's)
    these seeds ended at a median regret of 3.3e-5 (worst 6e-4); with 1e-9 at 4.8e-7 (worst 1.1e-5)."""
    regrets = [_regret(GPSampler(), branin, "branin", seed, n_trials=60) for seed in range(6)]
    assert np.median(regrets) < 3e-6, regrets
    assert max(regrets) < 1e-4, regrets
