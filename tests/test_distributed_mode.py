"""KerasTuner's distributed environment variables: a chief and two workers, meeting in the study."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

import hyperknob as hk
from hyperknob._types import TrialStatus

SCRIPT = textwrap.dedent("""
    import os, sys, time
    import hyperknob as kt

    class MyTuner(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            x = trial.hyperparameters.Float("x", -1.0, 1.0)
            time.sleep(0.1)
            return {"loss": (x - 0.25) ** 2}

    tuner = MyTuner(objective="loss", max_trials=16, seed=3, directory=sys.argv[1], project_name="dist",
                    overwrite=True)
    tuner.search(verbose=0)
    print("done", os.environ["KERASTUNER_TUNER_ID"], flush=True)
""")


def start(tmp_path, tuner_id):
    env = {**os.environ, "KERASTUNER_TUNER_ID": tuner_id, "KERASTUNER_ORACLE_IP": "127.0.0.1",
           "KERASTUNER_ORACLE_PORT": "8000"}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_a_chief_and_two_workers_run_the_search_to_completion(tmp_path):
    chief = start(tmp_path, "chief")
    time.sleep(1.5)  # KerasTuner also starts its chief first
    workers = [start(tmp_path, f"tuner{i}") for i in range(2)]
    for proc in [*workers, chief]:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        assert out.startswith("done")
    study = hk.load_study(str(tmp_path), "dist")  # the shared study can be reloaded afterwards
    trials = study.trials
    assert [t.number for t in trials] == list(range(16))
    assert all(t.status == TrialStatus.COMPLETED for t in trials)
    pids = {t.worker.rsplit(":", 2)[1] for t in trials}
    assert len(pids) == 2 and str(chief.pid) not in pids  # the chief ran no trial
    assert {str(w.pid) for w in workers} == pids


def test_the_environment_is_checked_as_keras_tuner_does(monkeypatch):
    from hyperknob.tuners.distributed import distributed_role

    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    with pytest.raises(RuntimeError, match="KERASTUNER_ORACLE_PORT"):
        distributed_role()
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8000")
    with pytest.raises(RuntimeError, match="KERASTUNER_TUNER_ID"):
        distributed_role()
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    assert distributed_role() == "chief"
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner1")
    assert distributed_role() == "worker"
    monkeypatch.delenv("KERASTUNER_ORACLE_IP")
    assert distributed_role() is None
