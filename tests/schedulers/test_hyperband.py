"""Hyperband: KerasTuner's bracket schedule, replayed from stored trials, resumable, BOHB on top."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest

import hyperknob as hk
from hyperknob._types import TrialStatus
from hyperknob.samplers import RandomSampler
from hyperknob.schedulers import HyperbandScheduler, hyperband_table
from hyperknob.space.parameters import Float
from hyperknob.testing.simulation import simulate

SPACE = [Float("x", 0.0, 1.0), Float("rate", 0.01, 1.0, sampling="log")]
PAIRS = [(27, 3), (20, 3), (100, 3), (81, 3), (10, 2), (30, 4), (9, 3), (1, 3), (2, 2)]


def curve(values, epochs):
    """A learning curve: converges with epochs, at a speed and to a floor set by the configuration."""
    return (values["x"] - 0.3) ** 2 + 1.0 / (1.0 + values["rate"] * epochs)


def keras_tuner_table(max_epochs, factor):
    from keras_tuner.src.tuners.hyperband import HyperbandOracle

    oracle = HyperbandOracle(max_epochs=max_epochs, factor=factor)
    return [
        [(oracle._get_size(b, r), oracle._get_epochs(b, r)) for r in range(b + 1)]
        for b in range(oracle._get_num_brackets() - 1, -1, -1)
    ]


@pytest.mark.parametrize(("max_epochs", "factor"), PAIRS)
def test_bracket_table_equals_keras_tuner(max_epochs, factor):
    assert hyperband_table(max_epochs, factor) == keras_tuner_table(max_epochs, factor)


@pytest.mark.parametrize(("max_epochs", "factor"), [(27, 3), (20, 3), (10, 2), (30, 4)])
def test_a_search_trains_the_table(max_epochs, factor):
    result = simulate(HyperbandScheduler(max_epochs=max_epochs, factor=factor), SPACE, curve, seed=3)
    table = hyperband_table(max_epochs, factor)
    counts = collections.Counter((t.values["tuner/bracket"], t.values["tuner/round"]) for t in result.trials)
    expected = {
        (len(rounds) - 1, r): size for rounds in table for r, (size, _) in enumerate(rounds)
    }
    assert counts == expected
    by_id = {t.trial_id: t for t in result.trials}
    for trial in result.trials:
        bracket, round_num = trial.values["tuner/bracket"], trial.values["tuner/round"]
        assert trial.values["tuner/epochs"] == table[len(table) - 1 - bracket][round_num][1]
        if round_num == 0:
            assert trial.values["tuner/initial_epoch"] == 0 and "tuner/trial_id" not in trial.values
            continue
        parent = by_id[trial.values["tuner/trial_id"]]
        assert parent.values["tuner/bracket"] == bracket and parent.values["tuner/round"] == round_num - 1
        assert trial.values["tuner/initial_epoch"] == parent.values["tuner/epochs"]
        assert {k: v for k, v in trial.values.items() if not k.startswith("tuner/")} == {
            k: v for k, v in parent.values.items() if not k.startswith("tuner/")
        }
        # The promoted trials are the best of their round.
        siblings = [
            t for t in result.trials
            if t.values["tuner/bracket"] == bracket and t.values["tuner/round"] == round_num - 1
        ]
        promoted = {t.values["tuner/trial_id"] for t in result.trials if t.values.get("tuner/round") == round_num and t.values["tuner/bracket"] == bracket}
        worst_promoted = max(by_id[p].score for p in promoted)
        best_left = min((t.score for t in siblings if t.trial_id not in promoted), default=math.inf)
        assert worst_promoted <= best_left


def test_same_sequence_as_keras_tuner():
    """Drive KerasTuner's HyperbandOracle and ours with the same scores (a function of the trial's
    number): the same schedule of epochs and the same promotions come out."""
    import keras_tuner as kt

    def score(number):
        return float((number * 7919) % 101)

    oracle = kt.oracles.HyperbandOracle(objective=kt.Objective("score", "min"), max_epochs=9, factor=3, seed=1)
    oracle.hyperparameters.Float("x", 0.0, 1.0)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        oracle._set_project_dir(tmp, "kt")
        theirs = []
        numbers = {}
        while True:
            trial = oracle.create_trial("tuner0")
            if trial.status == "STOPPED":
                break
            number = len(numbers)
            numbers[trial.trial_id] = number
            values = trial.hyperparameters.values
            parent = values.get("tuner/trial_id")
            theirs.append((values["tuner/round"], values["tuner/epochs"], values["tuner/initial_epoch"], numbers.get(parent)))
            oracle.update_trial(trial.trial_id, {"score": score(number)})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)

    study = hk.create_study(storage=":memory:", algorithm=HyperbandScheduler(max_epochs=9, factor=3), seed=1)
    ours = []

    def objective(hp, trial):
        hp.Float("x", 0.0, 1.0)
        parent = hp.values.get("tuner/trial_id")
        ours.append((hp["tuner/round"], hp["tuner/epochs"], hp["tuner/initial_epoch"], None if parent is None else int(parent)))
        return score(trial.number)

    study.optimize(objective, verbose=0)
    assert ours == theirs
    assert study.stop_reason == "exhausted"


@pytest.mark.parametrize("factor", [1, 1.5, 0, "3"])
def test_factor_below_two_is_rejected(factor):
    with pytest.raises(ValueError, match="factor must be a number >= 2"):
        hk.HyperbandOracle(objective="loss", max_epochs=10, factor=factor)


def test_bad_max_epochs_is_rejected():
    with pytest.raises(ValueError, match="max_epochs must be an integer >= 1"):
        HyperbandScheduler(max_epochs=0)


def test_iterations_repeat_the_brackets():
    one = simulate(HyperbandScheduler(max_epochs=9, factor=3), SPACE, curve)
    three = simulate(HyperbandScheduler(max_epochs=9, factor=3, hyperband_iterations=3), SPACE, curve)
    assert len(three.trials) == 3 * len(one.trials)
    assert three.epochs == 3 * one.epochs


def test_a_failed_trial_does_not_stall_its_bracket():
    """KerasTuner waits forever for a round whose trial failed; here the failure counts as the
    round's worst and the bracket goes on."""
    failing = {2}

    def objective(hp, trial):
        x = hp.Float("x", 0.0, 1.0)
        if trial.number in failing:
            raise hk.errors.FailedTrialError("diverged")
        return (x - 0.3) ** 2 + 1.0 / hp["tuner/epochs"]

    study = hk.create_study(storage=":memory:", algorithm=HyperbandScheduler(max_epochs=9, factor=3), seed=2)
    study.optimize(objective, verbose=0)
    rounds = collections.Counter((t.values["tuner/bracket"], t.values["tuner/round"]) for t in study.trials)
    assert rounds[(2, 2)] == 1  # the first bracket reached its last round
    assert [t.status for t in study.trials].count(TrialStatus.FAILED) == 1


def test_a_resumed_search_continues_its_brackets(tmp_path):
    def objective(hp):
        x = hp.Float("x", 0.0, 1.0)
        return (x - 0.3) ** 2 + 1.0 / hp["tuner/epochs"]

    def schedule(study):
        return [(t.values["tuner/bracket"], t.values["tuner/round"], t.values.get("tuner/trial_id"), t.values["x"]) for t in study.trials]

    whole = hk.create_study(str(tmp_path), "whole", algorithm=HyperbandScheduler(max_epochs=27, factor=3), seed=5)
    whole.optimize(objective, verbose=0)

    first = hk.create_study(str(tmp_path), "parts", algorithm=HyperbandScheduler(max_epochs=27, factor=3), seed=5)
    first.optimize(objective, n_trials=31, verbose=0)
    first.storage.close()
    resumed = hk.load_study(str(tmp_path), "parts")
    assert isinstance(resumed.sampler, HyperbandScheduler) and resumed.sampler.max_epochs == 27
    resumed.optimize(objective, verbose=0)
    assert len(resumed.trials) == len(whole.trials) == sum(s for b in hyperband_table(27, 3) for s, _ in b)
    assert schedule(resumed) == schedule(whole)


def test_bohb_fits_its_model_on_the_largest_budget_with_enough_results():
    from hyperknob.samplers.base import TrialsView
    from hyperknob.schedulers.base import BudgetView

    seen = []

    class Spy(RandomSampler):
        def propose(self, space, view, rng):
            seen.append(sorted({t.values["tuner/epochs"] for t in view.finished()}))
            assert isinstance(view, BudgetView) and isinstance(view, TrialsView)
            return super().propose(space, view, rng)

    scheduler = HyperbandScheduler(max_epochs=9, factor=3, sampler=Spy(), min_points_in_model=3)
    simulate(scheduler, SPACE, curve, seed=0)
    assert seen[0] == []  # nothing finished yet
    assert [1] in seen and [3] in seen and [9] in seen
    assert seen[-1] == [9]


def test_bohb_models_the_largest_budget_with_one_more_result_than_parameters():
    """BOHB's rule (d + 1 results at a budget), not TPE's 10 start-up trials: the last bracket of
    one (20, 3) iteration models the 4 results at 20 epochs, where TPE's count chose the 7-epoch
    budget (the only one with 10), so BOHB never modelled its full-budget results."""
    from hyperknob.samplers.base import TrialsView
    from hyperknob.samplers.tpe import TPESampler
    from hyperknob.schedulers import ASHAScheduler

    kw = {"max_epochs": 20, "factor": 3, "hyperband_iterations": 1}
    trials = simulate(HyperbandScheduler(**kw), SPACE, curve, seed=0).trials
    last = next(t.number for t in trials if t.values["tuner/bracket"] == 0)
    view = TrialsView(trials[:last], last, "min")

    def budgets(scheduler):
        return {t.values["tuner/epochs"] for t in scheduler._model_trials(SPACE, view)}

    assert budgets(HyperbandScheduler(**kw, sampler="tpe")) == {20}
    assert budgets(HyperbandScheduler(**kw, sampler="gp")) == {20}
    # An instance keeps its own start-up count; so does model-based ASHA, whose rungs keep filling.
    assert budgets(HyperbandScheduler(**kw, sampler=TPESampler())) == {7}
    assert ASHAScheduler(sampler="tpe").sampler.startup_trials(SPACE) == 10
    # Before any budget has enough results the sampler sees none, and draws at random.
    early = TrialsView(trials[:2], 2, "min")
    assert HyperbandScheduler(**kw, sampler="tpe")._model_trials(SPACE, early) == []


def test_bohb_beats_hyperband_with_random_sampling():
    """Model-based new configurations find better results than random ones on the same schedule."""
    def hard_curve(values, epochs):
        return 5 * ((values["x"] - 0.71) ** 2 + (np.log10(values["rate"]) + 1.3) ** 2) + 1.0 / (1.0 + epochs)

    wins = 0
    for seed in range(10):
        kw = {"max_epochs": 27, "factor": 3, "hyperband_iterations": 2}
        bohb = simulate(HyperbandScheduler(**kw, sampler="tpe"), SPACE, hard_curve, seed=seed).best()
        plain = simulate(HyperbandScheduler(**kw), SPACE, hard_curve, seed=seed).best()
        wins += bohb < plain
    assert wins >= 8


def test_a_black_box_hyperband_search_runs(tmp_path):
    """The space is declared only inside run_trial (KerasTuner's Hyperband runs nothing then)."""
    runs = []

    class BlackBox(hk.BaseTuner):
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            x = hp.Float("x", 0.0, 1.0)
            runs.append((x, hp["tuner/epochs"]))
            return {"loss": (x - 0.3) ** 2 + 1.0 / hp["tuner/epochs"]}

    oracle = hk.HyperbandOracle(objective=hk.Objective("loss", "min"), max_epochs=9, factor=3, seed=0)
    tuner = BlackBox(oracle=oracle, directory=str(tmp_path), project_name="bb")
    tuner.search(verbose=0)
    assert len(runs) == sum(s for b in hyperband_table(9, 3) for s, _ in b)
    assert len({x for x, epochs in runs if epochs == 1}) == 9  # new configurations, not the default 9 times
