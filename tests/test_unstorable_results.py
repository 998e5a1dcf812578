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
