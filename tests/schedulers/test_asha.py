"""ASHA: promotions decided as results arrive, no worker ever waits, correct with several workers."""

from __future__ import annotations

import collections
import threading

import pytest

import hyperknob as hk
from hyperknob._types import TrialStatus
from hyperknob.schedulers import ASHAScheduler, HyperbandScheduler
from hyperknob.schedulers.asha import rung_epochs
from hyperknob.schedulers.base import SCHEDULE_KEYS
from hyperknob.space.parameters import Float
from hyperknob.testing.simulation import simulate

SPACE = [Float("x", 0.0, 1.0), Float("rate", 0.01, 1.0, sampling="log")]


def curve(values, epochs):
    return (values["x"] - 0.3) ** 2 + 1.0 / (1.0 + values["rate"] * epochs)


def epoch_time(values):
    return 0.2 + 3.0 * values["x"]  # very different speeds, so workers finish out of order


@pytest.mark.parametrize(
    ("min_epochs", "max_epochs", "factor", "expected"),
    [(1, 27, 3, [1, 3, 9, 27]), (1, 20, 3, [1, 3, 9, 20]), (2, 100, 4, [2, 8, 32, 100]), (5, 5, 3, [5]), (1, 8, 2, [1, 2, 4, 8])],
)
def test_rungs(min_epochs, max_epochs, factor, expected):
    assert rung_epochs(min_epochs, max_epochs, factor) == expected


def test_four_async_workers_are_never_idle():
    result = simulate(
        ASHAScheduler(max_epochs=27, factor=3), SPACE, curve, n_workers=4, max_trials=2000, epoch_time=epoch_time, seed=7
    )
    assert len(result.trials) == 2000
    assert result.idle_time == 0.0 and result.idle_while_work == 0
    rungs = collections.Counter(t.values["tuner/round"] for t in result.trials)
    assert rungs[3] > 0 and rungs[0] > rungs[1] > rungs[2] > rungs[3]
    # Hyperband, synchronous within a bracket, makes workers wait on the same problem.
    hyperband = simulate(
        HyperbandScheduler(max_epochs=27, factor=3, hyperband_iterations=3), SPACE, curve, n_workers=4,
        epoch_time=epoch_time, seed=7,
    )
    assert hyperband.idle_time > 0


def test_promotions_are_from_the_top_of_their_rung_when_decided():
    result = simulate(ASHAScheduler(max_epochs=27, factor=3), SPACE, curve, n_workers=4, max_trials=400, epoch_time=epoch_time, seed=1)
    by_id = {t.trial_id: t for t in result.trials}
    promoted = collections.Counter()
    for trial in result.trials:
        parent_id = trial.values.get("tuner/trial_id")
        if parent_id is None:
            continue
        promoted[parent_id] += 1
        parent = by_id[parent_id]
        assert trial.values["tuner/round"] == parent.values["tuner/round"] + 1
        assert trial.values["tuner/initial_epoch"] == parent.values["tuner/epochs"]
        # At the moment of the decision, the parent was in the top 1/3 of its rung's results.
        rung = [
            t for t in result.trials
            if t.values["tuner/round"] == parent.values["tuner/round"] and t.status == TrialStatus.COMPLETED
            and t.datetime_complete <= trial.datetime_start
        ]
        better = sum(1 for t in rung if t.score < parent.score)
        assert better < len(rung) // 3
    assert max(promoted.values()) == 1  # never promoted twice


def test_asha_reaches_the_same_quality_with_fewer_epochs_than_full_training():
    full = simulate(hk.samplers.RandomSampler(), SPACE, curve, max_trials=60, max_epochs=27, seed=3)
    asha = simulate(ASHAScheduler(max_epochs=27, factor=3), SPACE, curve, max_trials=150, seed=3)
    assert asha.epochs < full.epochs / 3
    assert asha.best() <= full.best() + 0.02


def test_several_workers_share_one_study(tmp_path):
    """Four threads, each with its own Study on one SQLite file: every trial number once, no
    parent promoted twice, every promotion's parent finished before it started."""
    def objective(hp):
        x = hp.Float("x", 0.0, 1.0)
        return (x - 0.3) ** 2 + 1.0 / hp["tuner/epochs"]

    def worker():
        study = hk.create_study(str(tmp_path), "asha", algorithm=ASHAScheduler(max_epochs=9, factor=3), seed=4, max_trials=60)
        study.optimize(objective, verbose=0)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    study = hk.load_study(str(tmp_path), "asha")
    trials = study.trials
    assert [t.number for t in trials] == list(range(60))
    assert all(t.status == TrialStatus.COMPLETED for t in trials)
    parents = [t.values["tuner/trial_id"] for t in trials if "tuner/trial_id" in t.values]
    assert parents and len(parents) == len(set(parents))
    by_id = {t.trial_id: t for t in trials}
    for t in trials:
        if "tuner/trial_id" in t.values:
            assert by_id[t.values["tuner/trial_id"]].datetime_complete <= t.datetime_start


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="min_epochs \\(10\\) must not exceed max_epochs \\(5\\)"):
        ASHAScheduler(max_epochs=5, min_epochs=10)
    with pytest.raises(ValueError, match="factor must be a number >= 2"):
        hk.ASHAOracle(objective="loss", factor=1)


def hard_curve(values, epochs):
    import math

    return 5 * ((values["x"] - 0.71) ** 2 + (math.log10(values["rate"]) + 1.3) ** 2) + 1.0 / (1.0 + epochs)


def test_model_based_asha_beats_random_asha():
    """TPE proposing ASHA's new configurations (fitted on the largest rung with enough results)
    beats random proposals in most of 10 seeds, and in the median."""
    import statistics

    tpe_best, plain_best = [], []
    for seed in range(10):
        tpe_best.append(simulate(ASHAScheduler(max_epochs=27, sampler="tpe"), SPACE, hard_curve, n_workers=4, max_trials=120, seed=seed).best())
        plain_best.append(simulate(ASHAScheduler(max_epochs=27), SPACE, hard_curve, n_workers=4, max_trials=120, seed=seed).best())
    assert sum(a < b for a, b in zip(tpe_best, plain_best, strict=True)) >= 7
    assert statistics.median(tpe_best) < 0.8 * statistics.median(plain_best)


def test_asha_with_the_gp_sampler_runs_and_never_waits():
    result = simulate(ASHAScheduler(max_epochs=9, sampler="gp"), SPACE, hard_curve, n_workers=3, max_trials=40, seed=0)
    assert len(result.trials) == 40 and result.idle_time == 0.0
    assert len({(t.values["x"], t.values["rate"]) for t in result.trials if "tuner/trial_id" not in t.values}) == sum(
        1 for t in result.trials if "tuner/trial_id" not in t.values
    )


def test_a_small_space_ends_with_its_best_trained_to_max_epochs():
    """Three configurations: ASHA's 1/3 rule alone would stop with the best at 3 epochs; once no new
    configuration is left, the best of each rung climbs on."""
    from hyperknob.space.parameters import Choice

    space = [Choice("x", [0.1, 0.3, 0.9])]
    result = simulate(ASHAScheduler(max_epochs=27, factor=3), space, lambda v, e: abs(v["x"] - 0.3) + 1 / e, seed=0)
    top = [t for t in result.trials if t.values["tuner/epochs"] == 27]
    assert len(top) == 1 and top[0].values["x"] == 0.3
    assert len({t.values["x"] for t in result.trials if "tuner/trial_id" not in t.values}) == 3


def test_model_based_asha_learns_from_the_configurations_it_stopped():
    """A higher rung holds only promoted configurations; fitted on it alone, TPE never learned where
    the stopped ones came from and kept proposing there (worst of these 10 seeds: 0.053). With the
    stopped configurations counted as the rung's worst, every seed ends close to the optimum."""
    best = [
        simulate(ASHAScheduler(max_epochs=27, sampler="tpe"), SPACE, hard_curve, n_workers=4, max_trials=120, seed=seed).best()
        for seed in range(10)
    ]
    assert max(best) < 0.045


def test_the_model_sees_the_stopped_configurations_as_worse_than_its_rung():
    from hyperknob.samplers import TrialsView

    scheduler = ASHAScheduler(max_epochs=27, factor=3, sampler="tpe")
    result = simulate(scheduler, SPACE, hard_curve, max_trials=80, seed=0)
    view = TrialsView(result.trials, len(result.trials), "min")
    fitted = scheduler._model_trials(SPACE, view)
    top = max(t.values["tuner/round"] for t in fitted)  # the rung the model is fitted on
    measured = [t for t in result.trials if t.values["tuner/round"] == top and t.status == TrialStatus.COMPLETED]
    assert top > 0 and len(measured) >= 10
    imputed = [t for t in fitted if t.values["tuner/round"] < top]
    assert imputed, "stopped configurations below the modelled rung are part of the fit"
    worst = max(t.score for t in measured)
    assert all(t.score == worst for t in imputed)
    promoted = {t.values.get("tuner/trial_id") for t in result.trials}
    assert not any(t.trial_id in promoted for t in imputed)


def crossing_curve(values, epochs):
    """Learning curves that cross: fast learners (high rate) lead after a few epochs but plateau
    lower and decay late; the best 20-epoch configurations (rate near 0.18) are slow starters."""
    import math

    lg = math.log10(values["rate"])
    top = 0.95 - 0.1 * (lg + 1.0) ** 2 - 0.05 * (values["x"] - 0.6) ** 2
    speed = 0.1 * 10 ** (lg + 1.0)
    accuracy = top - (top - 0.1) * math.exp(-3.0 * speed * epochs**0.8) - 0.003 * epochs * max(0.0, lg + 0.8)
    return 1.0 - accuracy


def test_a_budget_model_finds_the_slow_learners_that_end_best():
    """With curves that cross, ranking a rung by its own budget promotes the fast learners and a
    GP fitted on one rung proposes more of them. The budget model (one GP over configuration and
    budget, rungs ranked by its prediction at max_epochs) gets closer to the 20-epoch optimum
    (0.0586) within 113 epochs than plain ASHA + GP (fitted from its second rung, the default):
    median of 8 seeds 0.065 against 0.070, worst 0.073 against 0.103, better on 5 seeds and worse
    on none (against ASHA + GP fitted from the first rung: 0.084, worst 0.106, better on 6)."""
    import statistics

    def best(budget_model, seed, **kwargs):
        scheduler = ASHAScheduler(max_epochs=20, factor=2, min_epochs=2, sampler="gp", budget_model=budget_model, **kwargs)
        return simulate(scheduler, SPACE, crossing_curve, max_time=113, seed=seed).best()

    with_budget = [best(True, seed) for seed in range(8)]
    plain = [best(False, seed) for seed in range(8)]
    assert statistics.median(with_budget) < statistics.median(plain) - 0.004
    assert max(with_budget) < 0.08 < max(plain)
    assert all(a <= b for a, b in zip(with_budget, plain, strict=True))
    assert sum(a < b for a, b in zip(with_budget, plain, strict=True)) >= 4
    # The comparison this test made before the default changed, still asserted as it was.
    first_rung = [best(False, seed, min_model_rung=0) for seed in range(8)]
    assert statistics.median(with_budget) < statistics.median(first_rung) - 0.01
    assert sum(a <= b for a, b in zip(with_budget, first_rung, strict=True)) >= 7


def test_the_budget_model_needs_the_gp_and_is_stored_with_the_study():
    from hyperknob.schedulers import sampler_from_config

    with pytest.raises(ValueError, match="budget_model=True .* needs sampler='gp'"):
        ASHAScheduler(max_epochs=20, budget_model=True)
    scheduler = ASHAScheduler(max_epochs=20, factor=2, min_epochs=2, sampler="gp", budget_model=True)
    config = scheduler.get_config()
    assert config["budget_model"] is True and config["sampler"] == "gp"
    rebuilt = sampler_from_config(config["name"], config)
    assert isinstance(rebuilt, ASHAScheduler) and rebuilt.budget_model and rebuilt.rungs == [2, 4, 8, 16, 20]
    assert "budget_model" not in ASHAScheduler(max_epochs=20, sampler="gp").get_config()


def test_the_budget_model_proposes_configurations_without_the_budget_input():
    result = simulate(
        ASHAScheduler(max_epochs=9, sampler="gp", budget_model=True), SPACE, crossing_curve, n_workers=3, max_trials=40, seed=0
    )
    assert len(result.trials) == 40 and result.idle_time == 0.0
    assert all(set(t.values) <= {"x", "rate", *SCHEDULE_KEYS} for t in result.trials)


def test_the_budget_model_never_starts_a_configuration_twice():
    """The GP sees the budget as one more input, so a configuration already started looks new to
    it at another budget; a small discrete space shows whether the scheduler still starts each
    configuration once, and then ends."""
    from hyperknob.space.parameters import Choice, Int

    space = [Choice("a", ["p", "q", "r", "s"]), Int("b", 1, 4)]
    curve = lambda v, e: abs(v["b"] - 3) + 0.5 * (v["a"] == "q") + 1.0 / e  # noqa: E731
    result = simulate(ASHAScheduler(max_epochs=8, factor=2, sampler="gp", budget_model=True), space, curve, seed=0)
    started = [(t.values["a"], t.values["b"]) for t in result.trials if "tuner/trial_id" not in t.values]
    assert len(started) == len(set(started)) == 16


def test_a_model_proposal_starts_at_the_rung_its_model_was_fitted_on():
    scheduler = ASHAScheduler(max_epochs=27, factor=3, sampler="tpe")
    result = simulate(scheduler, SPACE, hard_curve, max_trials=150, seed=0)
    fresh = [t for t in result.trials if "tuner/trial_id" not in t.values]
    # Random start-up configurations start at the first rung; once a higher rung has enough results,
    # the model is fitted there and its proposals start there.
    assert fresh[0].values["tuner/round"] == 0 and fresh[0].values["tuner/epochs"] == 1
    later = [t for t in fresh if t.values["tuner/round"] > 0]
    assert later, "no proposal started above the first rung"
    for t in later:
        assert t.values["tuner/epochs"] == scheduler.rungs[t.values["tuner/round"]]
        assert t.values["tuner/initial_epoch"] == 0
    plain_scheduler = ASHAScheduler(max_epochs=27, sampler="tpe", start_at_model_rung=False)
    plain = simulate(plain_scheduler, SPACE, hard_curve, max_trials=150, seed=0)
    assert all(t.values["tuner/round"] == 0 for t in plain.trials if "tuner/trial_id" not in t.values)
    random = simulate(ASHAScheduler(max_epochs=27), SPACE, hard_curve, max_trials=150, seed=0)
    assert all(t.values["tuner/round"] == 0 for t in random.trials if "tuner/trial_id" not in t.values)


def test_only_a_model_based_sampler_starts_its_proposals_above_the_first_rung():
    """Which samplers model is a property of the sampler, so a sampler instance given directly
    (here TPE without start-up trials, whose start-up count is 0 like random search's) is told
    apart, and a user's own sampler starts at the first rung unless it says it models."""
    from hyperknob.samplers import GridSampler, RandomSampler, Sampler
    from hyperknob.samplers.gp import GPSampler
    from hyperknob.samplers.tpe import TPESampler

    assert TPESampler().models_results and GPSampler().models_results
    assert not RandomSampler().models_results and not GridSampler().models_results

    class Mine(Sampler):
        def propose(self, space, view, rng):
            return RandomSampler().propose(space, view, rng)

    def fresh_rounds(sampler):
        result = simulate(ASHAScheduler(max_epochs=27, factor=3, sampler=sampler), SPACE, hard_curve, max_trials=150, seed=0)
        return {t.values["tuner/round"] for t in result.trials if "tuner/trial_id" not in t.values}

    assert TPESampler(n_startup_trials=0).startup_trials(SPACE) == 0
    assert fresh_rounds(TPESampler(n_startup_trials=0)) - {0}
    assert fresh_rounds(Mine()) == {0}


def test_starting_model_proposals_at_the_model_rung_finds_the_slow_learners():
    """Curves that cross: a model fitted on a higher rung proposes configurations that are good
    there; started at the first rung, they were judged against the fast learners and stopped.
    Started at the model's rung: never worse on 10 seeds, better on most of those where the
    model got past the first rung (measured: better on 5, median 0.114 against 0.126). Measured
    with the model fitted from the first rung (min_model_rung=0): fitted from the second (the
    default), it rarely gets a higher rung within this budget and the two nearly coincide."""
    import statistics

    def best(start, seed):
        scheduler = ASHAScheduler(max_epochs=20, factor=3, sampler="gp", start_at_model_rung=start, min_model_rung=0)
        return simulate(scheduler, SPACE, crossing_curve, max_time=113, seed=seed).best()

    new = [best(True, seed) for seed in range(10)]
    old = [best(False, seed) for seed in range(10)]
    assert all(a <= b for a, b in zip(new, old, strict=True))
    assert sum(a < b for a, b in zip(new, old, strict=True)) >= 4
    assert statistics.median(new) < statistics.median(old) - 0.005


def test_start_at_model_rung_and_min_model_rung_are_stored_with_the_study():
    from hyperknob.schedulers import sampler_from_config

    assert "start_at_model_rung" not in ASHAScheduler(max_epochs=20, sampler="gp").get_config()
    config = ASHAScheduler(max_epochs=20, sampler="gp", start_at_model_rung=False, min_model_rung=1).get_config()
    rebuilt = sampler_from_config(config["name"], config)
    assert isinstance(rebuilt, ASHAScheduler) and rebuilt.start_at_model_rung is False and rebuilt.min_model_rung == 1
    oracle = hk.ASHAOracle(objective="loss", max_epochs=9, sampler="tpe", start_at_model_rung=False, min_model_rung=1)
    assert oracle.make_sampler().start_at_model_rung is False and oracle.make_sampler().min_model_rung == 1
    # The default became 1; studies stored before kept the key only when it was nonzero, so a
    # stored config without it was made with 0 and is rebuilt with 0.
    assert ASHAScheduler(max_epochs=20, sampler="gp").get_config()["min_model_rung"] == 1
    assert hk.ASHAOracle(objective="loss", max_epochs=9, sampler="gp").make_sampler().min_model_rung == 1
    older = {k: v for k, v in ASHAScheduler(max_epochs=20, sampler="gp").get_config().items() if k != "min_model_rung"}
    assert sampler_from_config("asha", older).min_model_rung == 0
    assert sampler_from_config("asha", {**older, "min_model_rung": 1}).min_model_rung == 1


def test_the_model_leaves_the_first_rung_out():
    """Curves that cross: after one epoch the fast learners lead, so a model fitted on the first
    rung proposes fast learners, they crowd the first rung and only they are promoted (on 5 of 25
    MNIST-1D seeds the search never left them). Fitted from the second rung on
    (min_model_rung=1, the default), model-based ASHA gets closer to the 20-epoch optimum within
    113 epochs on 8 of 10 seeds and is worse on none (median 0.104 against 0.114)."""
    import statistics

    def best(lowest, seed):
        scheduler = ASHAScheduler(max_epochs=20, factor=3, sampler="gp", min_model_rung=lowest)
        return simulate(scheduler, SPACE, crossing_curve, max_time=113, seed=seed).best()

    new = [best(1, seed) for seed in range(10)]
    old = [best(0, seed) for seed in range(10)]
    assert all(a <= b for a, b in zip(new, old, strict=True))
    assert sum(a < b for a, b in zip(new, old, strict=True)) >= 6
    assert statistics.median(new) < statistics.median(old) - 0.005
    # Early in a search the first rung has enough results for a model and the second not yet:
    # with min_model_rung=0 the model is fitted on the first rung; by default there is none yet.
    first = ASHAScheduler(max_epochs=27, sampler="tpe", min_model_rung=0)
    default = ASHAScheduler(max_epochs=27, sampler="tpe")
    trials = simulate(first, SPACE, hard_curve, max_trials=150, seed=0).trials
    needed = first._points_needed(SPACE)
    for n in range(1, len(trials) + 1):
        rungs = first._by_rung([t for t in trials[:n] if t.status == TrialStatus.COMPLETED])
        if len(rungs[0]) >= needed:
            break
    assert len(rungs[1]) < needed
    assert first._model_rung(SPACE, rungs) == 0 and default._model_rung(SPACE, rungs) is None
    with pytest.raises(ValueError, match="min_model_rung"):
        ASHAScheduler(max_epochs=20, sampler="gp", min_model_rung=-1)
