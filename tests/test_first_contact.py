"""What a newcomer meets first (#25): a failed trial says why on screen, an interrupted or failed
search says so and how to go on, Hyperband's progress knows its end, a misspelt objective gets the
name it misspells, and the peers' argument names (optuna's ``direction=``, RandomizedSearchCV's
``n_iter=``) work."""

from __future__ import annotations

import pytest

import hyperknob as hk
from hyperknob.exceptions import FatalRuntimeError, FatalValueError
from hyperknob.schedulers.hyperband import HyperbandScheduler
from hyperknob.study.display import ProgressDisplay


def test_a_failed_trial_prints_its_reason_and_one_traceback(capsys):
    def objective(hp):
        hp.Float("x", 0.0, 1.0)
        raise KeyError("pop from an empty set")

    study = hk.create_study(storage=":memory:", max_consecutive_failed_trials=None)
    study.optimize(objective, n_trials=3, verbose=1)
    out = capsys.readouterr().out
    assert out.count("failed: KeyError: 'pop from an empty set'") == 3
    assert out.count("Traceback (most recent call last)") == 1  # the same reason: its traceback once
    assert 'raise KeyError("pop from an empty set")' in out


def test_too_many_failures_is_not_called_finished(capsys):
    def objective(hp):
        hp.Float("x", 0.0, 1.0)
        raise ValueError("bad data")

    study = hk.create_study(storage=":memory:")
    with pytest.raises(FatalRuntimeError):
        study.optimize(objective, n_trials=10, verbose=1)
    out = capsys.readouterr().out
    assert "Search finished" not in out
    assert "Search stopped by an error" in out and "FatalRuntimeError" in out


def test_ctrl_c_says_interrupted_and_how_to_resume(tmp_path, capsys):
    def objective(hp, trial):
        x = hp.Float("x", 0.0, 1.0)
        if trial.number == 2:
            raise KeyboardInterrupt
        return x

    study = hk.create_study(str(tmp_path), "p")
    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=5, verbose=1)
    out = capsys.readouterr().out
    assert "Search finished" not in out
    assert "Search interrupted" in out and "2 completed trials are kept" in out and "again to resume" in out
    assert study.stop_reason == "interrupted"


def test_hyperband_progress_counts_against_its_schedule(capsys):
    scheduler = HyperbandScheduler(max_epochs=9, factor=3)
    study = hk.create_study(storage=":memory:", algorithm=scheduler, seed=1)

    def objective(hp, trial):
        return hp.Float("x", 0.0, 1.0)

    study.optimize(objective, verbose=1)
    ran = len(study.trials)
    assert scheduler.planned_trials() == ran
    out = capsys.readouterr().out
    assert "∞" not in out and f"{ran}/{ran}" in out and "left ~?" not in out
    assert HyperbandScheduler(max_epochs=9, hyperband_iterations=None).planned_trials() is None


def test_the_display_steps_aside_for_keras_progress_bar():
    shown = ProgressDisplay(live=False)
    shown.console.force_terminal = True  # a terminal, where a panel would be drawn
    study = hk.create_study(storage=":memory:")
    shown.on_search_begin(study)
    assert shown._live is None
    shown.on_search_end(study)


def test_a_misspelt_objective_is_told_the_name_it_misspells():
    with pytest.raises(FatalValueError, match='did you mean "val_accuracy"'):
        hk.create_study(storage=":memory:", objective="val_acuracy")

    def objective(hp):
        return {"loss": hp.Float("x", 0.0, 1.0), "val_accuracy": 0.5}

    study = hk.create_study(storage=":memory:", objective=hk.Objective("val_accurcy", "max"))
    with pytest.raises(FatalValueError, match="Did you mean 'val_accuracy' for 'val_accurcy'"):
        study.optimize(objective, n_trials=1, verbose=0)


def test_optunas_direction_and_study_name():
    study = hk.create_study(storage=":memory:", study_name="q", direction="maximize", seed=0)
    study.optimize(lambda hp: hp.Float("x", 0.0, 1.0), n_trials=6, verbose=0)
    assert study.name == "q" and study.direction.value == "max"
    assert study.best_value == max(t.score for t in study.trials)
    lowest = hk.optimize(lambda hp: hp.Float("x", 0.0, 1.0), n_trials=6, verbose=0, storage=":memory:",
                         direction="minimize", seed=0)
    assert lowest.best_value == min(t.score for t in lowest.trials)
    with pytest.raises(ValueError, match="'minimize' or 'maximize'"):
        hk.create_study(storage=":memory:", direction="up")
    with pytest.raises(ValueError, match="both set a direction"):
        hk.create_study(storage=":memory:", direction="max", objective=hk.Objective("loss", "min"))


def test_randomized_search_cvs_n_iter():
    sklearn = pytest.importorskip("sklearn")
    del sklearn
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    from hyperknob.integrations.sklearn import HyperSearchCV

    x, y = load_iris(return_X_y=True)
    search = HyperSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3, 4, 5, 6]},
                           n_iter=3, cv=2, random_state=0).fit(x, y)
    assert len(search.cv_results_["params"]) == 3
    with pytest.raises(ValueError, match="name the same budget"):
        HyperSearchCV(DecisionTreeClassifier(), {"max_depth": [1, 2]}, n_iter=3, n_trials=5).fit(x, y)


def test_cli_tables_fit_80_columns_and_keep_numbers_whole(tmp_path, monkeypatch, capsys):
    from hyperknob.cli import main

    def objective(hp, trial):
        for name in ("units_in_the_first_layer", "learning_rate", "dropout_rate", "optimizer_name"):
            hp.Float(name, 0.0, 1.0)
        if trial.number == 2:
            raise ValueError("could not read [/data/a/rather/long/path/to/the/training/data/train.csv] " * 2)
        return hp["learning_rate"] * 1234.56789

    study = hk.create_study(str(tmp_path), "wide", max_consecutive_failed_trials=None)
    study.optimize(objective, n_trials=4, verbose=0)
    monkeypatch.setenv("COLUMNS", "80")
    capsys.readouterr()
    assert main(["trials", "wide", "--directory", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert out.count("COMPLETED") == 3 and out.count("FAILED") == 1  # never wrapped over two lines
    for trial in study.trials:
        if trial.score is not None:
            assert f"{trial.score:.6g}" in out
    assert main(["summary", "wide", "--directory", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80 and " s" in out and "trial_time_s" not in out


def test_overwrite_removes_the_old_trials_folders(tmp_path):
    old = tmp_path / "p" / "trial_07"
    old.mkdir(parents=True)
    (tmp_path / "p" / "notes.txt").write_text("the user's own file stays")

    def build(hp):
        return None

    hk.RandomSearch(build, objective="val_loss", max_trials=1, directory=str(tmp_path), project_name="p")
    assert old.exists()  # resuming keeps them
    hk.RandomSearch(build, objective="val_loss", max_trials=1, directory=str(tmp_path), project_name="p",
                    overwrite=True)
    assert not old.exists() and (tmp_path / "p" / "notes.txt").exists()
