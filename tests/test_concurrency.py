"""Several processes on one study (an SQLite file, or a PostgreSQL database), and a search killed
with SIGKILL then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import hyperknob as hk

WORKER = textwrap.dedent(
    """
    import pathlib, sys, time, hyperknob as hk
    directory, budget, storage, n_procs, pause = sys.argv[1], int(sys.argv[2]), sys.argv[3] or None, int(sys.argv[4]), float(sys.argv[5])
    def objective(hp):
        if pause:
            time.sleep(pause)
        return hp.Float("x", -10, 10) ** 2 + hp.Int("k", 0, 1000)
    study = hk.create_study(directory, "shared", storage=storage, seed=7)
    # Start together: without this barrier the first worker may finish all trials before the
    # others have imported anything, and the test would not test sharing.
    ready = pathlib.Path(directory, "ready")
    ready.mkdir(exist_ok=True)
    (ready / str(hk.__name__ + str(__import__("os").getpid()))).touch()
    while len(list(ready.iterdir())) < n_procs:
        time.sleep(0.01)
    study.optimize(objective, max_trials=budget, verbose=0)
    """
)


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request):
    """'' for the default SQLite file in the project folder, else a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        return ""
    return request.getfixturevalue("postgres_url")


def _share_one_budget(tmp_path, storage, n_procs, budget, pause):
    # Create the study once, as a user's first run would.
    hk.create_study(str(tmp_path), "shared", storage=storage or None, seed=7).storage.close()
    logs = [tmp_path / f"worker{i}.log" for i in range(n_procs)]
    procs = []
    for log in logs:
        with open(log, "w") as err:
            args = [str(tmp_path), str(budget), storage, str(n_procs), str(pause)]
            procs.append(subprocess.Popen([sys.executable, "-c", WORKER, *args], stderr=err))
    for p, log in zip(procs, logs, strict=True):
        p.wait(timeout=600)
        assert p.returncode == 0, log.read_text()
    study = hk.load_study(str(tmp_path), "shared", storage=storage or None)
    trials = study.trials
    study.storage.close()
    # None lost, none duplicated, the budget exact.
    assert [t.number for t in trials] == list(range(budget))
    assert all(t.status == hk.TrialStatus.COMPLETED for t in trials)
    assert all(t.run_count == 1 for t in trials)
    assert len({t.trial_id for t in trials}) == budget
    assert len({json.dumps(dict(t.values), sort_keys=True) for t in trials}) == budget
    # The work was shared (which processes got how many depends on the machine's load).
    assert len({t.worker.rsplit(":", 2)[1] for t in trials}) >= 2


def test_four_processes_share_one_budget(tmp_path, storage):
    _share_one_budget(tmp_path, storage, n_procs=4, budget=400, pause=0.002)


@pytest.mark.slow
def test_eight_processes_share_four_thousand_trials(tmp_path, storage):
    # The stress test: 8 processes x 500 trials, as fast as the storage lets them claim.
    _share_one_budget(tmp_path, storage, n_procs=8, budget=4000, pause=0.0)


KILLABLE = textwrap.dedent(
    """
    import sys, time, pathlib, hyperknob as hk
    directory, marker, storage = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3] or None
    def objective(hp):
        x = hp.Float("x", 0, 1)
        with open(marker, "a") as f:
            f.write(repr(x) + "\\n")
        if sum(1 for _ in open(marker)) == 4:
            time.sleep(60)  # the parent kills us here, mid-trial
        return x
    hk.create_study(directory, "killed", storage=storage, seed=3).optimize(objective, max_trials=8, verbose=0)
    """
)


def test_sigkill_mid_trial_then_resume_loses_and_reruns_nothing(tmp_path, storage):
    marker = tmp_path / "started.txt"
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(tmp_path), str(marker), storage])
    deadline = time.time() + 60
    while time.time() < deadline and (not marker.exists() or len(marker.read_text().splitlines()) < 4):
        time.sleep(0.05)
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = hk.load_study(str(tmp_path), "killed", storage=storage or None).trials
    completed = {t.number: dict(t.values) for t in before if t.status == hk.TrialStatus.COMPLETED}
    assert len(completed) == 3
    assert [t.status for t in before if t.number not in completed] == [hk.TrialStatus.RUNNING]

    marker.write_text("x\n" * 10)  # no more sleeping: the resumed run finishes
    subprocess.run([sys.executable, "-c", KILLABLE, str(tmp_path), str(marker), storage], check=True, timeout=120)
    after = hk.load_study(str(tmp_path), "killed", storage=storage or None).trials
    assert [t.number for t in after] == list(range(8))
    assert all(t.status == hk.TrialStatus.COMPLETED for t in after)
    for number, values in completed.items():
        assert dict(after[number].values) == values and after[number].run_count == 1
    rerun = [t for t in after if t.number not in completed and t.number < 4]
    assert len(rerun) == 1 and rerun[0].run_count == 2
    # five objective calls after the kill: the interrupted trial once more, then trials 4..7
    assert len(marker.read_text().splitlines()) == 10 + 5
