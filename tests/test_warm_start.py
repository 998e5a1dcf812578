"""Warm start from earlier studies (#23): their results guide the algorithm from the first trial,
spaces may differ, and a source that misleads fades out; the sources' trials are never the new
study's."""

from __future__ import annotations

import numpy as np
import pytest

import hyperknob as hk


def _shifted(shift, scale=1.0):
    def objective(hp):
        x, y = hp.Float("x", 0.0, 1.0), hp.Float("y", 0.0, 1.0)
        return scale * ((x - 0.7 - shift) ** 2 + (y - 0.2) ** 2) + 3.0
    return objective


def _source(tmp_path, name, objective, n=40, seed=0, **kwargs):
    study = hk.create_study(str(tmp_path), name, algorithm="random", seed=seed, **kwargs)
    study.optimize(objective, n_trials=n, verbose=0)
    return study


@pytest.mark.parametrize("algorithm", ["tpe", "gp"])
def test_a_related_source_finds_a_good_region_in_the_first_trials(tmp_path, algorithm):
    source = _source(tmp_path, "src", _shifted(0.05, scale=100.0))  # another scale, a small shift
    cold, warm = [], []
    for seed in range(5):
        task = _shifted(0.0)
        c = hk.create_study(str(tmp_path), f"c{algorithm}{seed}", algorithm=algorithm, seed=seed)
        c.optimize(task, n_trials=6, verbose=0)
        w = hk.create_study(str(tmp_path), f"w{algorithm}{seed}", algorithm=algorithm, seed=seed, warm_start=[source])
        w.optimize(task, n_trials=6, verbose=0)
        cold.append(c.best_value - 3.0)
        warm.append(w.best_value - 3.0)
        assert len(w.trials) == 6 and all(t.number < 6 for t in w.trials)  # the source's trials are not its own
    assert np.median(warm) < 0.3 * np.median(cold), (warm, cold)


def test_a_misleading_source_fades_out_and_a_related_one_keeps_its_weight(tmp_path):
    related = _source(tmp_path, "rel", _shifted(0.0, scale=5.0))
    misleading = _source(tmp_path, "mis", lambda hp: -_shifted(0.0)(hp))  # best where the task is worst
    study = hk.create_study(str(tmp_path), "t", algorithm="tpe", seed=0, warm_start=[related, misleading])
    study.optimize(_shifted(0.0), n_trials=15, verbose=0)
    weights = {s.label.split()[0]: s.weight for s in study.warm_start.summaries}
    assert weights["rel"] > 0.6 and weights["mis"] < 0.1, weights
    assert study.best_value - 3.0 < 0.02


def test_a_changed_space_is_mapped_and_said_never_failing(tmp_path):
    def old(hp):
        return (hp.Float("x", 0.0, 1.0) - 0.7) ** 2 + hp.Float("dropout", 0.0, 0.5) + (hp.Choice("act", ["relu", "tanh"]) == "relu")

    source = _source(tmp_path, "old", old, n=30)

    def new(hp):
        x = hp.Float("x", 0.5, 1.0)  # narrowed: some of the source's values fall outside
        act = hp.Choice("act", ["relu", "gelu"])  # a new choice, one dropped
        width = hp.Int("width", 1, 8)  # added
        return (x - 0.7) ** 2 + (act == "gelu") + width / 100

    study = hk.create_study(str(tmp_path), "new", algorithm="tpe", seed=0, warm_start=[source])
    study.optimize(new, n_trials=8, verbose=0)
    (summary,) = study.warm_start.summaries
    assert summary.trials == 30 and summary.dropped == ["dropout"] and summary.added == ["width"]
    assert summary.used == ["act", "x"] and summary.out_of_range > 0
    for t in study.trials:
        assert 0.5 <= t.values["x"] <= 1.0 and t.values["act"] in ("relu", "gelu") and 1 <= t.values["width"] <= 8


def test_sources_are_stored_and_reopened_by_folder_and_by_url(tmp_path):
    source = _source(tmp_path, "src", _shifted(0.0))
    url = f"sqlite:///{tmp_path / 'src' / 'study.db'}"
    a = hk.create_study(str(tmp_path), "a", algorithm="tpe", seed=0, warm_start=[str(tmp_path / "src")])
    b = hk.create_study(str(tmp_path), "b", algorithm="tpe", seed=0, warm_start=[(url, "src")])
    for study in (a, b):
        study.optimize(_shifted(0.0), n_trials=2, verbose=0)
        reopened = hk.load_study(str(tmp_path), study.name)
        reopened.optimize(_shifted(0.0), n_trials=1, verbose=0)  # a resumed study draws on them again
        assert reopened.warm_start is not None and reopened.warm_start.summaries[0].trials == len(source.trials)
    with pytest.raises(ValueError, match="not a project folder"):
        hk.create_study(str(tmp_path), "c", warm_start=[str(tmp_path / "nowhere")])


def test_every_tuner_takes_warm_start(tmp_path):
    from hyperknob.tuners import RandomSearch

    source = _source(tmp_path, "src", _shifted(0.0))

    class Tuner(RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            return _shifted(0.0)(trial.hyperparameters)

    tuner = Tuner(hypermodel=lambda hp: _shifted(0.0)(hp), objective="val_loss", max_trials=3,
                  directory=str(tmp_path), project_name="k", warm_start=[source])
    tuner.search(verbose=0)
    assert tuner.study.warm_start is not None and len(tuner.study.trials) == 3


def test_the_cli_lists_sources_and_the_summary_says_what_a_study_drew_on(tmp_path, capsys):
    from hyperknob.cli import main

    def old(hp):
        return hp.Float("x", 0.0, 1.0) + hp.Float("dropout", 0.0, 0.5)

    def new(hp):
        return hp.Float("x", 0.0, 1.0) + hp.Int("width", 1, 4)

    _source(tmp_path, "old", old, n=5)
    study = hk.create_study(str(tmp_path), "new", algorithm="tpe", seed=0, warm_start=[str(tmp_path / "old")])
    study.optimize(new, n_trials=3, verbose=0)
    assert main(["sources", str(tmp_path), "--for", str(tmp_path / "new"), "--json"]) == 0
    import json

    (row,) = json.loads(capsys.readouterr().out)
    assert row["trials"] == 5 and row["uses"] == "x" and row["dropped"] == "dropout" and row["new"] == "width"
    assert main(["summary", str(tmp_path / "new"), "--json"]) == 0
    (source,) = json.loads(capsys.readouterr().out)["warm_start"]
    assert source["trials"] == 5 and source["dropped"] == ["dropout"] and 0.0 <= source["weight"] <= 1.0
    assert main(["summary", str(tmp_path / "new")]) == 0
    assert "warm start" in capsys.readouterr().out
