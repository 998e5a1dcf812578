"""Importance against ground truth (#25): synthetic objectives whose effects are known — one
dominant parameter, a weaker one, a dead one, a pure interaction, a conditional branch — searched
by random search and by TPE with fixed seeds; both fANOVA and PED-ANOVA must rank them as built."""

from __future__ import annotations

import statistics

import pytest

pytest.importorskip("sklearn")
from scipy.stats import spearmanr

import hyperknob as hk
from hyperknob import report
from hyperknob.cli import main

TRUE = {"strong": 3.0, "weak": 1.0, "dead": 0.0}


def _linear(hp):
    return sum(weight * hp.Float(name, 0.0, 1.0) for name, weight in TRUE.items())


def _study(objective, seed, algorithm="random", n_trials=150):
    study = hk.create_study(storage=":memory:", algorithm=algorithm, seed=seed)
    study.optimize(objective, n_trials=n_trials, verbose=0)
    return study


def _rank_agreement(result) -> float:
    found = {e.name: e.value for e in result.main}
    names = list(TRUE)
    return float(spearmanr([TRUE[n] for n in names], [found[n] for n in names]).statistic)


@pytest.mark.parametrize(("method", "algorithm"), [
    ("fanova", "random"), ("ped-anova", "random"), ("fanova", "tpe"),
    pytest.param("ped-anova", "tpe", marks=pytest.mark.xfail(
        strict=True, reason="#25 open: PED-ANOVA ranks within TPE's top trials, where the dominant parameter is "
        "already settled (weak ahead of strong; dead's interval 0.04-0.09)")),
])
def test_the_true_ranking_is_recovered_and_the_dead_parameter_is_zero(method, algorithm):
    agreements, dead_lows = [], []
    for seed in range(3):
        result = report.importance(_study(_linear, seed, algorithm), method=method, seed=seed)
        agreements.append(_rank_agreement(result))
        dead = result.get("dead")
        assert dead is not None
        dead_lows.append(dead.low)
        assert result.main[0].name == "strong"
    assert statistics.median(agreements) >= 0.9
    assert max(dead_lows) <= 0.01  # the dead parameter's interval reaches 0


def test_fanova_finds_a_pure_interaction():
    def objective(hp):
        a, b = hp.Float("a", -1.0, 1.0), hp.Float("b", -1.0, 1.0)
        hp.Float("c", 0.0, 1.0)
        return a * b  # no main effect: everything is in the pair

    result = report.importance(_study(objective, 0, n_trials=200), method="fanova")
    top = max(result.pairs, key=lambda p: p.value)
    assert set(top.names) == {"a", "b"} and top.value > max(e.value for e in result.main)
    assert any("interact" in line for line in result.sentences())


def test_a_conditional_branch_is_credited_to_the_choice():
    def objective(hp):
        model = hp.Choice("model", ["linear", "tree"])
        hp.Float("noise", 0.0, 1.0)
        if model == "tree":
            with hp.conditional_scope("model", "tree"):
                depth = hp.Int("depth", 1, 10)
            return 5.0 + 0.01 * depth
        return 0.0

    result = report.importance(_study(objective, 1, n_trials=120), method="fanova")
    assert result.main[0].name == "model"
    assert result.get("noise").value < 0.05


def test_the_command_prints_words_at_80_columns_and_json(tmp_path, monkeypatch, capsys):
    study = hk.create_study(str(tmp_path), "lin", algorithm="random", seed=0)
    study.optimize(_linear, n_trials=60, verbose=0)
    monkeypatch.setenv("COLUMNS", "80")
    capsys.readouterr()
    assert main(["importance", "lin", "--directory", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "`strong` matters most" in out and "dead" in out
    assert main(["importance", "lin", "--directory", str(tmp_path), "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["main"][0]["name"] == "strong" if isinstance(data["main"][0], dict) else data["main"][0][0] == "strong"


def test_too_few_trials_is_a_clear_error(tmp_path, capsys):
    study = hk.create_study(str(tmp_path), "few", algorithm="random", seed=0)
    study.optimize(_linear, n_trials=2, verbose=0)
    assert main(["importance", "few", "--directory", str(tmp_path)]) == 1
    assert "trials" in capsys.readouterr().err


def test_the_docs_page_runs_as_written(capsys):
    import pathlib
    import re

    page = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "importance.md").read_text()
    (block,) = re.findall(r"```python\n(.*?)```", page, re.DOTALL)
    exec(compile(block, "docs/importance.md", "exec"), {})
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[0] == "strong" and "matters most" in out
