"""Multi-objective search: dominance and hypervolume, the Pareto front of a study, constraints,
KerasTuner's sum kept by default, resume, several workers, and the model-based samplers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import hyperknob as kt
from hyperknob.exceptions import FatalValueError
from hyperknob.pareto import crowding_distance, dominates, hypervolume, nondominated_ranks, pareto_mask, rank_order

TWO = [kt.Objective("f1", "min"), kt.Objective("f2", "min")]


def _brute_front(points: np.ndarray) -> set[int]:
    return {i for i, p in enumerate(points)
            if not any(dominates(q, p) for j, q in enumerate(points) if j != i)}


# --- the arithmetic -------------------------------------------------------------------------------
def test_dominance_fronts_ties_and_nan():
    f = np.array([[1, 3], [2, 2], [3, 1], [2, 2], [3, 3], [np.nan, 0], [4, 4]], dtype=float)
    assert dominates([1, 1], [1, 2]) and not dominates([1, 2], [1, 2]) and not dominates([np.nan, 0], [5, 5])
    ranks = nondominated_ranks(f)
    assert list(ranks[:5]) == [0, 0, 0, 0, 1]  # equal rows share their front
    assert ranks[6] == 2 and ranks[5] == 3  # NaN: after the last front
    assert set(np.flatnonzero(pareto_mask(f))) == {0, 1, 2, 3}


def test_ranks_match_a_brute_force_peel_on_random_points():
    rng = np.random.default_rng(0)
    for _ in range(20):
        f = rng.integers(0, 6, size=(30, 3)).astype(float)
        ranks, remaining, rank = nondominated_ranks(f), set(range(30)), 0
        while remaining:
            idx = sorted(remaining)
            front = {idx[i] for i in _brute_front(f[idx])}
            assert {i for i in remaining if ranks[i] == rank} == front
            remaining -= front
            rank += 1


def test_hypervolume_exact_in_two_dimensions_and_monte_carlo_in_three():
    assert hypervolume(np.array([[1.0, 2.0], [2.0, 1.0]]), (3.0, 3.0)) == pytest.approx(3.0)
    assert hypervolume(np.array([[5.0, 5.0]]), (3.0, 3.0)) == 0.0  # beyond the reference: nothing
    rng = np.random.default_rng(1)
    f = rng.random((12, 3))
    samples = rng.random((200_000, 3))
    dominated = np.zeros(len(samples), dtype=bool)
    for p in f:
        dominated |= np.all(samples >= p, axis=1)
    assert hypervolume(f, (1.0, 1.0, 1.0)) == pytest.approx(dominated.mean(), abs=0.006)


def test_crowding_and_rank_order_put_feasible_fronts_first():
    f = np.array([[0.0, 1.0], [0.5, 0.5], [0.6, 0.45], [1.0, 0.0], [2.0, 2.0]])
    crowd = crowding_distance(f[:4])
    assert math.isinf(crowd[0]) and math.isinf(crowd[3]) and crowd[1] > crowd[2]
    places = rank_order(f, violations=np.array([0, 0, 0, 5.0, 0]))
    assert places[3] == 4  # infeasible: last whatever its values
    assert places[4] == 3  # the dominated feasible one before it
    assert set(places[:3]) == {0, 1, 2}


# --- a study's front ------------------------------------------------------------------------------
def _zdt1(hp):
    x = [hp.Float(f"x{i}", 0.0, 1.0) for i in range(3)]
    g = 1 + 9 * (x[1] + x[2]) / 2
    return {"f1": x[0], "f2": g * (1 - math.sqrt(x[0] / g)), "c": x[0] + x[1] - 0.8}


def _space():
    hps = kt.HyperParameters()
    for i in range(3):
        hps.Float(f"x{i}", 0.0, 1.0)
    return hps


def test_best_trials_are_the_brute_force_front_with_objective_values_in_order(tmp_path):
    study = kt.create_study(str(tmp_path), "p", objective=TWO, pareto=True, algorithm="random", seed=3,
                            hyperparameters=_space())
    study.optimize(_zdt1, n_trials=40, verbose=0)
    done = study.get_trials((kt.TrialStatus.COMPLETED,))
    points = np.array([[t.metrics_at(None)["f1"], t.metrics_at(None)["f2"]] for t in done])
    expected = {done[i].number for i in _brute_front(points)}
    front = study.best_trials
    assert {t.number for t in front} == expected and len(front) >= 3
    first = [t.objective_values[0] for t in front]
    assert first == sorted(first)  # ordered by the first objective
    t = front[0]
    assert t.objective_values == (t.metrics_at(None)["f1"], t.metrics_at(None)["f2"])
    assert set(t.values) == {"x0", "x1", "x2"}  # .values stays the hyperparameters
    # get_best_trials: the front first, then the next front
    ranked = study.get_best_trials(len(done))
    assert {x.number for x in ranked[: len(front)]} == expected
    assert study.best_trial.number == front[0].number
    assert kt.load_study(str(tmp_path), "p").is_pareto


def test_a_list_objective_keeps_kerastuners_sum_unless_pareto_is_asked():
    study = kt.create_study(storage=":memory:", objective=[kt.Objective("a", "max"), kt.Objective("b", "min")],
                            algorithm="random", seed=0)
    study.optimize(lambda hp: {"a": hp.Float("x", 0, 1), "b": 2 * hp.Float("y", 0, 1)}, n_trials=15, verbose=0)
    done = study.get_trials((kt.TrialStatus.COMPLETED,))
    best = min(done, key=lambda t: t.metrics_at(None)["b"] - t.metrics_at(None)["a"])
    assert study.best_trial.number == best.number and not study.is_pareto
    assert set(study.best_trial.objective_values) == {"a", "b"}  # a plain objective: a dict of the values
    with pytest.raises(FatalValueError, match="pareto=True needs at least two objectives"):
        kt.create_study(storage=":memory:", objective=[kt.Objective("a", "max")], pareto=True)


def test_a_pareto_study_resumes_and_refuses_to_become_a_sum(tmp_path):
    study = kt.create_study(str(tmp_path), "r", objective=TWO, pareto=True, algorithm="tpe", seed=1,
                            hyperparameters=_space())
    study.optimize(_zdt1, n_trials=12, verbose=0)
    again = kt.create_study(str(tmp_path), "r", objective=TWO, pareto=True, algorithm="tpe", seed=1)
    again.optimize(_zdt1, n_trials=4, verbose=0)
    assert len(again.trials) == 16 and again.best_trials
    with pytest.raises(FatalValueError, match="Pareto"):
        kt.create_study(str(tmp_path), "r", objective=TWO, algorithm="tpe")


def test_constraints_keep_infeasible_trials_but_never_as_the_best(tmp_path):
    study = kt.create_study(str(tmp_path), "c", objective=TWO, pareto=True, algorithm="random", seed=2,
                            hyperparameters=_space(), constraints=[kt.Constraint("c", "<=", 0.0)])
    study.optimize(_zdt1, n_trials=40, verbose=0)
    done = study.get_trials((kt.TrialStatus.COMPLETED,))
    infeasible = [t for t in done if t.metrics_at(None)["c"] > 0]
    assert infeasible and len(done) == 40  # kept
    assert all(t.user_attrs["constraints"] == [pytest.approx(t.metrics_at(None)["c"])] for t in done)
    feasible = [t for t in done if t.metrics_at(None)["c"] <= 0]
    points = np.array([[t.metrics_at(None)["f1"], t.metrics_at(None)["f2"]] for t in feasible])
    assert {t.number for t in study.best_trials} == {feasible[i].number for i in _brute_front(points)}
    # The bounds are stored: a worker that opens the study applies them without being told.
    reopened = kt.create_study(str(tmp_path), "c", objective=TWO, pareto=True, algorithm="random")
    assert reopened.constraints == [kt.Constraint("c", "<=", 0.0)]
    reopened.optimize(_zdt1, n_trials=2, verbose=0)
    assert all("constraints" in t.user_attrs for t in reopened.trials)


def test_a_constraint_function_on_a_single_objective_and_its_errors():
    study = kt.create_study(storage=":memory:", objective="loss", algorithm="random", seed=0,
                            constraints=lambda trial: trial.metrics.get_last_value("size") - 5)
    study.optimize(lambda hp: {"loss": -hp.Int("size", 1, 10), "size": hp.get("size")}, n_trials=20, verbose=0)
    assert study.best_trial.values["size"] <= 5  # the lowest loss that meets size <= 5
    assert max(t.values["size"] for t in study.trials) > 5
    bad = kt.create_study(storage=":memory:", objective="loss", constraints=[kt.Constraint("latency", "<=", 1)])
    with pytest.raises(FatalValueError, match="'latency', which the trial did not report"):
        bad.optimize(lambda hp: {"loss": hp.Float("x", 0, 1)}, n_trials=3, verbose=0)
    assert [t.status for t in bad.trials] == [kt.TrialStatus.FAILED]
    with pytest.raises(FatalValueError, match="operator must be one of"):
        kt.Constraint("x", "==", 1)


def test_several_workers_share_one_pareto_study(tmp_path):
    study = kt.create_study(str(tmp_path), "w", objective=TWO, pareto=True, algorithm="tpe", seed=4,
                            hyperparameters=_space())
    study.optimize(_zdt1, n_trials=16, n_workers=2, verbose=0)
    trials = study.trials
    assert len(trials) == 16 and all(t.status == kt.TrialStatus.COMPLETED for t in trials)
    assert len({t.worker for t in trials}) == 2
    assert len({tuple(sorted(t.values.items())) for t in trials}) == 16
    assert study.best_trials


# --- the samplers use it --------------------------------------------------------------------------
def _front_hypervolume(algorithm: str, seed: int, n: int) -> float:
    study = kt.create_study(storage=":memory:", objective=TWO, pareto=True, algorithm=algorithm, seed=seed,
                            hyperparameters=_space())
    study.optimize(_zdt1, n_trials=n, verbose=0)
    return hypervolume(np.array([t.objective_values for t in study.best_trials]), (1.1, 11.0))


@pytest.mark.parametrize("algorithm", ["gp", "tpe"])
def test_model_based_pareto_search_beats_random_search(algorithm):
    ours = [_front_hypervolume(algorithm, seed, 40) for seed in range(3)]
    rand = [_front_hypervolume("random", seed, 40) for seed in range(3)]
    assert np.median(ours) > np.median(rand) + 0.2, (ours, rand)


def test_constrained_gp_finds_the_optimum_on_the_boundary():
    def constrained(hp):
        x, y = hp.Float("x", 0, 1), hp.Float("y", 0, 1)
        return {"loss": (x - 0.9) ** 2 + (y - 0.9) ** 2, "c": x + y - 1.0}  # the optimum: (0.5, 0.5), 0.32

    def run(algorithm, constraints, seed):
        study = kt.create_study(storage=":memory:", objective="loss", algorithm=algorithm, seed=seed,
                                constraints=constraints)
        study.optimize(constrained, n_trials=30, verbose=0)
        feasible = [t.metrics_at(None)["c"] <= 0 for t in study.trials[10:]]
        best = min(t.score for t in study.trials if t.metrics_at(None)["c"] <= 0)
        return float(np.mean(feasible)), best

    bound = [kt.Constraint("c", "<=", 0.0)]
    for seed in range(2):
        share, best = run("gp", bound, seed)
        blind_share, _ = run("gp", None, seed)  # the same GP told nothing of the constraint
        _, random_best = run("random", bound, seed)
        assert best < 0.322 < random_best, (best, random_best)
        assert share >= 0.5 > blind_share + 0.3, (share, blind_share)


def test_a_study_front_matches_pairs_of_objective_values():
    # the NaN case: a trial whose second objective is NaN is INVALID, never on the front
    study = kt.create_study(storage=":memory:", objective=TWO, pareto=True, algorithm="random", seed=0,
                            max_consecutive_failed_trials=None)
    values = itertools.cycle([(1.0, 2.0), (2.0, 1.0), (0.5, float("nan")), (2.0, 2.0)])
    study.optimize(lambda hp: dict(zip(("f1", "f2"), next(values), strict=True)) if hp.Int("i", 0, 99) >= 0 else 0,
                   n_trials=8, verbose=0)
    assert sorted(t.objective_values for t in study.best_trials) == [(1.0, 2.0), (1.0, 2.0), (2.0, 1.0), (2.0, 1.0)]


def test_asha_promotes_by_front_in_a_pareto_search():
    from hyperknob.schedulers import ASHAScheduler

    def objective(hp):
        x, bad = hp.Float("x", 0.0, 1.0), hp.Float("bad", 0.0, 1.0)
        e = hp["tuner/epochs"]
        return {"f1": x + bad + 1.0 / e, "f2": 2 * (1 - x) + bad + 1.0 / e}  # the sum favours x = 1

    parents = {}
    for pareto in (True, False):
        study = kt.create_study(storage=":memory:", objective=TWO, pareto=pareto, seed=0, max_trials=60,
                                algorithm=ASHAScheduler(max_epochs=9, factor=3))
        study.optimize(objective, verbose=0)
        by_id = {t.trial_id: t for t in study.trials}
        promoted = {t.values["tuner/trial_id"] for t in study.trials if "tuner/trial_id" in t.values}
        first_rung = [t for t in study.trials if "tuner/trial_id" not in t.values]
        kept = [by_id[p] for p in promoted if by_id[p] in first_rung]
        left = [t for t in first_rung if t.trial_id not in promoted and t.status == kt.TrialStatus.COMPLETED]
        assert np.mean([t.values["bad"] for t in kept]) < np.mean([t.values["bad"] for t in left]) - 0.2
        parents[pareto] = [t.values["x"] for t in kept]
    assert np.ptp(parents[True]) > 0.5  # the front's both ends climb
    assert np.mean(parents[True]) < np.mean(parents[False])  # the sum only the end it favours


def test_pruners_judge_a_pareto_trial_by_dominance_at_its_step():
    from hyperknob.schedulers import MedianPruner, SuccessiveHalvingPruner

    done = [(kt.TrialStatus.COMPLETED, {0: (float(i), float(4 - i))}) for i in range(5)]  # a front: median (2, 2)
    median = MedianPruner(n_startup_trials=3)
    assert median.should_prune_front(0, {0: (3.0, 3.0)}, done)  # worse than the median in both
    assert not median.should_prune_front(0, {0: (0.5, 3.5)}, done)  # worse in one only: a trade-off
    halving = SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    rung = [(kt.TrialStatus.COMPLETED, {1: (float(i), float(5 - i))}) for i in range(6)]
    assert halving.should_prune_front(1, {1: (4.0, 4.0)}, rung)  # dominated: not in the top third
    assert not halving.should_prune_front(1, {1: (-1.0, -1.0)}, rung)

    def trial_fn(hp, trial):
        bad = hp.Float("bad", 0.0, 1.0)
        x = hp.Float("x", 0.0, 1.0)
        for step in range(4):
            trial.report(step, {"f1": x + bad + 1 / (step + 1), "f2": 1 - x + bad + 1 / (step + 1)})
            if trial.should_prune():
                raise kt.TrialPruned()
        return {"f1": x + bad + 0.25, "f2": 1 - x + bad + 0.25}

    study = kt.create_study(storage=":memory:", objective=TWO, pareto=True, algorithm="random", seed=0,
                            pruner=MedianPruner(n_startup_trials=3))
    study.optimize(trial_fn, n_trials=30, verbose=0)
    stopped = [t for t in study.trials if t.status == kt.TrialStatus.STOPPED]
    completed = [t for t in study.trials if t.status == kt.TrialStatus.COMPLETED]
    assert stopped and completed
    assert np.mean([t.values["bad"] for t in stopped]) > np.mean([t.values["bad"] for t in completed]) + 0.2
