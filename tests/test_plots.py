"""Plots return figures holding the expected series, on studies made by real searches."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib.collections  # noqa: E402
import matplotlib.lines  # noqa: E402

import hyperknob as hk  # noqa: E402
from hyperknob._types import TrialStatus  # noqa: E402
from hyperknob.report import plots  # noqa: E402
from hyperknob.schedulers import HyperbandScheduler  # noqa: E402


@pytest.fixture(scope="module")
def study():
    def objective(hp, trial):
        x = hp.Float("x", 0.0, 1.0)
        y = hp.Float("y", 0.0, 1.0)
        kind = hp.Choice("kind", ["a", "b"])
        for epoch in range(6):
            loss = 10 * (x - 0.3) ** 2 + 0.1 * y + 0.01 * (kind == "b") + 1.0 / (1 + epoch)
            trial.report(epoch, loss)
            if trial.should_prune():
                raise hk.TrialPruned()
        return loss

    s = hk.create_study(storage=":memory:", seed=0, pruner=hk.MedianPruner(n_startup_trials=5, n_warmup_steps=1))
    s.optimize(objective, n_trials=40, verbose=0)
    return s


def test_history_has_every_completed_trial_and_the_best_so_far(study):
    fig = plots.plot_optimization_history(study)
    ax = fig.axes[0]
    completed = [t for t in study.trials if t.status == TrialStatus.COMPLETED]
    points = ax.collections[0].get_offsets()
    assert len(points) == len(completed)
    best_line = ax.lines[0].get_ydata()
    assert list(best_line) == list(np.minimum.accumulate([t.score for t in completed]))
    assert best_line[-1] == study.best_value
    timed = plots.plot_optimization_history(study, over="time").axes[0]
    assert (np.diff(timed.collections[0].get_offsets()[:, 0]) >= 0).all()


def test_learning_curves_show_pruned_trials_dashed(study):
    ax = plots.plot_learning_curves(study).axes[0]
    assert len(ax.lines) == len(study.trials)
    stopped = {f"trial {t.trial_id}" for t in study.trials if t.status == TrialStatus.STOPPED}
    assert stopped
    for line in ax.lines:
        assert (line.get_linestyle() == "--") == (line.get_label() in stopped)
    thick = [line for line in ax.lines if line.get_linewidth() > 2]
    assert [line.get_label() for line in thick] == [f"trial {study.best_trial.trial_id}"]


def test_importance_finds_the_parameter_that_matters(study):
    importances = plots.param_importances(study)
    assert list(importances)[0] == "x" and importances["x"] > 0.5
    assert sum(importances.values()) == pytest.approx(1.0)
    bars = plots.plot_param_importances(study).axes[0].patches
    assert len(bars) == 3


def test_parallel_coordinates_has_a_line_per_completed_trial(study):
    ax = plots.plot_parallel_coordinates(study).axes[0]
    completed = [t for t in study.trials if t.status == TrialStatus.COMPLETED]
    (lines,) = [c for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)]
    assert len(lines.get_segments()) == len(completed)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y", "kind", "default_objective"]


def test_a_long_wide_study_is_drawn_from_a_sample_that_keeps_the_best_and_says_so():
    s = hk.create_study(storage=":memory:", algorithm="random", seed=0)
    s.optimize(lambda hp: sum(hp.Float(f"p{i:02d}", 0, 1) for i in range(40)), n_trials=2300, verbose=0)
    ax = plots.plot_parallel_coordinates(s).axes[0]
    (lines,) = ax.collections
    assert len(lines.get_segments()) == plots.MAX_DRAWN_TRIALS
    assert len(ax.get_xticks()) == plots.MAX_DRAWN_PARAMETERS + 1
    assert "2000 of 2300 trials" in ax.get_title() and "first 30 of 40 parameters" in ax.get_title()
    sample = plots._sample(list(s.trials), 500, 0, maximise=False)
    assert len(sample) == 500 and [t.number for t in sample] == sorted(t.number for t in sample)
    best = sorted(s.trials, key=lambda t: t.score)[:50]
    assert {t.number for t in best} <= {t.number for t in sample}  # the best tenth is always drawn
    importances = plots.param_importances(s)
    assert len(importances) == 40 and abs(sum(importances.values()) - 1) < 1e-9


def test_rungs_of_a_hyperband_study():
    s = hk.create_study(storage=":memory:", algorithm=HyperbandScheduler(max_epochs=9, factor=3), seed=1)
    s.optimize(lambda hp: (hp.Float("x", 0, 1) - 0.3) ** 2 + 1 / hp["tuner/epochs"], verbose=0)
    ax = plots.plot_rungs(s).axes[0]
    epochs = sorted({float(e) for e in ax.collections[0].get_offsets()[:, 0]})
    assert epochs == [1.0, 3.0, 9.0]
    promoted = sum("tuner/trial_id" in t.values for t in s.trials)
    assert len(ax.lines) == promoted > 0
    with pytest.raises(ValueError, match="did not use Hyperband or ASHA"):
        plots.plot_rungs(hk.optimize(lambda hp: hp.Float("x", 0, 1), n_trials=2, storage=":memory:", verbose=0))
