"""Worker processes on one machine (n_workers) and heartbeats across machines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import hyperknob as hk
from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.exceptions import FatalRuntimeError
from hyperknob.study.parallel import device_groups, split_count
from hyperknob.study.workers import HOST, is_orphan

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="workers are forked")


def worker_pid(trial):
    return int(trial.worker.rsplit(":", 2)[1])


def test_optimize_with_four_workers_shares_the_trials(tmp_path):
    def objective(hp):
        time.sleep(0.02)
        return (hp.Float("x", -1, 1) - 0.2) ** 2

    study = hk.create_study(str(tmp_path), "p", seed=0)
    study.optimize(objective, n_trials=40, n_workers=4, verbose=0)
    trials = study.trials
    assert [t.number for t in trials] == list(range(40))
    assert all(t.status == TrialStatus.COMPLETED for t in trials)
    pids = {worker_pid(t) for t in trials}
    assert len(pids) == 4 and os.getpid() not in pids
    assert study.best_value == min(t.score for t in trials)


def test_tuner_search_with_workers(tmp_path):
    class Black(hk.BaseTuner):
        def run_trial(self, trial, scale, **kwargs):  # search()'s verbose= comes along, as in KerasTuner
            time.sleep(0.05)
            return {"loss": scale * trial.hyperparameters.Float("x", 0, 1)}

    tuner = Black(oracle=hk.oracles.RandomSearchOracle(objective="loss", max_trials=12, seed=1),
                  directory=str(tmp_path), project_name="t")
    tuner.search(2.0, n_workers=3, verbose=0)
    trials = tuner.oracle.study.trials
    assert len(trials) == 12 and all(t.status == TrialStatus.COMPLETED for t in trials)
    # The workers share max_trials (first come, first served): at least two of them ran trials.
    assert len({worker_pid(t) for t in trials}) >= 2 and os.getpid() not in {worker_pid(t) for t in trials}
    assert tuner.oracle.get_best_trials(1)[0].score == min(t.score for t in trials)


def test_workers_need_a_shared_storage():
    study = hk.create_study(storage=":memory:")
    with pytest.raises(ValueError, match="needs a storage every worker process can open"):
        study.optimize(lambda hp: 0.0, n_trials=2, n_workers=2)


def test_a_failing_worker_fails_the_call(tmp_path):
    def objective(hp):
        hp.Float("x", 0, 1)
        raise hk.errors.FatalValueError("broken objective")

    study = hk.create_study(str(tmp_path), "f")
    with pytest.raises(hk.errors.FatalRuntimeError, match="2 of 2 workers failed"):
        study.optimize(objective, n_trials=4, n_workers=2, verbose=0)


def test_a_worker_killed_by_a_signal_is_named_with_the_signal_and_its_trial_runs_again(tmp_path):
    def objective(hp):
        x = hp.Float("x", 0, 1)
        if not os.path.exists(tmp_path / "killed"):
            (tmp_path / "killed").touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return x

    study = hk.create_study(str(tmp_path), "k", seed=0)
    with pytest.raises(FatalRuntimeError, match=r"1 of 2 workers failed: hyperknob-worker-\d was killed by SIGKILL "
                                                r"\(often the out-of-memory killer"):
        study.optimize(objective, n_trials=4, n_workers=2, verbose=0)
    study = hk.load_study(str(tmp_path), "k")
    study.optimize(objective, n_trials=1, verbose=0)
    assert len(study.trials) >= 3
    assert all(t.status == TrialStatus.COMPLETED for t in study.trials)  # the killed trial ran again


def test_split_and_devices():
    assert split_count(10, 4) == [3, 3, 2, 2] and split_count(None, 2) == [None, None]
    assert device_groups(2, 1, "3,5") == ["3", "5"]
    assert device_groups(3, 2, "0,1,2,3") == ["0,1", "2,3", "0,1"]
    assert device_groups(2, None, "0,1") == [None, None]


def test_ctrl_c_stops_every_worker_and_the_study_resumes(tmp_path):
    script = textwrap.dedent(f"""
        import time, hyperknob as hk
        def objective(hp):
            time.sleep(0.3)
            return hp.Float("x", 0, 1)
        study = hk.create_study({str(tmp_path)!r}, "c", max_trials=40)
        print("started", flush=True)
        study.optimize(objective, n_workers=3, verbose=0)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "started"
    time.sleep(2.0)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    proc.wait(timeout=60)
    assert proc.returncode != 0
    study = hk.load_study(str(tmp_path), "c")
    interrupted = study.trials
    assert 3 <= len(interrupted) < 40
    study.optimize(lambda hp: hp.Float("x", 0, 1), verbose=0)
    trials = study.trials
    assert len(trials) == 40 and all(t.status == TrialStatus.COMPLETED for t in trials)


def foreign(heartbeat, worker="elsewhere#1:4242:99-abcdef"):
    return FrozenTrial(study_id=1, number=0, trial_id="0", status=TrialStatus.RUNNING, values={}, worker=worker,
                       heartbeat=heartbeat)


def test_a_silent_worker_on_another_machine_is_taken_over_after_the_grace_period():
    now = 1000.0
    assert not is_orphan(foreign(now - 5), grace=10, now=now)
    assert is_orphan(foreign(now - 11), grace=10, now=now)
    assert not is_orphan(foreign(now - 1e6), grace=None, now=now)  # no grace: never judged from afar
    assert not is_orphan(foreign(None), grace=10, now=now)
    # On this host a live process keeps its trial while it beats, and loses it once silent past
    # the grace period (frozen by SIGSTOP, say: #22), like a worker on another machine.
    parent = os.getppid()
    from hyperknob.study.workers import _start_time

    alive = f"{HOST}:{parent}:{_start_time(parent)}-abc"
    assert not is_orphan(foreign(now - 5, worker=alive), grace=10, now=now)
    assert is_orphan(foreign(now - 1e6, worker=alive), grace=10, now=now)


def test_heartbeats_keep_a_long_trial_alive_and_stop_when_it_ends(tmp_path):
    study = hk.create_study(str(tmp_path), "h", heartbeat_interval=0.1)
    assert study.heartbeat_interval == 0.1 and study.grace_period == pytest.approx(0.4)
    beats = []

    def objective(hp):
        x = hp.Float("x", 0, 1)
        for _ in range(6):
            time.sleep(0.1)
            beats.append(study.storage.get_trial(study.study_id, 0).heartbeat)
        return x

    study.optimize(objective, n_trials=1, verbose=0)
    assert len(set(beats)) >= 3 and beats == sorted(beats)
    last = study.trials[0].heartbeat
    time.sleep(0.3)
    assert study.trials[0].heartbeat == last  # no beats after the trial ended


def test_a_trial_abandoned_on_another_machine_is_run_again(tmp_path):
    """A trial RUNNING under a worker of another host: left alone while its heartbeat is fresh,
    run again by this worker once it has been silent longer than the grace period."""
    space = hk.HyperParameters()
    space.Float("x", 0, 1)
    study = hk.create_study(str(tmp_path), "a", heartbeat_interval=0.1, grace_period=0.5, max_trials=2,
                            hyperparameters=space)
    lost = study.ask()
    study.storage.update_trial(study.study_id, lost.number, owner=lost._worker, worker="elsewhere#1:4242:99-abcdef",
                               heartbeat=time.time())
    fresh = study.ask()
    assert fresh.number == 1  # the other machine's trial is still alive
    study.tell(fresh, 1.0)
    assert study.ask() is None  # budget spent; the foreign trial is not yet abandoned
    time.sleep(0.6)
    again = study.ask()
    assert again is not None and again.number == 0 and again.run_count == 2
    study.tell(again, 0.5)
    assert [t.status for t in study.trials] == [TrialStatus.COMPLETED] * 2


def test_workers_are_not_forked_from_a_process_that_initialised_cuda(tmp_path, monkeypatch):
    """A forked child cannot use CUDA once its parent has: refuse before forking, naming the fix."""
    import types

    fake_torch = types.SimpleNamespace(cuda=types.SimpleNamespace(is_initialized=lambda: True))
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    study = hk.create_study(str(tmp_path), "cuda", seed=0)
    with pytest.raises(FatalRuntimeError, match=r"PyTorch already initialised the GPU.*build\(hp\)"):
        study.optimize(lambda hp: hp.Float("x", 0.0, 1.0), n_trials=4, n_workers=2, verbose=0)
    assert study.trials == []


def test_gpu_workers_need_torch_imported_after_hyperknob(tmp_path, monkeypatch):
    from hyperknob import _fork_safety

    monkeypatch.setattr(_fork_safety, "TORCH_LOADED_FIRST", True)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    study = hk.create_study(str(tmp_path), "late", seed=0)
    with pytest.raises(FatalRuntimeError, match="Import hyperknob before keras and torch"):
        study.optimize(lambda hp: hp.Float("x", 0.0, 1.0), n_trials=4, n_workers=2, devices_per_worker=1, verbose=0)
    assert study.trials == []
    assert os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] == "1"
