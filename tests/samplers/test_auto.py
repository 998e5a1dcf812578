"""``algorithm="auto"``: GP for small unconditional spaces and short studies, TPE otherwise (#20)."""

from __future__ import annotations

import statistics

import hyperknob as hk
from hyperknob.samplers.auto import AutoSampler


def run(objective, algorithm, n_trials, seed=0):
    return hk.optimize(objective, n_trials=n_trials, storage=":memory:", algorithm=algorithm, seed=seed, verbose=0)


def quadratic(hp):
    x, y = hp.Float("x", -5.0, 5.0), hp.Float("y", -5.0, 5.0)
    return (x - 1.3) ** 2 + (y + 0.7) ** 2


def test_small_numeric_space_uses_the_gp_and_says_so():
    study = run(quadratic, "auto", 14)
    assert study.sampler.name == "auto"
    chosen = [t.user_attrs.get("algorithm") for t in study.trials]
    assert set(chosen) == {"gp"}
    assert study.sampler.describe().startswith("auto: gp (2 unconditional parameters")
    from hyperknob.report import study_summary

    assert study_summary(study)["algorithm"] == study.sampler.describe()


def test_conditional_space_uses_tpe():
    def objective(hp):
        kind = hp.Choice("kind", ["a", "b"])
        with hp.conditional_scope("kind", ["b"]):
            shift = hp.Float("shift", 0.0, 1.0) if kind == "b" else 0.0
        return hp.Float("x", -1.0, 1.0) ** 2 + shift

    study = run(objective, "auto", 6)
    assert study.trials[-1].user_attrs["algorithm"] == "tpe"
    assert "conditional parameters (shift)" in study.sampler.describe()


def test_many_parameters_use_tpe():
    def objective(hp):
        return sum(hp.Float(f"x{i}", 0.0, 1.0) for i in range(15))

    study = run(objective, "auto", 3)
    assert study.trials[-1].user_attrs["algorithm"] == "tpe"
    assert "15 parameters, more than 12" in study.sampler.describe()


def test_a_long_study_moves_from_the_gp_to_tpe():
    study = run(quadratic, AutoSampler(gp_max_trials=8), 12)
    chosen = [t.user_attrs["algorithm"] for t in study.trials]
    assert chosen[:8] == ["gp"] * 8 and set(chosen[9:]) == {"tpe"}


def test_auto_is_the_default_of_the_plain_door_and_of_search_cv():
    study = hk.create_study(storage=":memory:")
    assert study.sampler.name == "auto"
    from sklearn.linear_model import Ridge

    assert hk.HyperSearchCV(Ridge(), {"alpha": [0.1, 1.0]}).algorithm == "auto"


def test_auto_beats_random_search_on_a_smooth_function():
    """Fixed seeds: after 25 trials, the median best over 5 seeds is far below random search's."""
    auto = statistics.median(run(quadratic, "auto", 25, seed=s).best_value for s in range(5))
    random = statistics.median(run(quadratic, "random", 25, seed=s).best_value for s in range(5))
    assert auto < random / 10
