"""Several processes on one SQLite study, and a search killed with SIGKILL then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import hyperknob as hk

WORKER = textwrap.dedent(
    """
    import pathlib, sys, time, hyperknob as hk
    directory, budget = sys.argv[1], int(sys.argv[2])
    def objective(hp):
        time.sleep(0.005)
        return hp.Float("x", -10, 10) ** 2 + hp.Int("k", 0, 1000)
    study = hk.create_study(directory, "shared", seed=7)
    # Start together: without this barrier the first worker may finish all trials before the
    # others have imported anything, and the test would not test sharing.
    ready = pathlib.Path(directory, "ready")
    ready.mkdir(exist_ok=True)
    (ready / str(hk.__name__ + str(__import__("os").getpid()))).touch()
    while len(list(ready.iterdir())) < 4:
        time.sleep(0.01)
    study.optimize(objective, max_trials=budget, verbose=0)
    """
)


def test_four_processes_share_one_budget(tmp_path):
    hk.create_study(str(tmp_path), "shared", seed=7)  # create the file once, as a user's first run would
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path), "200"], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    trials = hk.load_study(str(tmp_path), "shared").trials
    assert [t.number for t in trials] == list(range(200))
    assert all(t.status == hk.TrialStatus.COMPLETED for t in trials)
    assert len({t.trial_id for t in trials}) == 200
    assert len({json.dumps(dict(t.values), sort_keys=True) for t in trials}) == 200
    # The work was shared (which processes got how many depends on the machine's load).
    assert len({t.worker.rsplit(":", 2)[1] for t in trials}) >= 2


KILLABLE = textwrap.dedent(
    """
    import sys, time, pathlib, hyperknob as hk
    directory, marker = sys.argv[1], pathlib.Path(sys.argv[2])
    def objective(hp):
        x = hp.Float("x", 0, 1)
        with open(marker, "a") as f:
            f.write(repr(x) + "\\n")
        if sum(1 for _ in open(marker)) == 4:
            time.sleep(60)  # the parent kills us here, mid-trial
        return x
    hk.create_study(directory, "killed", seed=3).optimize(objective, max_trials=8, verbose=0)
    """
)


def test_sigkill_mid_trial_then_resume_loses_and_reruns_nothing(tmp_path):
    marker = tmp_path / "started.txt"
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(tmp_path), str(marker)])
    deadline = time.time() + 60
    while time.time() < deadline and (not marker.exists() or len(marker.read_text().splitlines()) < 4):
        time.sleep(0.05)
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = hk.load_study(str(tmp_path), "killed").trials
    completed = {t.number: dict(t.values) for t in before if t.status == hk.TrialStatus.COMPLETED}
    assert len(completed) == 3
    assert [t.status for t in before if t.number not in completed] == [hk.TrialStatus.RUNNING]

    marker.write_text("x\n" * 10)  # no more sleeping: the resumed run finishes
    subprocess.run([sys.executable, "-c", KILLABLE, str(tmp_path), str(marker)], check=True, timeout=120)
    after = hk.load_study(str(tmp_path), "killed").trials
    assert [t.number for t in after] == list(range(8))
    assert all(t.status == hk.TrialStatus.COMPLETED for t in after)
    for number, values in completed.items():
        assert dict(after[number].values) == values and after[number].run_count == 1
    rerun = [t for t in after if t.number not in completed and t.number < 4]
    assert len(rerun) == 1 and rerun[0].run_count == 2
    # five objective calls after the kill: the interrupted trial once more, then trials 4..7
    assert len(marker.read_text().splitlines()) == 10 + 5
