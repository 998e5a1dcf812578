"""Trials the user already knows (#23): ``enqueue_trial`` runs given configurations next (whole or
partial, once each, whatever the number of workers), ``enqueue_defaults`` runs the ``default=``
values, and ``add_trial`` records results measured outside the study."""

from __future__ import annotations

import numpy as np
import pytest

import hyperknob as hk


def _objective(hp):
    units = hp.Int("units", 8, 256, step=8, default=64)
    lr = hp.Float("lr", 1e-4, 1e-1, sampling="log", default=1e-3)
    act = hp.Choice("act", ["relu", "tanh"], default="tanh")
    return (np.log10(lr) + 2.0) ** 2 + abs(units - 128) / 128 + (act == "relu")


def test_enqueued_configurations_run_next_in_order_then_the_algorithm_goes_on(tmp_path):
    study = hk.create_study(str(tmp_path), "q", algorithm="tpe", seed=0)
    study.enqueue_trial({"units": 128, "lr": 0.01, "act": "relu"})
    study.enqueue_trial({"units": 16, "lr": 0.001, "act": "tanh"})
    study.optimize(_objective, n_trials=5, verbose=0)
    values = [dict(t.values) for t in study.trials]
    assert values[0] == {"units": 128, "lr": 0.01, "act": "relu"}
    assert values[1] == {"units": 16, "lr": 0.001, "act": "tanh"}
    assert len({tuple(sorted(v.items())) for v in values}) == 5
    assert study.queued_trials() == []


def test_a_partial_configuration_has_the_rest_proposed(tmp_path):
    study = hk.create_study(str(tmp_path), "q", algorithm="random", seed=1)
    study.optimize(_objective, n_trials=2, verbose=0)
    for lr in (0.05, 0.0002):
        study.enqueue_trial({"lr": lr})
    study.optimize(_objective, n_trials=2, verbose=0)
    new = study.trials[2:]
    assert [t.values["lr"] for t in new] == [0.05, 0.0002]
    assert all(8 <= t.values["units"] <= 256 and t.values["act"] in ("relu", "tanh") for t in new)
    assert new[0].values["units"] != new[1].values["units"] or new[0].values["act"] != new[1].values["act"]


def test_skip_if_exists_queues_nothing_already_run_or_queued(tmp_path):
    study = hk.create_study(str(tmp_path), "q", algorithm="random", seed=0)
    study.enqueue_trial({"units": 64, "lr": 0.001, "act": "tanh"})
    study.optimize(_objective, n_trials=1, verbose=0)
    study.enqueue_trial({"units": 64, "lr": 0.001, "act": "tanh"}, skip_if_exists=True)  # ran already
    study.enqueue_trial({"units": 32}, skip_if_exists=True)
    study.enqueue_trial({"units": 32}, skip_if_exists=True)  # queued already
    assert study.queued_trials() == [{"units": 32}]
    study.enqueue_trial({"units": 32})  # without the flag: queued again
    assert len(study.queued_trials()) == 2


def test_the_queue_is_stored_and_each_entry_runs_once_across_workers(tmp_path):
    study = hk.create_study(str(tmp_path), "q", algorithm="random", seed=0)
    wanted = [{"units": 8 * k, "lr": 0.001, "act": "relu"} for k in range(1, 9)]
    for params in wanted:
        study.enqueue_trial(params)
    again = hk.load_study(str(tmp_path), "q")  # another process would see the same queue
    assert again.queued_trials() == wanted
    again.optimize(_objective, n_trials=12, n_workers=3, verbose=0)
    runs = [dict(t.values) for t in hk.load_study(str(tmp_path), "q").trials]
    assert len(runs) == 12
    for params in wanted:
        assert runs.count(params) == 1


def test_enqueue_defaults_runs_the_default_values_next(tmp_path):
    defaults = {"units": 64, "lr": 1e-3, "act": "tanh"}
    study = hk.create_study(str(tmp_path), "d", algorithm="random", seed=3)
    study.optimize(_objective, n_trials=2, verbose=0)
    study.optimize(_objective, n_trials=2, verbose=0)
    assert dict(study.trials[3].values) != defaults  # without the queue: sampled
    study.enqueue_defaults()
    study.enqueue_defaults()  # once per study
    study.optimize(_objective, n_trials=2, verbose=0)
    assert dict(study.trials[4].values) == defaults and dict(study.trials[5].values) != defaults
    fresh = hk.create_study(str(tmp_path), "d2", algorithm="random", seed=3, enqueue_defaults=True)
    fresh.optimize(_objective, n_trials=1, verbose=0)  # also before any trial declared the space
    assert dict(fresh.trials[0].values) == defaults and fresh.trials[0].user_attrs["enqueued"] == "defaults"


def test_an_added_result_counts_may_be_best_and_informs_the_model(tmp_path):
    study = hk.create_study(str(tmp_path), "a", algorithm="tpe", seed=0, objective="loss")
    study.optimize(_objective, n_trials=1, verbose=0)
    added = study.add_trial({"units": 128, "lr": 0.01, "act": "tanh"}, {"loss": 0.0, "acc": 0.99})
    assert added.status == hk.TrialStatus.COMPLETED and added.user_attrs["added"] is True
    assert study.best_trial.number == added.number and study.best_value == 0.0
    assert study.trials[added.number].metrics["acc"][0].value == 0.99
    study.add_trials([({"units": 8, "lr": 0.1, "act": "relu"}, 5.0)])
    assert len(study.trials) == 3
    with pytest.raises(TypeError, match="cannot be stored"):
        study.add_trial({"units": object()}, 1.0)


def test_add_trials_copies_another_studys_results(tmp_path):
    source = hk.create_study(str(tmp_path), "s", algorithm="random", seed=0)
    source.optimize(_objective, n_trials=6, verbose=0)
    target = hk.create_study(str(tmp_path), "t", algorithm="tpe", seed=0)
    target.add_trials(source.trials)
    assert sorted(t.score for t in target.trials) == sorted(t.score for t in source.trials)
    target.optimize(_objective, n_trials=10, verbose=0)
    assert len(target.trials) == 16 and target.best_value <= source.best_value


def test_the_keras_tuner_door_enqueues_through_its_oracle(tmp_path):
    from hyperknob.tuners import RandomSearch

    class Tuner(RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            return _objective(trial.hyperparameters)

    tuner = Tuner(hypermodel=lambda hp: _objective(hp), objective="val_loss", max_trials=4,
                  directory=str(tmp_path), project_name="k", enqueue_defaults=True)
    tuner.oracle.enqueue_trial({"units": 200, "lr": 0.05, "act": "relu"})
    tuner.search(verbose=0)
    values = [dict(t.values) for t in tuner.study.trials]
    assert values[0] == {"units": 64, "lr": 1e-3, "act": "tanh"}
    assert values[1] == {"units": 200, "lr": 0.05, "act": "relu"}
    assert len(values) == 4
