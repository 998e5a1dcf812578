"""TPESampler: beats random search, respects the space, never repeats, reproducible, robust."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hyperknob as hk
from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.samplers.base import TrialsView
from hyperknob.samplers.tpe import TPESampler
from hyperknob.space.conditions import Parent
from hyperknob.space.parameters import Boolean, Choice, Fixed, Float, Int
from hyperknob.space.search_space import config_key
from hyperknob.testing.functions import OPTIMA, branin, hartmann6


def _regret(algorithm, fn, name: str, seed: int, n_trials: int = 50) -> float:
    study = hk.create_study(storage=":memory:", algorithm=algorithm, seed=seed)
    return study.optimize(fn, n_trials=n_trials, verbose=0).best_value - OPTIMA[name]


@pytest.mark.parametrize("name, fn", [("branin", branin), ("hartmann6", hartmann6)])
def test_beats_random_search_in_9_of_10_seeds(name, fn):
    tpe = [_regret(TPESampler(), fn, name, s) for s in range(10)]
    rnd = [_regret("random", fn, name, s) for s in range(10)]
    wins = sum(a < b for a, b in zip(tpe, rnd, strict=True))
    assert wins >= 9, (name, wins, np.median(tpe), np.median(rnd))
    assert np.median(tpe) < 0.5 * np.median(rnd)


def _trial(number, values, score=None, status=TrialStatus.COMPLETED):
    return FrozenTrial(study_id=1, number=number, trial_id=f"t{number}", status=status, values=dict(values), score=score)


def _run(space, objective, n, seed=0, sampler=None, direction="min"):
    """Ask/tell against the sampler directly, as the study does (one rng per trial number)."""
    sampler = sampler or TPESampler()
    trials = []
    for number in range(n):
        view = TrialsView(trials, number, direction)
        values = sampler.propose(space, view, np.random.default_rng([seed, number]))
        if values is None:
            return trials, None
        trials.append(_trial(number, values, objective(values)))
    return trials, sampler


MIXED = [
    Float("lr", 1e-5, 1e-1, sampling="log"),
    Int("units", 16, 256, step=16),
    Int("layers", 1, 8),
    Int("batch", 8, 512, sampling="log"),
    Float("dropout", 0.0, 0.5, step=0.05),
    Choice("opt", ["adam", "sgd", "rmsprop"]),
    Choice("width", [32, 64, 128]),  # ordered
    Boolean("bn"),
    Fixed("seed", 7),
    Choice("model", ["mlp", "cnn"]),
    Int("filters", 8, 64, step=8, conditions=(Parent("model", ["cnn"]),)),
    Float("momentum", 0.5, 0.99, conditions=(Parent("opt", ["sgd"]),)),
]


def _mixed_objective(v):
    loss = (math.log10(v["lr"]) + 3) ** 2 + abs(v["units"] - 128) / 64 + v["dropout"]
    loss += 0.0 if v["opt"] == "adam" else 0.5
    loss += 0.3 if v["bn"] else 0.0
    if v["model"] == "cnn":
        loss += abs(v["filters"] - 32) / 32 - 0.5
    if v["opt"] == "sgd":
        loss += abs(v["momentum"] - 0.9)
    return loss


def test_mixed_space_respects_bounds_steps_types_and_conditions():
    trials, _ = _run(MIXED, _mixed_objective, 60)
    assert len(trials) == 60
    for t in trials:
        v = t.values
        expected = {"lr", "units", "layers", "batch", "dropout", "opt", "width", "bn", "seed", "model"}
        expected |= {"filters"} if v["model"] == "cnn" else set()
        expected |= {"momentum"} if v["opt"] == "sgd" else set()
        assert set(v) == expected, v
        for hp in MIXED:
            if hp.name in v:
                assert hp.contains(v[hp.name]), (hp, v[hp.name])
        assert 1e-5 <= v["lr"] <= 1e-1 and isinstance(v["lr"], float)
        assert isinstance(v["units"], int) and v["units"] % 16 == 0 and 16 <= v["units"] <= 256
        assert isinstance(v["layers"], int) and not isinstance(v["layers"], bool)
        assert isinstance(v["batch"], int) and 8 <= v["batch"] <= 512
        assert isinstance(v["bn"], bool)
        assert v["opt"] in ("adam", "sgd", "rmsprop") and v["width"] in (32, 64, 128)
        assert v["seed"] == 7
        assert round(v["dropout"] / 0.05, 9) == round(v["dropout"] / 0.05)
    keys = [config_key(t.values) for t in trials]
    assert len(set(keys)) == len(keys)
    # The model is used after the startup trials: the good branch is found more often than at random.
    late = trials[30:]
    assert sum(t.values["opt"] == "adam" for t in late) > len(late) / 3


def test_no_duplicates_until_exhausted_then_none():
    space = [Choice("a", ["x", "y"]), Int("b", 0, 2)]
    sampler = TPESampler(n_startup_trials=2)
    trials, result = _run(space, lambda v: v["b"] + (v["a"] == "y"), 10, sampler=sampler)
    assert result is None  # the seventh proposal finds nothing left
    assert len(trials) == 6
    assert len({config_key(t.values) for t in trials}) == 6


def test_no_duplicates_on_a_discrete_conditional_space():
    space = [
        Boolean("flag"),
        Choice("c", ["p", "q", "r"], conditions=(Parent("flag", [True]),)),
        Int("i", 1, 3),
    ]  # 3 (flag False) + 9 (flag True) = 12 configurations
    trials, result = _run(space, lambda v: v["i"] + (v.get("c") == "q"), 20, sampler=TPESampler(n_startup_trials=3))
    assert result is None and len(trials) == 12
    assert len({config_key(t.values) for t in trials}) == 12


@pytest.mark.parametrize("multivariate", [True, False])
def test_reproducible_under_a_seed(multivariate):
    runs = [_run(MIXED, _mixed_objective, 30, seed=3, sampler=TPESampler(multivariate=multivariate))[0] for _ in range(2)]
    assert [t.values for t in runs[0]] == [t.values for t in runs[1]]
    other = _run(MIXED, _mixed_objective, 30, seed=4, sampler=TPESampler(multivariate=multivariate))[0]
    assert [t.values for t in other] != [t.values for t in runs[0]]


def test_reproducible_through_a_study():
    def best(seed):
        study = hk.create_study(storage=":memory:", algorithm=TPESampler(), seed=seed)
        return study.optimize(branin, n_trials=25, verbose=0).best_value

    assert best(1) == best(1)


def test_failed_running_and_odd_trials_do_not_break_it():
    space = [Float("x", 0.0, 1.0), Choice("c", ["a", "b"])]
    rng = np.random.default_rng(0)
    trials = []
    for i in range(30):
        values = {"x": float(rng.random()), "c": "a" if i % 2 else "b"}
        status = [TrialStatus.COMPLETED, TrialStatus.FAILED, TrialStatus.INVALID, TrialStatus.RUNNING][i % 4]
        score = {0: (values["x"] - 0.3) ** 2, 1: None, 2: float("nan"), 3: None}[i % 4]
        trials.append(_trial(i, values, score, status))
    trials.append(_trial(30, {"x": 0.5, "c": "a"}, float("inf")))  # infinite: not finished
    trials.append(_trial(31, {"x": 7.0, "c": "zzz"}, 0.0))  # values from an older space
    trials.append(_trial(32, {}, 1.0))  # no values at all
    view = TrialsView(trials, len(trials), "min")
    tried = view.tried_keys(space)
    for seed in range(5):
        values = TPESampler(n_startup_trials=3).propose(space, view, np.random.default_rng(seed))
        assert set(values) == {"x", "c"} and 0.0 <= values["x"] <= 1.0 and values["c"] in ("a", "b")
        assert config_key(values) not in tried


def test_running_trials_are_avoided_constant_liar():
    # One very good region; many workers running there: the next proposal goes elsewhere more often.
    space = [Float("x", 0.0, 1.0)]
    done = [_trial(i, {"x": x}, (x - 0.2) ** 2) for i, x in enumerate(np.linspace(0.0, 1.0, 20))]
    running = [_trial(20 + i, {"x": 0.2 + 0.002 * i}, None, TrialStatus.RUNNING) for i in range(10)]

    def near(consider_running):
        sampler = TPESampler(consider_running=consider_running)
        view = TrialsView(done + running, 30, "min")
        xs = [sampler.propose(space, view, np.random.default_rng(s))["x"] for s in range(40)]
        return sum(abs(x - 0.21) < 0.03 for x in xs)

    assert near(True) < near(False)


def test_maximisation_direction():
    space = [Float("x", 0.0, 1.0)]
    trials, _ = _run(space, lambda v: -((v["x"] - 0.7) ** 2), 40, direction="max")
    assert abs(max(trials, key=lambda t: t.score).values["x"] - 0.7) < 0.05


def test_startup_phase_and_empty_space():
    sampler = TPESampler()
    assert sampler.propose([], TrialsView([], 0), np.random.default_rng(0)) == {}
    assert sampler.propose([Fixed("f", 1)], TrialsView([], 0), np.random.default_rng(0)) == {"f": 1}
    with pytest.raises(ValueError):
        TPESampler(n_ei_candidates=0)


def test_log_mass_of_a_bin_matches_the_log_space_formula_in_every_tail():
    from scipy.special import log_ndtr

    from hyperknob.samplers.tpe import _log_diff_ndtr

    a = np.concatenate([np.linspace(-40, 40, 801), [-8.0, 5.0, 7.5, -0.001]])
    b = a + np.concatenate([np.full(801, 0.05), [1e-6, 2.0, 1e-3, 0.002]])
    flip = a > 0
    a2, b2 = np.where(flip, -b, a), np.where(flip, -a, b)
    lb, la = log_ndtr(b2), log_ndtr(a2)
    reference = np.maximum(lb + np.log1p(-np.exp(la - lb)), -700.0)
    assert np.allclose(_log_diff_ndtr(a, b), reference, rtol=1e-6, atol=1e-9)


def test_thinning_keeps_the_newest_kernels_with_their_weights():
    from hyperknob.samplers.tpe import _thinned, default_weights

    rows = np.arange(3000, dtype=float)[:, None]
    weights = default_weights(3000)
    kept, kept_weights = _thinned(rows, weights, 400)
    assert len(kept) == len(kept_weights) == 400
    assert np.array_equal(kept[:, 0], rows[-400:, 0]) and np.array_equal(kept_weights, weights[-400:])
    short, short_weights = _thinned(rows[:300], weights[:300], 400)
    assert np.array_equal(short, rows[:300]) and np.array_equal(short_weights, weights[:300])


def _long_history(n, seed=0):
    rng = np.random.default_rng(seed)
    xs = rng.random(n)
    return [_trial(i, {"x": float(x), "k": int(rng.integers(1, 9))}, (float(x) - 0.3) ** 2) for i, x in enumerate(xs)]


def test_a_long_history_is_modelled_from_capped_kernels_and_still_finds_the_good_region():
    space = [Float("x", 0.0, 1.0), Int("k", 1, 8)]
    view = TrialsView(_long_history(3000), 3000, "min")

    def distances(max_kernels):
        sampler = TPESampler(max_kernels=max_kernels)
        return np.array([abs(sampler.propose(space, view, np.random.default_rng(s))["x"] - 0.3) for s in range(30)])

    capped, full = distances(400), distances(10**6)
    # Random search's median distance here is about 0.23.
    assert np.median(capped) < 0.015 and np.median(full) < 0.015
    assert abs(np.median(capped) - np.median(full)) < 0.005


def test_the_encoded_history_carried_between_proposals_changes_no_proposal():
    space = [Float("x", 0.0, 1.0), Int("k", 1, 8)]
    history = _long_history(300, seed=1)
    warm = TPESampler()
    for n in (50, 120, 121, 300):  # the same sampler along a growing study, as a study uses it
        view = TrialsView(history[:n], n, "min")
        fresh = TPESampler().propose(space, view, np.random.default_rng(n))
        assert warm.propose(space, view, np.random.default_rng(n)) == fresh
    shuffled = list(reversed(history))  # a view not in trial order is sorted, not appended to
    view = TrialsView(shuffled, 300, "min")
    assert warm.propose(space, view, np.random.default_rng(5)) == TPESampler().propose(
        space, TrialsView(history, 300, "min"), np.random.default_rng(5))


def test_the_good_group_is_the_lowest_losses_with_ties_to_the_earlier_trial():
    from hyperknob.samplers.tpe import _lowest

    rng = np.random.default_rng(3)
    for _ in range(50):
        losses = rng.integers(0, 6, size=int(rng.integers(1, 40))).astype(float)
        k = int(rng.integers(1, len(losses) + 1))
        expected = np.zeros(len(losses), dtype=bool)
        expected[np.lexsort((np.arange(len(losses)), losses))[:k]] = True
        assert np.array_equal(_lowest(losses, k), expected)
