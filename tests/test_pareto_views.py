"""Seeing a Pareto search: ``hyperknob pareto`` (table, --all, --export, --json), the Pareto plot and
the HTML report's Pareto section, checked against a brute-force dominance check written here."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import hyperknob as hk
from hyperknob._types import TrialStatus

OBJECTIVES = [hk.Objective("acc", "max"), hk.Objective("size", "min")]
LATENCY_BOUND = 20.0


def objective(hp):
    x = hp.Float("x", 0.0, 1.0)
    y = hp.Float("y", 0.0, 1.0)
    units = hp.Choice("units", [8, 16])
    # acc rises with x, size with x and y: the front is a curve of trade-offs; y > 2/3 misses the bound.
    return {"acc": x + 0.01 * (units == 16), "size": x * x + y + 0.001 * units, "latency": 30.0 * y}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pareto")
    hk.optimize(objective, n_trials=30, directory=str(directory), project_name="par", seed=3, verbose=0,
                algorithm="random", objective=OBJECTIVES, pareto=True,
                constraints=[hk.Constraint("latency", "<=", LATENCY_BOUND)])
    hk.optimize(objective, n_trials=12, directory=str(directory), project_name="one", seed=3, verbose=0,
                algorithm="random", objective=hk.Objective("size", "min"),
                constraints=[hk.Constraint("latency", "<=", LATENCY_BOUND)])
    return directory


@pytest.fixture(scope="module")
def study(runs):
    return hk.load_study(str(runs), "par")


def cli(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "HYPERKNOB_STORAGE")}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run([sys.executable, "-m", "hyperknob.cli", *args], capture_output=True, encoding="utf-8",
                          timeout=120, check=False, env=env)


# --- the truth, by brute force -----------------------------------------------------------------------
def _completed(study):
    return [t for t in study.trials if t.status == TrialStatus.COMPLETED]


def _point(trial):
    at = trial.metrics_at(None)
    return (at["acc"], at["size"])


def _feasible(trial):
    return trial.metrics_at(None)["latency"] <= LATENCY_BOUND


def _dominates(a, b):  # acc is maximised, size minimised
    no_worse = a[0] >= b[0] and a[1] <= b[1]
    return no_worse and (a[0] > b[0] or a[1] < b[1])


def _fronts(study):
    """trial number -> 1 for the front, 2 for the next, ...; None when infeasible (peeling fronts)."""
    remaining = {t.number: _point(t) for t in _completed(study) if _feasible(t)}
    ranks: dict[int, int | None] = {t.number: None for t in _completed(study) if not _feasible(t)}
    rank = 1
    while remaining:
        front = [n for n, p in remaining.items() if not any(_dominates(q, p) for q in remaining.values())]
        ranks.update(dict.fromkeys(front, rank))
        for n in front:
            del remaining[n]
        rank += 1
    return ranks


def _table_rows(text):
    """{first cell: other cells} of each body row of a rich table (│ cells; a folded row's
    continuation lines have an empty first cell)."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if line.startswith("│") and cells[0].isdigit():
            rows[int(cells[0])] = cells[1:]
    return rows


def _flat(text):
    return " ".join(text.split())


# --- the command ------------------------------------------------------------------------------------
def test_the_command_lists_exactly_the_front(runs, study):
    truth = _fronts(study)
    front = {n for n, r in truth.items() if r == 1}
    infeasible = [n for n, r in truth.items() if r is None]
    assert 2 <= len(front) < 30 and infeasible  # the fixture has a front and trials that miss the bound
    out = cli("pareto", f"{runs}/par")
    assert out.returncode == 0, out.stderr[-2000:]
    assert set(_table_rows(out.stdout)) == front
    assert {t.number for t in study.best_trials} == front  # the study agrees
    assert f"30 trials, {len(front)} on the front, {len(infeasible)} infeasible" in out.stdout
    assert "acc ↑" in out.stdout and "size ↓" in out.stdout and "x=" in out.stdout and "units=" in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) <= 80
    # The values shown are the trial's objectives, in objective order.
    for number, cells in _table_rows(out.stdout).items():
        acc, size = _point(study.trials[number])
        assert float(cells[0]) == pytest.approx(acc, rel=1e-5) and float(cells[1]) == pytest.approx(size, rel=1e-5)
    # The same front through --study and --storage, and as JSON.
    url = f"sqlite:///{runs}/par/study.db"
    data = json.loads(cli("pareto", "--storage", url, "--study", "par", "--json").stdout)
    assert {r["trial"] for r in data["rows"]} == front and data["on_front"] == len(front)
    assert data["infeasible"] == len(infeasible) and all(r["feasible"] and r["front"] == 1 for r in data["rows"])
    assert data["objectives"] == [{"name": "acc", "direction": "max"}, {"name": "size", "direction": "min"}]
    assert set(_table_rows(cli("pareto", "--study", "par", "--directory", str(runs)).stdout)) == front
    none = cli("pareto", "--directory", str(runs))
    assert none.returncode != 0 and "--study NAME" in none.stderr


def test_all_shows_every_front_and_marks_the_infeasible(runs, study):
    truth = _fronts(study)
    out = cli("pareto", f"{runs}/par", "--all")
    assert out.returncode == 0, out.stderr[-2000:]
    shown = {n: cells[0] for n, cells in _table_rows(out.stdout).items()}
    assert shown == {n: ("infeasible" if r is None else str(r)) for n, r in truth.items()}
    assert max(truth[n] or 0 for n in truth) >= 3  # several fronts, not only the first
    order = list(_table_rows(out.stdout))
    infeasible = [n for n in order if truth[n] is None]
    assert order[-len(infeasible):] == infeasible  # listed after every feasible trial
    assert max(len(line) for line in out.stdout.splitlines()) <= 80


def test_export_writes_the_front_to_csv_and_json(runs, study, tmp_path):
    truth = _fronts(study)
    front = {n for n, r in truth.items() if r == 1}
    out = cli("pareto", f"{runs}/par", "--export", str(tmp_path / "front.csv"))
    assert out.returncode == 0 and f"{len(front)} trials written to" in _flat(out.stdout)
    with open(tmp_path / "front.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["trial", "trial_id", "acc", "size", "front", "feasible", "param_x", "param_y",
                             "param_units"]
    assert {int(r["trial"]) for r in rows} == front
    for r in rows:
        trial = study.trials[int(r["trial"])]
        assert (float(r["acc"]), float(r["size"])) == _point(trial) and r["feasible"] == "True"
        assert float(r["param_x"]) == trial.values["x"] and int(r["param_units"]) == trial.values["units"]
    assert cli("pareto", f"{runs}/par", "--all", "--export", str(tmp_path / "all.json")).returncode == 0
    data = json.loads((tmp_path / "all.json").read_text())
    assert {d["trial"]: d["front"] for d in data} == truth
    assert {d["trial"] for d in data if not d["feasible"]} == {n for n, r in truth.items() if r is None}
    first = next(d for d in data if d["front"] == 1)
    assert first["objectives"] == dict(zip(["acc", "size"], _point(study.trials[first["trial"]]), strict=True))
    assert first["params"] == study.trials[first["trial"]].values
    bad = cli("pareto", f"{runs}/par", "--export", str(tmp_path / "front.txt"))
    assert bad.returncode != 0 and ".csv or a .json" in bad.stderr and not (tmp_path / "front.txt").exists()


def test_a_study_with_one_objective_says_so(runs):
    study = hk.load_study(str(runs), "one")
    out = cli("pareto", f"{runs}/one")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "has one objective" in _flat(out.stdout) and "pareto=True was not set" in _flat(out.stdout)
    assert set(_table_rows(out.stdout)) == {t.number for t in study.best_trials}
    infeasible = {t.number for t in _completed(study) if not _feasible(t)}
    assert infeasible and f"12 trials, 1 best, {len(infeasible)} infeasible" in out.stdout
    everything = _table_rows(cli("pareto", f"{runs}/one", "--all").stdout)
    assert {n for n, cells in everything.items() if cells[0] == "infeasible"} == infeasible
    ranked = [int(cells[0]) for cells in everything.values() if cells[0] != "infeasible"]
    assert ranked == sorted(ranked) and ranked[0] == 1
    plot = cli("plot", f"{runs}/one", "--kind", "pareto", "-o", str(runs / "one.png"))
    assert plot.returncode != 0 and "pareto=True" in plot.stderr


def test_summary_and_trials_show_the_objectives(runs, study):
    front = [n for n, r in _fronts(study).items() if r == 1]
    summary = cli("summary", f"{runs}/par").stdout
    assert f"{len(front)} on the front" in summary and "acc ↑, size ↓" in summary
    trials = cli("trials", f"{runs}/par", "--limit", "3").stdout
    assert "acc ↑" in trials and "size ↓" in trials and "score" not in trials


def test_stored_text_stays_text(tmp_path):
    """An objective named with terminal escapes and markup reaches neither the terminal nor the page as such."""
    name = "<b>acc</b>\x1b[31m"

    def hostile(hp):
        x = hp.Float("x", 0.0, 1.0)
        return {name: x, "size": x * x + hp.Float("y", 0.0, 1.0)}

    hk.optimize(hostile, n_trials=6, directory=str(tmp_path), project_name="h", seed=0, verbose=0,
                algorithm="random", objective=[hk.Objective(name, "max"), hk.Objective("size", "min")], pareto=True)
    out = cli("pareto", f"{tmp_path}/h", "--all")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "\x1b" not in out.stdout and "\\x1b[31m" in out.stdout
    pytest.importorskip("matplotlib")
    from hyperknob.report.html import render_report

    page = render_report(hk.load_study(str(tmp_path), "h"))
    assert "<b>acc" not in page and "&lt;b&gt;acc&lt;/b&gt;" in page


# --- the plot and the report ----------------------------------------------------------------------------
def _labelled(ax, label):
    found = [c for c in ax.collections if c.get_label() == label]
    assert len(found) == 1, [c.get_label() for c in ax.collections]
    return found[0]


def test_the_plot_highlights_the_front_and_greys_the_infeasible(study):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from hyperknob.report.plots import plot_pareto_front

    truth = _fronts(study)
    front = sorted(_point(study.trials[n]) for n, r in truth.items() if r == 1)
    fig = plot_pareto_front(study)
    ax = fig.axes[0]
    highlighted = _labelled(ax, "Pareto front").get_offsets()
    assert np.allclose(sorted(map(tuple, highlighted.tolist())), front)
    grey = _labelled(ax, "infeasible")
    assert len(grey.get_offsets()) == sum(r is None for r in truth.values())
    assert len(_labelled(ax, "dominated").get_offsets()) == sum(r is not None and r > 1 for r in truth.values())
    (step,) = ax.lines  # the staircase through the front, from one end to the other
    xs, ys = step.get_data()
    assert (min(xs), max(xs)) == pytest.approx((front[0][0], front[-1][0]))
    assert {(x, y) for x, y in front} <= set(zip(xs, ys, strict=True))
    assert "acc" in ax.get_xlabel() and "↑" in ax.get_xlabel() and "size" in ax.get_ylabel() and "↓" in ax.get_ylabel()
    plt.close(fig)


def test_three_objectives_are_parallel_coordinates():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from hyperknob.report.plots import plot_pareto_front

    s = hk.create_study(storage=":memory:", seed=1, algorithm="random", pareto=True,
                        objective=[*OBJECTIVES, hk.Objective("latency", "min")])
    s.optimize(objective, n_trials=25, verbose=0)
    fig = plot_pareto_front(s)
    ax = fig.axes[0]
    lines = _labelled(ax, "Pareto front").get_segments()
    assert len(lines) == len(s.best_trials) and all(len(line) == 3 for line in lines)
    assert [t.get_text().split()[0] for t in ax.get_xticklabels()] == ["acc", "size", "latency"]
    # Each axis has the best value seen on top: the trial with the highest acc is on the front, drawn at 1.
    assert max(line[0][1] for line in lines) == pytest.approx(1.0)
    plt.close(fig)


def test_the_report_has_a_pareto_section(study):
    from hyperknob.report.html import render_report

    front = {n for n, r in _fronts(study).items() if r == 1}
    page = render_report(study)
    assert "<h2>Pareto front</h2>" in page and "on the front" in page
    table = re.search(r"<table id='front'>(.*?)</table>", page, re.S).group(1)
    numbers = {int(n) for n in re.findall(r"<tr><td data-value=\"(\d+)\">", table)}
    assert numbers == front
    assert "<th>acc ↑</th>" in table and "<th>size ↓</th>" in table
    trials = re.search(r"<table id='trials'>(.*?)</table>", page, re.S).group(1)
    assert "<th>acc ↑</th>" in trials and "<th>score</th>" not in trials
    if importlib.util.find_spec("matplotlib"):
        section = page[page.index("<h2>Pareto front</h2>"):page.index("<table id='front'>")]
        assert "<svg" in section
