"""Ownership of running trials, overwritten studies, dead workers, and values that cannot be stored.

Each test here pins a way a trial could otherwise be lost, run twice or left RUNNING for good.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hyperknob as hk
import hyperknob as kt
from hyperknob.exceptions import FatalTypeError, SearchSpaceError, StorageError, TrialNotOwnedError
from hyperknob.study import workers


def test_ask_after_optimize_never_hands_out_the_same_trial_twice():
    study = hk.create_study(storage=":memory:", seed=0)
    study.optimize(lambda hp: hp.Float("x", 0, 1), n_trials=1, verbose=0)
    first, second = study.ask(), study.ask()
    assert first.number != second.number
    study.tell(first, 0.7)
    study.tell(second, 0.2)
    assert [t.score for t in study.trials[1:]] == [0.7, 0.2]
    assert all(t.run_count == 1 for t in study.trials)


def test_a_trial_is_told_once_and_only_with_a_finishing_status():
    study = hk.create_study(storage=":memory:")
    trial = study.ask()
    with pytest.raises(ValueError, match="COMPLETED, INVALID, FAILED, STOPPED"):
        study.tell(trial, status="running")
    study.tell(trial, 1.0)
    with pytest.raises(ValueError, match="already told"):
        study.tell(trial, 2.0)
    assert study.trials[0].score == 1.0


def test_a_worker_whose_study_was_overwritten_writes_nothing(tmp_path):
    old = hk.create_study(str(tmp_path), "p", seed=1)
    running = old.ask()
    fresh = hk.create_study(str(tmp_path), "p", seed=2, overwrite=True)
    assert fresh.study_id != old.study_id  # ids of deleted studies are never reused
    with pytest.raises(TrialNotOwnedError):
        old.tell(running, 1.0)
    with pytest.raises(StorageError, match="overwrite=True"):
        old.ask()
    assert fresh.trials == []


def test_a_trial_taken_over_by_another_worker_cannot_be_finished_by_the_first(tmp_path, monkeypatch):
    study = hk.create_study(str(tmp_path), "p")
    trial = study.ask()
    workers.release_worker(study.worker)  # as if this search had been interrupted
    other = hk.create_study(str(tmp_path), "p")
    taken = other.ask()
    assert taken.number == trial.number and taken.run_count == 2
    with pytest.raises(TrialNotOwnedError):
        study.tell(trial, 1.0)
    other.tell(taken, 2.0)
    assert other.trials[0].score == 2.0


def test_parallel_workers_wait_instead_of_calling_an_unknown_space_exhausted(tmp_path):
    first = hk.create_study(str(tmp_path), "p")
    running = first.ask()  # defines nothing yet: the space is still empty
    second = hk.create_study(str(tmp_path), "p")
    assert second.ask() is None and second.stop_reason == "idle"
    running.hyperparameters.Int("units", 1, 8)
    first.tell(running, 1.0)
    assert second.ask() is not None  # the space is known now


def test_a_trial_whose_worker_keeps_dying_fails_instead_of_crash_looping(tmp_path):
    space = hk.HyperParameters()
    space.Int("units", 1, 64)
    study = hk.create_study(str(tmp_path), "p", max_retries_per_trial=0, hyperparameters=space)
    for expected_runs in (1, 2, 3):  # a death is not a failure: max_worker_deaths_per_trial=3, whatever max_retries says
        trial = study.ask()
        assert trial.number == 0 and trial.run_count == expected_runs
        workers.release_worker(study.worker)  # the worker "dies" mid-trial
        study.worker = workers.new_worker_id()
    trial = study.ask()
    assert trial.number == 1
    died = study.trials[0]
    assert died.status == hk.TrialStatus.FAILED and "died during each of its 3 runs" in died.message


def test_numpy_values_are_stored_and_unstorable_ones_fail_the_trial_clearly(tmp_path):
    study = hk.create_study(str(tmp_path), "p")
    trial = study.ask()
    trial.user_attrs["n"] = np.int64(3)
    trial.hyperparameters.Choice("lr", list(np.logspace(-3, -1, 3)))
    study.tell(trial, np.float32(0.5))
    stored = study.trials[0]
    # The default algorithm="auto" adds user_attrs["algorithm"]: the sampler that proposed the trial.
    assert stored.user_attrs == {"n": 3, "algorithm": "gp"} and stored.score == 0.5 and stored.values == {"lr": 0.001}
    trial = study.ask()
    trial.user_attrs["model"] = object()
    with pytest.raises(FatalTypeError, match=r"user_attrs\['model'\]"):
        study.tell(trial, 1.0)
    assert study.trials[1].status == hk.TrialStatus.FAILED


def test_a_proposal_may_read_the_study_on_a_single_connection_database():
    class BestNeighbour(kt.Oracle):
        def populate_space(self, trial_id):
            best = self.get_best_trials(1)
            if len(self.trials) >= 4:
                return {"status": "STOPPED"}
            base = best[0].hyperparameters["x"] if best and best[0].score is not None else 0
            return {"status": "RUNNING", "values": {"x": base + 1}}

    class T(kt.Tuner):
        def run_trial(self, trial, *a, **k):
            return -float(trial.hyperparameters.Int("x", 0, 100))

    tuner = T(oracle=BestNeighbour(max_trials=10), storage="sqlite://", project_name="n")
    tuner.search(verbose=0)
    assert [t.hyperparameters["x"] for t in tuner.oracle.trials.values()] == [1, 2, 3, 4]


def test_a_changed_definition_on_resume_stops_with_advice(tmp_path):
    hk.optimize(lambda hp: hp.Int("units", 32, 512), n_trials=2, directory=str(tmp_path), project_name="p", verbose=0)
    with pytest.raises(SearchSpaceError, match="stored study defines it") as info:
        hk.optimize(lambda hp: hp.Int("units", 32, 1024), n_trials=5, directory=str(tmp_path), project_name="p", verbose=0)
    assert "overwrite=True" in str(info.value)
    trials = hk.load_study(str(tmp_path), "p").trials
    assert len(trials) == 3 and trials[-1].status == hk.TrialStatus.FAILED  # stopped at once, no budget burnt


def test_run_trial_reporting_through_the_oracle_still_works(tmp_path):
    class T(kt.RandomSearch):
        def run_trial(self, trial, *a, **k):
            value = trial.hyperparameters.Float("x", 0, 1)
            self.oracle.update_trial(trial.trial_id, {"score": value})

    tuner = T(objective=kt.Objective("score", "max"), max_trials=3, directory=str(tmp_path), project_name="o")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.search(verbose=0)
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    assert all(t.status == "COMPLETED" for t in tuner.oracle.trials.values())


def test_directions_of_other_metrics_are_inferred():
    study = hk.create_study(storage=":memory:", objective="val_loss")
    trial = study.ask()
    for step, (loss, acc) in enumerate([(1.0, 0.6), (0.5, 0.9), (0.7, 0.8)]):
        trial.report(step, {"val_loss": loss, "accuracy": acc})
    study.tell(trial)
    kept = study.to_trial(study.trials[0])
    assert kept.metrics.get_best_value("accuracy") == 0.9
    assert kept.metrics.get_best_value("val_loss") == 0.5


def test_dead_zombie_and_recycled_workers_are_recognised():
    import subprocess
    import sys

    from hyperknob._types import FrozenTrial, TrialStatus

    def running_under(worker: str) -> FrozenTrial:
        return FrozenTrial(study_id=1, number=0, trial_id="0", status=TrialStatus.RUNNING, values={}, worker=worker)

    me = workers.new_worker_id()
    assert not workers.is_orphan(running_under(me))
    workers.release_worker(me)
    assert workers.is_orphan(running_under(me))

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    start = workers._start_time(child.pid)
    alive = f"{workers.HOST}:{child.pid}:{start}-abc"
    assert not workers.is_orphan(running_under(alive))
    assert workers.is_orphan(running_under(f"{workers.HOST}:{child.pid}:1-abc"))  # the pid was recycled
    assert not workers.is_orphan(running_under(f"elsewhere:{child.pid}:{start}-abc"))  # other hosts: not here
    child.kill()
    import time

    deadline = time.time() + 10
    while workers._start_time(child.pid) not in ("zombie", None) and time.time() < deadline:
        time.sleep(0.02)
    assert workers.is_orphan(running_under(alive))  # killed, not yet reaped: a zombie is dead
    child.wait()
    assert workers.is_orphan(running_under(alive))


def test_a_trial_asked_and_abandoned_is_claimed_again_by_the_next_loop():
    study = hk.create_study(storage=":memory:", algorithm="grid")
    study.optimize(lambda hp: hp.Int("a", 0, 1), n_trials=1, verbose=0)
    abandoned = study.ask()
    assert abandoned is not None and abandoned.number == 1
    study.optimize(lambda hp: hp.Int("a", 0, 1), n_trials=5, verbose=0)  # must not wait forever
    trials = study.trials
    assert [t.status.value for t in trials] == ["COMPLETED", "COMPLETED"] and trials[1].run_count == 2


def test_an_invalid_trial_is_queued_once_and_retried_once():
    study = hk.create_study(storage=":memory:", max_retries_per_trial=3)
    trial = study.ask()
    trial.hyperparameters.Float("x", 0, 1)
    study.tell(trial, status="INVALID", message="flaky")
    with pytest.raises(ValueError, match="waiting to be retried"):
        study.tell(trial, status="INVALID")
    again = study.ask()
    assert again is trial and again.run_count == 2
    study.tell(again, 1.0)
    assert study.ask().number == 1  # the queue is empty again


def test_tell_refuses_trials_that_were_not_asked_here():
    study = hk.create_study(storage=":memory:")
    running = study.ask()
    copy = study.to_trial(study.trials[0])
    with pytest.raises(ValueError, match="ask\\(\\) returned"):
        study.tell(copy, 1.0)
    study.tell(running, 2.0)
    assert study.trials[0].score == 2.0


def test_unstorable_keys_and_messages_never_leave_a_trial_running():
    study = hk.create_study(storage=":memory:", max_consecutive_failed_trials=None)
    trial = study.ask()
    trial.hyperparameters.Float("x", 0, 1)
    trial.user_attrs[(1, 2)] = 3
    with pytest.raises(FatalTypeError, match="keys must be strings"):
        study.tell(trial, 1.0)
    assert study.trials[0].status == hk.TrialStatus.FAILED
    trial = study.ask()
    study.tell(trial, status="FAILED", message=ValueError("not a string"))
    assert study.trials[1].status == hk.TrialStatus.FAILED and study.trials[1].message == "not a string"


def test_keras_tuner_style_double_end_trial_is_harmless(tmp_path):
    class T(kt.RandomSearch):
        def run_trial(self, trial, *a, **k):
            return trial.hyperparameters.Float("x", 0, 1)

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            super().on_trial_end(trial)

    tuner = T(max_trials=3, directory=str(tmp_path), project_name="twice")
    tuner.search(verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 3
