"""``hyperknob worker``: join a study with an importable objective or a search script."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import hyperknob as hk
from hyperknob._types import TrialStatus


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "hyperknob.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def test_worker_runs_an_importable_objective_on_a_named_study(tmp_path):
    (tmp_path / "myobjective.py").write_text(textwrap.dedent("""
        def objective(hp):
            return (hp.Float("x", -1, 1) - 0.5) ** 2
    """))
    study = hk.create_study(str(tmp_path), "cli", algorithm="tpe", max_trials=12, seed=2)
    out = run_cli("worker", "myobjective:objective", "--study", "cli", "--directory", str(tmp_path),
                  "--n-workers", "2", "--quiet", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    trials = study.trials
    assert len(trials) == 12 and all(t.status == TrialStatus.COMPLETED for t in trials)
    assert os.getpid() not in {int(t.worker.rsplit(":", 2)[1]) for t in trials}


def test_worker_runs_a_script_with_the_storage_set(tmp_path):
    db = tmp_path / "shared.db"
    script = tmp_path / "search.py"
    script.write_text(textwrap.dedent("""
        import sys
        import hyperknob as kt

        class T(kt.RandomSearch):
            def run_trial(self, trial, *args, **kwargs):
                return {"loss": trial.hyperparameters.Float("x", 0, 1) * float(sys.argv[-1])}

        T(objective="loss", max_trials=6, seed=0, project_name="s").search(verbose=0)
    """))
    out = run_cli("worker", str(script), "--storage", f"sqlite:///{db}", "--n-workers", "2", "3.0", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    trials = hk.load_study(storage=f"sqlite:///{db}", project_name="s").trials
    assert len(trials) == 6 and all(t.status == TrialStatus.COMPLETED for t in trials)
    assert all(t.score == 3.0 * t.values["x"] for t in trials)
    assert not os.path.exists(tmp_path / "s")  # the storage URL was used, not a project folder


def test_worker_without_a_study_says_what_is_missing(tmp_path):
    out = run_cli("worker", "mod:fn", cwd=tmp_path)
    assert out.returncode != 0 and "--study NAME is needed" in out.stderr
