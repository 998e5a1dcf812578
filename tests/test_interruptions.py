"""A search survives what cuts its trials off: killed workers, and the user's Ctrl-C (#22, item 0)."""

from __future__ import annotations

import pytest

import hyperknob as hk
from hyperknob.study import workers


def _die(study):
    """The worker running the study's trial dies (as a SIGKILL or an OOM kill would leave it)."""
    workers.release_worker(study.worker)
    study.worker = workers.new_worker_id()


def test_a_first_trial_cut_off_twice_leaves_a_study_that_goes_on(tmp_path):
    study = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0)
    for _ in range(2):
        trial = study.ask()
        trial.hyperparameters.Int("units", 1, 64)  # the objective declares its space, then dies
        _die(study)
    study.optimize(lambda hp: hp.Int("units", 1, 64), n_trials=3, verbose=0)
    assert study.stop_reason != "exhausted"
    assert [t.status for t in study.trials] == [hk.TrialStatus.COMPLETED] * 3
    assert study.trials[0].run_count == 3


def test_the_space_is_stored_as_soon_as_a_trial_declares_it(tmp_path):
    study = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0)
    trial = study.ask()
    trial.hyperparameters.Float("lr", 1e-4, 1e-1, sampling="log")
    assert [p.name for p in hk.load_study(str(tmp_path), "p").space] == ["lr"]


def test_a_space_never_declared_is_unknown_not_exhausted(tmp_path):
    study = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0)
    for _ in range(3):  # three deaths before the objective declared anything: trial 0 fails
        study.ask()
        _die(study)
    assert study.ask().number == 1  # a new trial to learn the space, not "exhausted"
    _die(study)
    study.optimize(lambda hp: hp.Int("units", 1, 64), n_trials=2, verbose=0)
    statuses = [t.status for t in study.trials]
    assert statuses.count(hk.TrialStatus.COMPLETED) == 2 and study.stop_reason != "exhausted"


def test_ctrl_c_interrupts_a_trial_without_counting_against_it(tmp_path):
    calls = []

    def objective(hp):
        hp.Int("units", 1, 64)
        calls.append(1)
        if len(calls) <= 3:
            raise KeyboardInterrupt
        return 1.0

    study = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0)
    for _ in range(3):
        with pytest.raises(KeyboardInterrupt):
            study.optimize(objective, n_trials=1, verbose=0)
        assert study.trials[0].status == hk.TrialStatus.RUNNING
    study.optimize(objective, n_trials=1, verbose=0)
    trial = study.trials[0]
    assert len(study.trials) == 1 and trial.status == hk.TrialStatus.COMPLETED and trial.run_count == 1


def test_worker_deaths_have_their_own_limit(tmp_path):
    with pytest.raises(ValueError, match="max_worker_deaths_per_trial"):
        hk.create_study(str(tmp_path), "bad", max_worker_deaths_per_trial=0)
    study = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0, max_worker_deaths_per_trial=5,
                            max_retries_per_trial=0)
    for runs in range(1, 6):
        trial = study.ask()
        assert trial.number == 0 and trial.run_count == runs
        _die(study)
    assert study.ask().number == 1 and "5 runs" in study.trials[0].message


def test_a_frozen_worker_on_this_host_loses_its_trial_after_the_grace_period(tmp_path):
    """SIGSTOP: the process lives but its heartbeat stops; after the grace period its trial is
    another worker's, and the late result of the frozen one is refused."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from hyperknob._types import FrozenTrial, TrialStatus

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        os.kill(child.pid, signal.SIGSTOP)
        worker = f"{workers.HOST}:{child.pid}:{workers._start_time(child.pid)}-abc"
        trial = FrozenTrial(study_id=1, number=0, trial_id="0", status=TrialStatus.RUNNING, values={},
                            worker=worker, heartbeat=time.time() - 10)
        assert not workers.is_orphan(trial, grace=30)  # silent for less than the grace period
        assert workers.is_orphan(trial, grace=4)  # alive, but silent for longer: abandoned
    finally:
        child.kill()
        child.wait()


def test_a_worker_whose_trial_was_taken_over_goes_on_with_the_next(tmp_path):
    slow = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0)
    other = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0)
    taken = []

    def objective(hp):
        hp.Float("x", 0.0, 1.0)
        if not taken:
            # While this trial runs, another worker takes it over (as after a freeze past the grace period).
            workers.release_worker(slow.worker)
            taken.append(other.ask())
        return 1.0

    slow.optimize(objective, n_trials=2, verbose=0)  # the first tell is refused; it goes on
    other.tell(taken[0], 0.5)
    trials = slow.trials
    assert [t.status for t in trials] == [hk.TrialStatus.COMPLETED] * len(trials) and len(trials) >= 2
    assert trials[0].score == 0.5  # the worker that took it over finished it


def test_a_trial_past_its_time_limit_fails_and_the_search_goes_on(tmp_path):
    import time

    def objective(hp):
        x = hp.Float("x", 0.0, 1.0)
        if len(study.trials) == 1:  # the first trial hangs
            time.sleep(30)
        return x

    study = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0, trial_timeout=0.5)
    study.optimize(objective, n_trials=3, verbose=0)
    statuses = [t.status for t in study.trials]
    assert statuses == [hk.TrialStatus.FAILED, hk.TrialStatus.COMPLETED, hk.TrialStatus.COMPLETED]
    assert "trial_timeout=0.5" in study.trials[0].message
    with pytest.raises(ValueError, match="trial_timeout"):
        hk.create_study(str(tmp_path), "q", trial_timeout=-1)


def test_the_tuner_door_takes_a_trial_timeout(tmp_path):
    import time

    class Slow(hk.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            x = trial.hyperparameters.Float("x", 0.0, 1.0)
            if trial.trial_id.endswith("0"):
                time.sleep(30)
            return x

    tuner = Slow(objective="loss", max_trials=2, directory=str(tmp_path), project_name="t", trial_timeout=0.5)
    tuner.search(verbose=0)
    trials = tuner.study.trials
    assert [t.status for t in trials] == [hk.TrialStatus.FAILED, hk.TrialStatus.COMPLETED]
