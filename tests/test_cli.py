"""The ``hyperknob`` command on a study made by a real search, and ``results_dataframe``."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

import hyperknob as hk
from hyperknob.report import study_summary, trial_rows


def objective(hp):
    x = hp.Float("x", -2.0, 2.0)
    kind = hp.Choice("kind", ["a", "b"])
    if x > 1.2:
        raise RuntimeError(f"diverged at x={x:.3f}")
    return (x - 0.3) ** 2 + (kind == "b")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    directory = tmp_path_factory.mktemp("runs")
    hk.optimize(objective, n_trials=20, directory=str(directory), project_name="demo", seed=4, verbose=0,
                max_consecutive_failed_trials=None)
    return directory


def cli(*args, cwd=None):
    out = subprocess.run([sys.executable, "-m", "hyperknob.cli", *args], capture_output=True, text=True, cwd=cwd,
                         timeout=120, check=False)
    return out


def test_studies_summary_and_best(project):
    listed = json.loads(cli("studies", "--directory", str(project), "--json").stdout)
    assert [row["study"] for row in listed] == [f"{project}/demo"] and listed[0]["algorithm"] == "auto"
    study = hk.load_study(str(project), "demo")
    summary = json.loads(cli("summary", f"{project}/demo", "--json").stdout)
    failed = sum(t.status == "FAILED" for t in study.trials)
    assert failed > 0 and summary["by_status"] == {"COMPLETED": 20 - failed, "FAILED": failed}
    assert summary["best"]["score"] == study.best_value and summary["trials"] == 20
    best = json.loads(cli("best", "demo", "--directory", str(project), "-n", "3", "--json").stdout)
    assert [b["score"] for b in best] == sorted(t.score for t in study.trials if t.status == "COMPLETED")[:3]
    table = cli("best", f"{project}/demo").stdout
    assert "Best of demo" in table and best[0]["trial_id"] in table


def test_trials_filter_sort_columns(project):
    failed = json.loads(cli("trials", f"{project}/demo", "--status", "FAILED", "--json").stdout)
    assert failed and all(r["status"] == "FAILED" and r["param_x"] > 1.2 for r in failed)
    assert all(r["message"].startswith("RuntimeError: diverged at x=") for r in failed)
    ranked = json.loads(cli("trials", f"{project}/demo", "--sort", "score", "--columns", "number,score", "--json").stdout)
    scores = [r["score"] for r in ranked if r["score"] is not None]
    assert scores == sorted(scores) and set(ranked[0]) == {"number", "score"}
    bad = cli("trials", f"{project}/demo", "--columns", "number,nope")
    assert bad.returncode != 0 and "Unknown column(s) ['nope']" in bad.stderr and "param_kind" in bad.stderr
    terminal = cli("trials", f"{project}/demo", "--limit", "3").stdout
    assert "kind" in terminal and "score" in terminal and "worker" not in terminal  # what fits a terminal


def test_export_csv_and_json(project):
    rows = list(csv.DictReader(io.StringIO(cli("export", f"{project}/demo").stdout)))
    assert len(rows) == 20 and {"number", "status", "score", "param_x", "param_kind"} <= set(rows[0])
    out = project / "trials.json"
    assert cli("export", f"{project}/demo", "--format", "json", "-o", str(out)).returncode == 0
    data = json.loads(out.read_text())
    assert [d["number"] for d in data] == list(range(20)) and "default_objective" in data[0]["metrics"]


def test_missing_and_foreign_studies_say_so(project, tmp_path):
    missing = cli("summary", f"{project}/nope")
    assert missing.returncode != 0 and "no study file" in missing.stderr and "demo" in missing.stderr
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "study.db").write_text("not a database")
    foreign = cli("summary", f"{tmp_path}/other")
    assert foreign.returncode != 0 and "not a hyperknob study" in foreign.stderr
    assert "Traceback" not in foreign.stderr


def test_rows_summary_and_dataframe(project):
    study = hk.load_study(str(project), "demo")
    rows = trial_rows(study, sort="score")
    assert rows[0]["score"] == study.best_value and rows[0]["param_x"] == study.best_params["x"]
    assert study_summary(study)["best"]["values"] == study.best_params
    pd = pytest.importorskip("pandas")

    class Black(hk.BaseTuner):
        def run_trial(self, trial, *args, **kwargs):
            return {"loss": trial.hyperparameters.Float("x", 0, 1)}

    tuner = Black(oracle=hk.oracles.RandomSearchOracle(objective="loss", max_trials=5, seed=0),
                  directory=str(project), project_name="df")
    tuner.search(verbose=0)
    frame = tuner.results_dataframe()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 5
    assert frame["score"].min() == tuner.oracle.get_best_trials(1)[0].score
    assert list(frame["param_x"]) == [t.values["x"] for t in tuner.oracle.study.trials]


@pytest.mark.parametrize("kind", ["history", "curves", "parallel"])
def test_plot_command_writes_an_image(project, tmp_path, kind):
    pytest.importorskip("matplotlib")
    out = tmp_path / f"{kind}.png"
    result = cli("plot", f"{project}/demo", "--kind", kind, "-o", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    rungs = cli("plot", f"{project}/demo", "--kind", "rungs", "-o", str(tmp_path / "r.png"))
    assert rungs.returncode != 0 and "did not use Hyperband or ASHA" in rungs.stderr


def test_tensorboard_command(project, tmp_path):
    pytest.importorskip("tensorboardX")
    out = cli("tensorboard", f"{project}/demo", "--logdir", str(tmp_path / "tb"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("20 runs in") and len(list((tmp_path / "tb").iterdir())) == 20
