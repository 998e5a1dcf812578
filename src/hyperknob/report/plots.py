"""Plots of a study (matplotlib, ``pip install 'hyperknob[plots]'``); each returns a Figure.

They read the study's trials only, so they work while a search runs and from any storage. The
objective is plotted as the study optimises it (``val_accuracy`` upwards, a loss downwards).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperknob._types import FrozenTrial, TrialStatus

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = [
    "param_importances",
    "plot_learning_curves",
    "plot_optimization_history",
    "plot_parallel_coordinates",
    "plot_param_importances",
    "plot_rungs",
]


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError("hyperknob's plots need matplotlib: pip install 'hyperknob[plots]'.") from exc
    return plt


def _scored(study: Study) -> list[FrozenTrial]:
    return [t for t in study.get_trials() if t.status == TrialStatus.COMPLETED and t.has_finite_score()]


def _best_so_far(values: Sequence[float], maximise: bool) -> list[float]:
    out: list[float] = []
    for v in values:
        out.append(v if not out else (max(out[-1], v) if maximise else min(out[-1], v)))
    return out


def plot_optimization_history(study: Study, over: str = "trials") -> Any:
    """Each completed trial's score and the best so far, against the trial number or (``over=
    "time"``) the seconds since the search started."""
    plt = _pyplot()
    trials = sorted(_scored(study), key=lambda t: (t.datetime_complete or 0.0) if over == "time" else t.number)
    maximise = study.direction.value == "max"
    fig, ax = plt.subplots(figsize=(7, 4))
    if trials:
        if over == "time":
            start = min(t.datetime_start or 0.0 for t in study.get_trials())
            xs = [float((t.datetime_complete or start) - start) for t in trials]
            ax.set_xlabel("seconds since the search started")
        elif over == "trials":
            xs = [t.number for t in trials]
            ax.set_xlabel("trial number")
        else:
            raise ValueError(f"over must be 'trials' or 'time', received {over!r}.")
        scores = [float(t.score) for t in trials]  # type: ignore[arg-type]
        # Thousands of points are drawn as one picture inside the SVG, not one element each.
        ax.scatter(xs, scores, s=14, alpha=0.6, label="trial", rasterized=len(xs) > 1000)
        ax.step(xs, _best_so_far(scores, maximise), where="post", color="C3", label="best so far")
        ax.legend()
    ax.set_ylabel(study.objective.name)
    ax.set_title(f"{study.name}: optimisation history")
    fig.tight_layout()
    return fig


def plot_learning_curves(study: Study, metric: str | None = None, max_trials: int = 200) -> Any:
    """The per-step reports of each trial: pruned (STOPPED) trials dashed, a trial that continues
    another drawn from where its parent stopped, the best trial thick."""
    plt = _pyplot()
    name = metric or study.objective.name
    fig, ax = plt.subplots(figsize=(7, 4))
    best = study.get_best_trials(1)
    best_number = best[0].number if best else None
    for trial in study.get_trials()[:max_trials]:
        points = trial.metrics.get(name, ())
        if not points:
            continue
        style = {"linestyle": "--" if trial.status == TrialStatus.STOPPED else "-", "alpha": 0.5, "linewidth": 1}
        if trial.number == best_number:
            style.update(alpha=1.0, linewidth=2.5, color="C3")
        ax.plot([p.step for p in points], [p.value for p in points], label=f"trial {trial.trial_id}", **style)
    ax.set_xlabel("step (epoch)")
    ax.set_ylabel(name)
    ax.set_title(f"{study.name}: learning curves")
    fig.tight_layout()
    return fig


def _numeric_matrix(study: Study, trials: Sequence[FrozenTrial]) -> tuple[list[str], np.ndarray]:
    """Each hyperparameter as a number in [0, 1] (its unit-cube position; categories by index)."""
    names, columns = [], []
    for hp in study.space:
        column = []
        for t in trials:
            value = t.values.get(hp.name)
            if value is None:
                column.append(np.nan)
                continue
            try:
                column.append(float(hp.to_unit(value)))
            except Exception:  # noqa: BLE001 - a value outside the current definition
                column.append(np.nan)
        names.append(hp.name)
        columns.append(column)
    return names, np.array(columns, dtype=float).T if columns else np.empty((len(trials), 0))


# A report must stay quick at any study size (issue #22: under 5 s for 10,000 trials or 1,000
# parameters), so the models and pictures below draw on a seeded sample of a long study and show the
# first parameters of a very wide one, and say so.
MAX_MODELLED_TRIALS = 2000  # trials the importance forest is fitted to
MAX_PERMUTED_PARAMETERS = 30  # past this, the forest's impurity importance (permuting each is too slow)
MAX_DRAWN_TRIALS = 2000  # lines in the parallel-coordinates plot
MAX_DRAWN_PARAMETERS = 30  # axes of the parallel-coordinates plot, bars of the importance plot


def _sample(trials: list[FrozenTrial], limit: int, seed: int, maximise: bool) -> list[FrozenTrial]:
    """At most ``limit`` trials: the best tenth of them always, the rest a seeded sample, in trial order."""
    if len(trials) <= limit:
        return trials
    ranked = sorted(trials, key=lambda t: (-t.score if maximise else t.score, t.number))  # type: ignore[operator]
    top, rest = ranked[: limit // 10], ranked[limit // 10 :]
    picked = np.random.default_rng(seed).choice(len(rest), size=limit - len(top), replace=False)
    return sorted([*top, *(rest[i] for i in picked)], key=lambda t: t.number)


def param_importances(study: Study, seed: int = 0) -> dict[str, float]:
    """How much each hyperparameter explains the score: permutation importance of a random forest
    fitted to the completed trials (scikit-learn), normalised to sum to 1. A long study is modelled
    from ``MAX_MODELLED_TRIALS`` of its trials; a space of more than ``MAX_PERMUTED_PARAMETERS``
    uses the forest's impurity importance instead of permuting each parameter."""
    try:
        from sklearn.ensemble import RandomForestRegressor
        from sklearn.inspection import permutation_importance
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError("Parameter importance needs scikit-learn: pip install 'hyperknob[sklearn]'.") from exc
    trials = _sample(_scored(study), MAX_MODELLED_TRIALS, seed, study.direction.value == "max")
    names, x = _numeric_matrix(study, trials)
    if len(trials) < 4 or not names:
        raise ValueError(
            f"Parameter importance needs at least 4 completed trials and a space; study has {len(trials)}."
        )
    x = np.where(np.isnan(x), -1.0, x)  # inactive: a value of its own
    y = np.array([float(t.score) for t in trials])  # type: ignore[arg-type]
    forest = RandomForestRegressor(n_estimators=100, min_samples_leaf=2, random_state=seed).fit(x, y)
    if len(names) > MAX_PERMUTED_PARAMETERS:
        raw = np.asarray(forest.feature_importances_, dtype=float)
    else:
        result = permutation_importance(forest, x, y, n_repeats=5, random_state=seed)
        raw = np.clip(result.importances_mean, 0.0, None)
    total = float(raw.sum())
    shares = raw / total if total > 0 else np.full(len(names), 1.0 / len(names))
    return dict(sorted(zip(names, map(float, shares), strict=True), key=lambda kv: -kv[1]))


def plot_param_importances(study: Study, seed: int = 0) -> Any:
    plt = _pyplot()
    importances = param_importances(study, seed)
    names = list(importances)[:MAX_DRAWN_PARAMETERS][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.4 * len(names)))
    ax.barh(names, [importances[n] for n in names], color="C0")
    ax.set_xlabel("share of the score's variation explained")
    more = len(importances) - len(names)
    ax.set_title(f"{study.name}: hyperparameter importance" + (f" (top {len(names)}; {more} more)" if more else ""))
    fig.tight_layout()
    return fig


def plot_parallel_coordinates(study: Study) -> Any:
    """Every completed trial as a line across its hyperparameters (unit scale) and its score,
    coloured by score."""
    from matplotlib.collections import LineCollection

    plt = _pyplot()
    scored = _scored(study)
    trials = _sample(scored, MAX_DRAWN_TRIALS, 0, study.direction.value == "max")
    names, x = _numeric_matrix(study, trials)
    names, x = names[:MAX_DRAWN_PARAMETERS], x[:, :MAX_DRAWN_PARAMETERS]
    fig, ax = plt.subplots(figsize=(max(6, 1.5 * (len(names) + 1)), 4))
    if trials:
        scores = np.array([float(t.score) for t in trials])  # type: ignore[arg-type]
        span = float(scores.max() - scores.min()) or 1.0
        scaled = (scores - scores.min()) / span
        cmap = plt.get_cmap("viridis" if study.direction.value == "max" else "viridis_r")
        axes = np.arange(len(names) + 1, dtype=float)
        ys = np.column_stack([x, scaled])
        lines = LineCollection([np.column_stack([axes, y]) for y in ys], colors=cmap(scaled), alpha=0.7, linewidths=1,
                               rasterized=len(ys) > 500)
        ax.add_collection(lines)
        ax.set_xlim(-0.1, axes[-1] + 0.1)
        ax.set_xticks(axes, [*names, study.objective.name])
    ax.set_ylim(-0.05, 1.05)
    shown = []
    if len(trials) < len(scored):
        shown.append(f"{len(trials)} of {len(scored)} trials")
    if len(names) < len(study.space):
        shown.append(f"first {len(names)} of {len(study.space)} parameters")
    extra = f" ({'; '.join(shown)})" if shown else ""
    ax.set_title(f"{study.name}: parameters against {study.objective.name}{extra}")
    fig.tight_layout()
    return fig


def plot_rungs(study: Study) -> Any:
    """Hyperband / ASHA: each trial's score against the epochs it reached, a line from a promoted
    trial's parent to it."""
    plt = _pyplot()
    trials = [t for t in _scored(study) if "tuner/epochs" in t.values]
    if not trials:
        raise ValueError(
            f"Study '{study.name}' has no scheduled trials (tuner/epochs): it did not use Hyperband or ASHA."
        )
    by_id = {t.trial_id: t for t in trials}
    fig, ax = plt.subplots(figsize=(7, 4))
    for t in trials:
        parent = by_id.get(str(t.values.get("tuner/trial_id")))
        if parent is not None:
            ax.plot([parent.values["tuner/epochs"], t.values["tuner/epochs"]], [parent.score, t.score], color="grey",
                    alpha=0.4, linewidth=0.8)
    ax.scatter([t.values["tuner/epochs"] for t in trials], [t.score for t in trials], s=16, c="C0", zorder=3,
               label="trial")
    ax.set_xscale("log")
    ax.set_xlabel("epochs trained (rung)")
    ax.set_ylabel(study.objective.name)
    ax.set_title(f"{study.name}: rungs")
    fig.tight_layout()
    return fig
