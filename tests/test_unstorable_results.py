"""Whatever an objective returns, its trial ends with a status: a value that cannot be stored fails
the trial with the reason, never leaves it RUNNING; what is stored is standard JSON (#22, items 4, 8)."""

from __future__ import annotations

import json
import math
import sqlite3

import pytest

import hyperknob as hk


@pytest.mark.parametrize("result", [10**400, {"loss": 10**400}, {"loss": 1.0, "aux": 10**400}])
def test_a_result_too_large_for_a_float_fails_its_trial_with_the_reason(tmp_path, result):
    study = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0, objective="loss",
                            max_consecutive_failed_trials=None)

    def objective(hp):
        hp.Float("x", 0.0, 1.0)
        return result

    study.optimize(objective, n_trials=2, verbose=0)
    assert [t.status for t in study.trials] == [hk.TrialStatus.FAILED] * 2
    assert all("too large" in t.message for t in study.trials)


def test_stored_json_is_standard_and_a_huge_message_is_truncated_saying_so(tmp_path):
    study = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0)
    trial = study.ask()
    trial.hyperparameters.Float("x", 0.0, 1.0)
    trial.user_attrs.update({"nan": math.nan, "inf": math.inf})
    study.tell(trial, 1.0)
    trial = study.ask()
    study.tell(trial, status="FAILED", message="x" * 5_000_000)
    rows = sqlite3.connect(tmp_path / "p" / "study.db").execute(
        "SELECT user_attrs, message FROM hyperknob_trials ORDER BY number").fetchall()
    for attrs, _ in rows:
        json.loads(attrs or "{}", parse_constant=lambda token: pytest.fail(f"non-standard JSON token {token}"))
    stored = study.trials[1].message
    assert len(stored) < 100_000 and "truncated" in stored
    assert study.trials[0].user_attrs == {"nan": None, "inf": None}  # JSON has no NaN: stored as null


def test_oversized_user_attrs_leave_largest_first_and_the_trial_still_completes(tmp_path):
    from hyperknob.study.trial_limits import MAX_USER_ATTRS_BYTES

    study = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0)
    trial = study.ask()
    trial.hyperparameters.Float("x", 0.0, 1.0)
    trial.user_attrs.update({"dataset": [0.5] * MAX_USER_ATTRS_BYTES, "note": "kept", "n": 3})
    study.tell(trial, 1.0)
    stored = hk.load_study(str(tmp_path), "p").trials[0]
    assert stored.status == hk.TrialStatus.COMPLETED and stored.score == 1.0
    assert stored.user_attrs == {"note": "kept", "n": 3}
    assert "'dataset'" in stored.message and "not stored" in stored.message


def test_a_metric_logged_past_the_step_limit_is_thinned_keeping_first_last_and_best(tmp_path):
    from hyperknob.study.trial_limits import MAX_POINTS_PER_METRIC

    study = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0, objective="loss")
    trial = study.ask()
    trial.hyperparameters.Float("x", 0.0, 1.0)
    steps = 3 * MAX_POINTS_PER_METRIC + 7
    best = 12_345  # not on the evenly spaced grid
    for step in range(steps):
        trial.metrics.update("loss", 0.0 if step == best else 1.0 + step, step=step)
    study.tell(trial)
    stored = hk.load_study(str(tmp_path), "p").trials[0]
    points = stored.metrics["loss"]
    assert MAX_POINTS_PER_METRIC <= len(points) <= MAX_POINTS_PER_METRIC + 1
    assert {points[0].step, points[-1].step} == {0, steps - 1}
    assert stored.score == 0.0 and stored.best_step == best
    assert best in {p.step for p in points}
    assert "thinned" in stored.message


def test_metrics_past_the_size_limit_drop_whole_metrics_but_never_the_objective(tmp_path):
    study = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0, objective="loss")

    def objective(hp):
        hp.Float("x", 0.0, 1.0)
        return {"loss": 0.25, **{f"layer_{i}_norm_with_a_long_name": float(i) for i in range(120_000)}}

    study.optimize(objective, n_trials=1, verbose=0)
    stored = hk.load_study(str(tmp_path), "p").trials[0]
    assert stored.status == hk.TrialStatus.COMPLETED and stored.score == 0.25
    assert "loss" in stored.metrics
    assert 0 < len(stored.metrics) < 120_001
    assert "more not stored" in stored.message
    assert (tmp_path / "p" / "study.db").stat().st_size < 20_000_000
