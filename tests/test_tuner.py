"""The KerasTuner-shaped door: tuners, oracles, hypermodels, hooks, summaries."""

from __future__ import annotations

import itertools
import types

import pytest

import hyperknob as kt
from hyperknob.exceptions import FatalTypeError


def build(hp):
    hp.Int("units", 8, 32, step=8)
    hp.Choice("act", ["relu", "tanh"])
    return "model"


class Quadratic(kt.RandomSearch):
    def run_trial(self, trial, *args, **kwargs):
        hp = trial.hyperparameters
        self.seen_args = (args, kwargs)
        return (hp["units"] - 16) ** 2 + (hp["act"] == "tanh")


def test_search_passes_arguments_and_ranks_trials(tmp_path):
    tuner = Quadratic(build, max_trials=6, directory=str(tmp_path), project_name="q", seed=1)
    tuner.search("x", epochs=3, verbose=0)
    assert tuner.seen_args == (("x",), {"epochs": 3, "verbose": 0})
    assert len(tuner.oracle.trials) == 6 and all(isinstance(i, str) for i in tuner.oracle.trials)
    best = tuner.get_best_hyperparameters(3)
    scores = [(hp["units"] - 16) ** 2 + (hp["act"] == "tanh") for hp in best]
    assert scores == sorted(scores)
    assert tuner.remaining_trials == 0


def test_grid_search_visits_every_combination_once_then_stops(tmp_path):
    def space(hp):
        hp.Int("a", 1, 3)
        hp.Float("lr", 0.1, 0.3, step=0.1)
        hp.Choice("mode", ["x", "y"])
        with hp.conditional_scope("mode", ["y"]):
            hp.Boolean("flag")

    class Grid(kt.GridSearch):
        def run_trial(self, trial, *a, **k):
            return 1.0

    tuner = Grid(space, directory=str(tmp_path), project_name="g")
    tuner.search(verbose=0)
    visited = [tuple(sorted(t.hyperparameters.values.items())) for t in tuner.oracle.trials.values()]
    expected = set()
    for a, lr, mode in itertools.product([1, 2, 3], [0.1, 0.2, 0.3], ["x", "y"]):
        if mode == "x":
            expected.add(tuple(sorted({"a": a, "lr": lr, "mode": mode}.items())))
        else:
            for flag in (False, True):
                expected.add(tuple(sorted({"a": a, "lr": lr, "mode": mode, "flag": flag}.items())))
    assert len(visited) == len(set(visited)) == len(expected) == 27
    assert set(visited) == expected
    first = tuner.oracle.get_trial(min(tuner.oracle.trials)).hyperparameters.values
    assert first == {"a": 1, "lr": 0.1, "mode": "x"}
    tuner.search(verbose=0)
    assert len(tuner.oracle.trials) == 27
    again = Grid(space, directory=str(tmp_path), project_name="g")
    again.search(verbose=0)
    assert len(again.oracle.trials) == 27


def test_predefined_space_with_tune_new_entries_false(tmp_path):
    hps = kt.HyperParameters()
    hps.Choice("act", ["tanh"])

    class T(kt.RandomSearch):
        def run_trial(self, trial, *a, **k):
            self.hypermodel.build(trial.hyperparameters)
            return float(trial.hyperparameters["units"])

    tuner = T(build, hyperparameters=hps, tune_new_entries=False, max_trials=3, directory=str(tmp_path), project_name="p")
    tuner.search(verbose=0)
    assert [h.name for h in tuner.oracle.get_space().space] == ["act"]
    trials = tuner.oracle.trials.values()
    assert len(trials) == 1  # the only configuration of the tuned space
    for trial in trials:
        assert trial.status == "COMPLETED"
        assert trial.hyperparameters.values == {"act": "tanh", "units": 8}


def test_allow_new_entries_false_is_an_error(tmp_path):
    hps = kt.HyperParameters()
    hps.Int("units", 8, 32, step=8)
    with pytest.raises(RuntimeError, match="act"):
        Quadratic(build, hyperparameters=hps, allow_new_entries=False, max_trials=2, directory=str(tmp_path), project_name="a")


def test_untunable_hypermodel_keeps_its_parameters_out_of_the_space(tmp_path):
    class Fixed(kt.HyperModel):
        def build(self, hp):
            hp.Int("units", 8, 32, step=8)
            return "model"

    class T(kt.RandomSearch):
        def run_trial(self, trial, *a, **k):
            self.hypermodel.build(trial.hyperparameters)
            return 1.0

    tuner = T(Fixed(tunable=False), max_trials=2, directory=str(tmp_path), project_name="u")
    tuner.search(verbose=0)
    assert tuner.oracle.get_space().space == []


def test_tuner_fits_the_built_model_and_reads_a_history(tmp_path):
    class Model:
        def __init__(self, rate):
            self.rate = rate

        def fit(self, x, epochs=1, **kwargs):
            losses = [x / (1 + self.rate * e) for e in range(epochs)]
            return types.SimpleNamespace(history={"loss": losses, "val_loss": [v + 0.1 for v in losses]})

    def build_model(hp):
        return Model(hp.Float("rate", 0.1, 2.0))

    tuner = kt.RandomSearch(build_model, objective="val_loss", max_trials=4, directory=str(tmp_path), project_name="h")
    tuner.search(10.0, epochs=5, verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.best_step == 4
    assert len(best.metrics.get_history("val_loss")) == 5
    assert best.score == pytest.approx(10.0 / (1 + best.hyperparameters["rate"] * 4) + 0.1)


def test_build_returning_none_is_a_clear_error(tmp_path):
    tuner = kt.RandomSearch(lambda hp: None, max_trials=2, directory=str(tmp_path), project_name="n")
    with pytest.raises(FatalTypeError, match="returned None"):
        tuner.search(verbose=0)


def test_custom_oracle_with_populate_space_drives_a_search(tmp_path):
    class Countdown(kt.Oracle):
        def populate_space(self, trial_id):
            done = len(self.trials)
            if done >= 3:
                return {"status": "STOPPED"}
            return {"status": "RUNNING", "values": {"units": 8 * (done + 1), "act": "relu"}}

    class T(kt.Tuner):
        def run_trial(self, trial, *a, **k):
            return float(trial.hyperparameters["units"])

    tuner = T(oracle=Countdown(max_trials=10), hypermodel=build, directory=str(tmp_path), project_name="c2")
    tuner.search(verbose=0)
    assert [t.hyperparameters["units"] for t in tuner.oracle.trials.values()] == [8, 16, 24]


def test_hooks_are_called_around_each_trial(tmp_path):
    calls = []

    class T(Quadratic):
        def on_search_begin(self):
            calls.append("search_begin")

        def on_trial_begin(self, trial):
            calls.append("begin")

        def on_trial_end(self, trial):
            calls.append("end")
            super().on_trial_end(trial)

        def on_search_end(self):
            calls.append("search_end")

    T(build, max_trials=2, directory=str(tmp_path), project_name="hooks").search(verbose=0)
    assert calls == ["search_begin", "begin", "end", "begin", "end", "search_end"]


def test_summaries_print_what_keras_tuner_prints(tmp_path, capsys):
    tuner = Quadratic(build, max_trials=3, directory=str(tmp_path), project_name="s")
    tuner.search_space_summary()
    tuner.search(verbose=0)
    tuner.results_summary(2)
    out = capsys.readouterr().out
    assert "Search space summary" in out and "units (Int)" in out
    assert "Results summary" in out and out.count("summary\nHyperparameters:") == 2 and "Score:" in out


def test_unknown_tuner_argument_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="Unrecognized arguments"):
        Quadratic(build, max_trials=1, directory=str(tmp_path), no_such_argument=1)
