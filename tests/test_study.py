"""The plain door: create_study / optimize / ask-tell, on SQLite and in memory."""

from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys

import pytest

import hyperknob as hk
from hyperknob.exceptions import FailedTrialError, FatalRuntimeError, FatalValueError, StorageError, StudyVersionError


def quadratic(hp):
    x = hp.Float("x", -5.0, 5.0)
    y = hp.Int("y", -3, 3)
    return (x - 1.0) ** 2 + (y + 1) ** 2


def test_optimize_sqlite_records_every_trial(tmp_path):
    study = hk.optimize(quadratic, n_trials=25, directory=str(tmp_path), project_name="q", seed=3, verbose=0)
    trials = study.trials
    assert [t.number for t in trials] == list(range(25))
    assert all(t.status == hk.TrialStatus.COMPLETED for t in trials)
    assert study.best_value == min(t.score for t in trials)
    assert set(study.best_params) == {"x", "y"}
    assert (tmp_path / "q" / "study.db").exists()


def test_random_search_never_repeats_and_stops_when_exhausted(tmp_path):
    def objective(hp):
        return hp.Int("a", 0, 2) + hp.Choice("b", ["u", "v"]).__len__()

    study = hk.create_study(str(tmp_path), "small", seed=0)
    study.optimize(objective, n_trials=50, verbose=0)
    keys = [json.dumps(dict(t.values), sort_keys=True) for t in study.trials]
    assert len(keys) == 6 == len(set(keys))
    assert study.stop_reason == "exhausted"


def test_same_seed_same_proposals_in_a_fresh_interpreter(tmp_path):
    code = (
        "import hyperknob as hk, json\n"
        "def f(hp):\n"
        "    return hp.Float('x', 0, 1) + hp.Int('n', 1, 1000, sampling='log') + len(hp.Choice('c', ['a', 'bb', 'ccc']))\n"
        "s = hk.optimize(f, n_trials=15, storage=':memory:', seed=42, verbose=0)\n"
        "print(json.dumps([dict(t.values) for t in s.trials]))\n"
    )
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1]
    other = hk.optimize(lambda hp: hp.Float("x", 0, 1), n_trials=15, storage=":memory:", seed=43, verbose=0)
    assert [t.values["x"] for t in other.trials] != [v["x"] for v in json.loads(runs[0])]


def test_ask_tell_loop_written_by_the_user():
    study = hk.create_study(storage=":memory:", objective=hk.Objective("acc", "max"), seed=0)
    for _ in range(5):
        trial = study.ask()
        lr = trial.hyperparameters.Float("lr", 1e-4, 1e-1, sampling="log")
        for epoch in range(3):
            trial.report(epoch, {"acc": 0.5 + epoch * lr})
        study.tell(trial)
    trials = study.trials
    assert len(trials) == 5
    for t in trials:
        assert [p.step for p in t.metric_history("acc")] == [0, 1, 2]
        assert t.best_step == 2 and math.isclose(t.score, 0.5 + 2 * t.values["lr"])
    assert study.best_trial.values["lr"] == max(t.values["lr"] for t in trials)


def test_objective_receiving_the_trial_can_report_steps():
    def objective(hp, trial):
        units = hp.Int("units", 1, 4)
        for step in range(4):
            trial.report(step, {"loss": 1.0 / (units + step), "acc": step / 4})
        return {"loss": 1.0 / (units + 3), "acc": 0.75}

    study = hk.optimize(objective, n_trials=3, storage=":memory:", objective="loss", verbose=0)
    for t in study.trials:
        assert len(t.metric_history("loss")) == 4
        assert t.best_step == 3


def test_resume_keeps_completed_trials_and_runs_only_the_missing(tmp_path):
    calls = []

    def objective(hp):
        calls.append(hp.values["x"] if "x" in hp.values else None)
        return hp.Float("x", 0, 1)

    hk.optimize(objective, storage=None, directory=str(tmp_path), project_name="r", max_trials=5, seed=1, verbose=0)
    first = [dict(t.values) for t in hk.load_study(str(tmp_path), "r").trials]
    assert len(calls) == 5
    study = hk.create_study(str(tmp_path), "r", seed=1)
    study.optimize(objective, max_trials=5, verbose=0)
    assert len(calls) == 5  # nothing ran again
    study.optimize(objective, max_trials=8, verbose=0)
    assert len(calls) == 8
    assert [dict(t.values) for t in study.trials][:5] == first
    fresh = hk.create_study(str(tmp_path), "r", seed=1, overwrite=True)
    assert fresh.trials == []
    other = hk.create_study(str(tmp_path), "other")
    assert other.trials == [] and len(hk.load_study(str(tmp_path), "r").trials) == 0


def test_nan_and_inf_are_failures_with_a_message_and_never_best():
    values = iter([1.0, float("nan"), float("inf"), 0.5])
    study = hk.optimize(lambda hp: next(values) + 0 * hp.Float("x", 0, 1), n_trials=4, storage=":memory:",
                        max_consecutive_failed_trials=None, verbose=0)
    statuses = [t.status.value for t in study.trials]
    assert statuses == ["COMPLETED", "FAILED", "FAILED", "COMPLETED"]
    assert "not a finite number" in study.trials[1].message
    assert study.best_value == 0.5


def test_retries_then_failure_then_consecutive_failure_limit():
    calls = []

    def objective(hp):
        calls.append(hp.Float("x", 0, 1))
        raise ValueError("boom in user code")

    study = hk.create_study(storage=":memory:", max_retries_per_trial=2, max_consecutive_failed_trials=2)
    with pytest.raises(FatalRuntimeError, match="boom in user code") as info:
        study.optimize(objective, n_trials=10, verbose=0)
    assert "consecutive failures" in str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert len(calls) == 6  # 2 trials x (1 run + 2 retries)
    assert len(set(calls)) == 2  # a retry reruns the same values
    assert [t.status.value for t in study.trials] == ["FAILED", "FAILED"]
    assert "Traceback" in study.trials[0].message and "ValueError" in study.trials[0].message
    assert study.trials[0].run_count == 3


def test_failed_trial_error_is_not_retried():
    calls = []

    def objective(hp):
        calls.append(1)
        hp.Float("x", 0, 1)
        raise FailedTrialError("infeasible")

    study = hk.create_study(storage=":memory:", max_retries_per_trial=3, max_consecutive_failed_trials=None)
    study.optimize(objective, n_trials=2, verbose=0)
    assert len(calls) == 2


def test_missing_objective_metric_names_the_reported_ones():
    study = hk.create_study(storage=":memory:", objective="val_accuracy")
    with pytest.raises(FatalValueError) as info:
        study.optimize(lambda hp: {"loss": 1.0, "accuracy": 0.5 + 0 * hp.Float("x", 0, 1)}, n_trials=1, verbose=0)
    assert "val_accuracy" in str(info.value) and "loss, accuracy" in str(info.value)
    assert study.trials[0].status == hk.TrialStatus.FAILED


def test_unknown_objective_name_asks_for_an_objective():
    with pytest.raises(ValueError, match=r"Objective\("):
        hk.create_study(storage=":memory:", objective="my_custom_metric")


def test_unwritable_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="directory="):
        hk.create_study(str(blocker), "p")


def test_study_is_json_in_sqlite_and_other_versions_are_refused(tmp_path):
    study = hk.optimize(quadratic, n_trials=3, directory=str(tmp_path), project_name="v", verbose=0)
    path = tmp_path / "v" / "study.db"
    study.storage.close()
    con = sqlite3.connect(path)
    for values, metrics in con.execute("select hp_values, metrics from hyperknob_trials"):
        json.loads(values), json.loads(metrics)
    con.execute("update hyperknob_meta set value='99' where key='schema_version'")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StudyVersionError, match="schema version 99"):
        hk.create_study(str(tmp_path), "v")
    assert path.read_bytes() == before


def test_foreign_files_are_refused(tmp_path):
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "study.db").write_text("hello, I am not a database" * 100)
    with pytest.raises(StudyVersionError, match="not a hyperknob study"):
        hk.create_study(str(tmp_path), "text")
    (tmp_path / "foreign").mkdir()
    con = sqlite3.connect(tmp_path / "foreign" / "study.db")
    con.execute("create table studies (id integer)")
    con.commit()
    con.close()
    with pytest.raises(StudyVersionError, match="other tables"):
        hk.create_study(str(tmp_path), "foreign")


def test_resuming_with_another_objective_is_refused(tmp_path):
    hk.create_study(str(tmp_path), "o", objective="val_loss")
    with pytest.raises(FatalValueError, match="overwrite=True"):
        hk.create_study(str(tmp_path), "o", objective="val_accuracy")


def test_timeout_stops_starting_trials():
    import time

    study = hk.optimize(lambda hp: time.sleep(0.05) or hp.Float("x", 0, 1), timeout=0.3, storage=":memory:", verbose=0)
    assert 2 <= len(study.trials) <= 8
    assert study.stop_reason == "timeout"


def test_library_never_configures_the_root_logger():
    code = "import logging, hyperknob as hk\nhk.optimize(lambda hp: hp.Float('x',0,1), n_trials=2, storage=':memory:', verbose=0)\nprint(len(logging.getLogger().handlers))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"


def test_display_shows_progress_and_verbose_zero_is_silent(capsys):
    hk.optimize(quadratic, n_trials=3, storage=":memory:", verbose=1)
    shown = capsys.readouterr().out
    assert "Trial 0002" in shown and "best" in shown and "3/3" in shown and "elapsed" in shown
    hk.optimize(quadratic, n_trials=3, storage=":memory:", verbose=0)
    assert capsys.readouterr().out == ""


def test_a_missing_database_driver_names_the_extra_to_install():
    import importlib.util

    if importlib.util.find_spec("psycopg") is not None:
        pytest.skip("psycopg is installed here")
    with pytest.raises(StorageError, match=r"hyperknob\[postgres\]") as info:
        hk.create_study(storage="postgresql+psycopg://user:secret@127.0.0.1/db")
    assert "secret" not in str(info.value)


def test_overwrite_replaces_a_project_file_of_another_schema_version(tmp_path):
    hk.optimize(quadratic, n_trials=2, directory=str(tmp_path), project_name="old", verbose=0).storage.close()
    con = sqlite3.connect(tmp_path / "old" / "study.db")
    con.execute("update hyperknob_meta set value='1' where key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StudyVersionError, match="overwrite=True"):
        hk.create_study(str(tmp_path), "old")
    fresh = hk.create_study(str(tmp_path), "old", overwrite=True)
    assert fresh.trials == []


def test_stop_ends_the_search_after_the_running_trial(tmp_path):
    import hyperknob as hk

    study = hk.create_study(storage=":memory:", seed=0)
    seen = []

    def objective(hp):
        seen.append(hp.Float("x", 0, 1))
        if len(seen) == 3:
            study.stop()  # e.g. an epoch budget spent, from inside the objective or a callback
        return seen[-1]

    study.optimize(objective, n_trials=10, verbose=0)
    assert len(seen) == 3 and len(study.trials) == 3 and study.stop_reason == "stopped"
    assert all(t.status == "COMPLETED" for t in study.trials)
    study.optimize(objective, n_trials=2, verbose=0)  # a new search starts afresh
    assert len(study.trials) == 5
