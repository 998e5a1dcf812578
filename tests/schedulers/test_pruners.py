"""Pruners: median and successive halving, through the plain door and on simulated learning curves."""

from __future__ import annotations

import pytest

import hyperknob as hk
from hyperknob._types import MetricPoint, TrialStatus
from hyperknob.objective import Objective, create_objective
from hyperknob.samplers import RandomSampler
from hyperknob.schedulers import MedianPruner, SuccessiveHalvingPruner
from hyperknob.schedulers.pruners import make_pruner, objective_curve
from hyperknob.space.parameters import Float
from hyperknob.testing.simulation import simulate

DONE = TrialStatus.COMPLETED


def flat(value, steps=10):
    return {s: float(value) for s in range(steps)}


def test_objective_curve_orients_and_combines_metrics():
    points = {"val_accuracy": (MetricPoint(0, 0.5), MetricPoint(1, 0.7)), "loss": (MetricPoint(0, 1.0),)}
    assert objective_curve(points, Objective("val_accuracy", "max")) == {0: -0.5, 1: -0.7}
    multi = create_objective([Objective("val_accuracy", "max"), Objective("loss", "min")])
    assert objective_curve(points, multi) == {0: 0.5}  # step 1 lacks the loss


def test_median_pruner_rules():
    pruner = MedianPruner(n_startup_trials=3, n_warmup_steps=2, interval_steps=2)
    others = [(DONE, flat(1.0)), (DONE, flat(2.0)), (DONE, flat(3.0))]
    bad = flat(5.0)
    assert not pruner.should_prune(1, bad, others)  # warm-up
    assert pruner.should_prune(2, bad, others)
    assert not pruner.should_prune(3, bad, others)  # not on the interval
    assert pruner.should_prune(4, bad, others)
    assert not pruner.should_prune(2, flat(1.5), others)  # better than the median (2.0)
    assert not pruner.should_prune(2, bad, others[:2])  # too few completed trials
    running = [(TrialStatus.RUNNING, flat(0.0))] * 5
    assert not pruner.should_prune(2, bad, others[:2] + running)  # only completed trials count
    # The trial's best value so far is compared, so one bad step after good ones does not prune.
    assert not pruner.should_prune(2, {0: 0.5, 1: 0.6, 2: 9.0}, others)


def test_successive_halving_pruner_rules():
    pruner = SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)  # rungs at steps 1, 3, 9
    others = [(DONE, flat(v)) for v in (1.0, 2.0, 3.0, 4.0, 5.0)]
    assert not pruner.should_prune(0, flat(9.0, 1), others)  # before the first rung
    assert pruner.should_prune(1, flat(9.0, 2), others)  # 6 at the rung: keep the best 2
    assert not pruner.should_prune(1, flat(1.5, 2), others)
    assert not pruner.should_prune(2, flat(9.0, 3), others)  # rung 1 was judged at step 1 already
    assert not pruner.should_prune(1, flat(9.0, 2), others[:1])  # fewer than 3 at the rung
    # Running and stopped trials that reached the rung compete too.
    mixed = [(TrialStatus.RUNNING, {0: 1.0, 1: 1.0}), (TrialStatus.STOPPED, {0: 1.0, 1: 1.0})]
    assert pruner.should_prune(1, {0: 2.0, 1: 2.0}, mixed)


@pytest.mark.parametrize("bad", [{"n_startup_trials": -1}, {"interval_steps": 0}, {"n_warmup_steps": 1.5}])
def test_bad_pruner_settings_are_rejected(bad):
    with pytest.raises(ValueError, match="must be an integer"):
        MedianPruner(**bad)


def test_pruner_names():
    assert isinstance(make_pruner("median"), MedianPruner)
    assert isinstance(make_pruner("successive_halving"), SuccessiveHalvingPruner)
    with pytest.raises(ValueError, match="Unknown pruner 'hyperband'"):
        make_pruner("hyperband")


def learning_curve(x, epoch):
    return (x - 0.3) ** 2 + 1.0 / (1 + epoch)


@pytest.mark.parametrize("pruner", ["median", SuccessiveHalvingPruner()])
def test_a_plain_objective_is_pruned_and_keeps_its_reports(pruner):
    epochs = 12

    def objective(hp, trial):
        x = hp.Float("x", 0.0, 1.0)
        for epoch in range(epochs):
            trial.report(epoch, learning_curve(x, epoch))
            if trial.should_prune():
                raise hk.TrialPruned(f"stopped at epoch {epoch}")
        return learning_curve(x, epochs - 1)

    # Random proposals: a model-based sampler soon proposes only good configurations, and this test
    # is about stopping poor ones.
    study = hk.create_study(storage=":memory:", seed=3, pruner=pruner, algorithm="random",
                            max_consecutive_failed_trials=1)
    study.optimize(objective, n_trials=40, verbose=0)
    stopped = [t for t in study.trials if t.status == TrialStatus.STOPPED]
    completed = [t for t in study.trials if t.status == TrialStatus.COMPLETED]
    assert len(stopped) >= 10 and len(completed) + len(stopped) == 40
    for t in stopped:
        steps = [p.step for p in t.metrics["default_objective"]]
        assert steps == list(range(len(steps))) and len(steps) < epochs  # the history so far is kept
        assert t.score == min(p.value for p in t.metrics["default_objective"])
        assert t.message.startswith("stopped at epoch")
    # Pruning stopped the poor configurations only: the best was completed.
    assert study.best_trial.status == TrialStatus.COMPLETED
    assert study.best_value == min(learning_curve(t.values["x"], epochs - 1) for t in study.trials)


def test_should_prune_without_a_pruner_is_false():
    study = hk.create_study(storage=":memory:")
    trial = study.ask()
    trial.report(0, 1.0)
    assert trial.should_prune() is False


@pytest.mark.parametrize("pruner", [MedianPruner(n_startup_trials=5), SuccessiveHalvingPruner()])
def test_pruning_saves_most_epochs_and_finds_the_same_best(pruner):
    """On simulated learning curves, in 10 seeds: pruned random search trains at most half the
    epochs of plain random search, and in at least 9 seeds ends within 1% of its best (a slow
    starter with the best final value can be stopped early: that is the price of pruning)."""
    space = [Float("x", 0.0, 1.0), Float("rate", 0.01, 1.0, sampling="log")]

    def curve(values, epochs):
        return (values["x"] - 0.3) ** 2 + 1.0 / (1.0 + values["rate"] * epochs)

    as_good = 0
    for seed in range(10):
        plain = simulate(RandomSampler(), space, curve, max_trials=50, max_epochs=27, seed=seed)
        pruned = simulate(RandomSampler(), space, curve, max_trials=50, max_epochs=27, seed=seed, pruner=pruner)
        assert pruned.epochs <= plain.epochs / 2
        as_good += pruned.best() <= plain.best() * 1.01
    assert as_good >= 9
