"""Plots of a study (matplotlib, ``pip install 'hyperknob[plots]'``); each returns a Figure.

They read the study's trials only, so they work while a search runs and from any storage. The
objective is plotted as the study optimises it (``val_accuracy`` upwards, a loss downwards).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperknob._text import printable
from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.report.tables import best_so_far, scored_trials

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = [
    "param_importances",
    "plot_learning_curves",
    "plot_optimization_history",
    "plot_parallel_coordinates",
    "plot_param_importances",
    "plot_pareto_front",
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


def plot_optimization_history(study: Study, over: str = "trials") -> Any:
    """Each completed trial's score and the best so far, against the trial number or (``over=
    "time"``) the seconds since the search started."""
    plt = _pyplot()
    trials = sorted(scored_trials(study), key=lambda t: (t.datetime_complete or 0.0) if over == "time" else t.number)
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
        ax.step(xs, best_so_far(scores, maximise), where="post", color="C3", label="best so far")
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


def _fanova(study: Study, seed: int) -> Any:
    """fANOVA main effects of the study (no pairs: a bar per parameter), with 90% intervals."""
    from hyperknob.report.fanova import fanova_of_forest
    from hyperknob.report.forest import Forest, trial_matrix

    return fanova_of_forest(Forest(trial_matrix(study, seed, MAX_MODELLED_TRIALS), seed), max_paired=0)


def param_importances(study: Study, seed: int = 0) -> dict[str, float]:
    """How much each hyperparameter explains the score: its fANOVA main effect (the share of the
    score's variance it explains alone, over a random forest of the completed trials; scikit-learn),
    scaled to sum to 1, largest first. ``report.importance`` gives the intervals and the pairs. A
    long study is modelled from ``MAX_MODELLED_TRIALS`` of its trials (the best tenth always)."""
    return _fanova(study, seed).as_shares()


def plot_param_importances(study: Study, seed: int = 0) -> Any:
    """The fANOVA main effects as bars, each with its 90% interval (over the forest's trees) as an
    error bar."""
    plt = _pyplot()
    found = _fanova(study, seed)
    shown = found.main[:MAX_DRAWN_PARAMETERS][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.4 * len(shown)))
    values = np.array([e.value for e in shown])
    errors = np.array([[max(e.value - e.low, 0.0) for e in shown], [max(e.high - e.value, 0.0) for e in shown]])
    ax.barh([_text(e.name) for e in shown], values, xerr=errors.reshape(2, -1), color="C0", ecolor="black", capsize=3)
    ax.set_xlabel("share of the score's variance explained alone (fANOVA, 90% interval)")
    more = len(found.main) - len(shown)
    extra = f" (top {len(shown)}; {more} more)" if more else ""
    ax.set_title(_text(f"{study.name}: hyperparameter importance") + extra)
    fig.tight_layout()
    return fig


def plot_parallel_coordinates(study: Study) -> Any:
    """Every completed trial as a line across its hyperparameters (unit scale) and its score,
    coloured by score."""
    from matplotlib.collections import LineCollection

    plt = _pyplot()
    scored = scored_trials(study)
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
    trials = [t for t in scored_trials(study) if "tuner/epochs" in t.values]
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


def _text(value: str) -> str:
    """Stored text as a matplotlib label: control characters as escapes (``printable``), and a ``$``
    a dollar sign, never the start of mathtext."""
    return printable(value).replace("$", r"\$")


def _axis_label(name: str, direction: str) -> str:
    return _text(f"{name} {'↑ (maximised)' if direction == 'max' else '↓ (minimised)'}")


def plot_pareto_front(study: Study) -> Any:
    """A Pareto search's completed trials against its objectives, the front highlighted (the red
    points, labelled "Pareto front"; with two objectives joined by the step line bounding what it
    dominates), trials that miss a constraint grey crosses. Three objectives or more: parallel
    coordinates, each axis scaled from its lowest value (bottom) to its highest (top)."""
    from hyperknob.report.pareto_view import pareto_view

    plt = _pyplot()
    view = pareto_view(study)
    if not view.pareto:
        raise ValueError(
            f"Study '{study.name}' has one objective: a Pareto plot needs pareto=True and a list objective."
        )
    values = np.array([r.values for r in view.rows], dtype=float).reshape(-1, len(view.objectives))
    front = np.array([r.front == 1 for r in view.rows], dtype=bool)
    infeasible = np.array([not r.feasible for r in view.rows], dtype=bool)
    dominated = ~front & ~infeasible
    many = len(values) > 1000  # thousands of points are one picture inside the SVG
    if len(view.objectives) == 2:
        fig, ax = plt.subplots(figsize=(7, 5))
        ax.scatter(values[dominated, 0], values[dominated, 1], s=14, alpha=0.5, color="C0", label="dominated",
                   rasterized=many)
        if infeasible.any():
            ax.scatter(values[infeasible, 0], values[infeasible, 1], s=18, marker="x", color="grey", alpha=0.7,
                       label="infeasible", rasterized=many)
        if front.any():
            ax.plot(*_front_steps(values[front], [d for _, d in view.objectives]), color="C3", linewidth=1.5)
            ax.scatter(values[front, 0], values[front, 1], s=36, color="C3", zorder=3, edgecolors="black",
                       linewidths=0.5, label="Pareto front")
        ax.set_xlabel(_axis_label(*view.objectives[0]))
        ax.set_ylabel(_axis_label(*view.objectives[1]))
        if len(values):
            ax.legend()
    else:
        fig, ax = _pareto_parallel(plt, view.objectives, values, front, infeasible)
    ax.set_title(_text(f"{study.name}: Pareto front ({int(front.sum())} of {len(values)} trials)"))
    fig.tight_layout()
    return fig


def _front_steps(points: np.ndarray, directions: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The staircase bounding what the front dominates: drawn in "lower is better" space (along
    the first objective, each point's second value held until the next point), mapped back."""
    signs = np.array([-1.0 if d == "max" else 1.0 for d in directions])
    f = points * signs
    f = f[np.lexsort((f[:, 1], f[:, 0]))]
    xs, ys = [f[0, 0]], [f[0, 1]]
    for x, y in f[1:]:
        xs += [x, x]
        ys += [ys[-1], y]
    return np.array(xs) * signs[0], np.array(ys) * signs[1]


def _pareto_parallel(plt: Any, objectives: Sequence[tuple[str, str]], values: np.ndarray, front: np.ndarray,
                     infeasible: np.ndarray) -> tuple[Any, Any]:
    """Parallel coordinates of the objectives, each axis from its worst value (bottom) to its best (top)."""
    from matplotlib.collections import LineCollection

    k = len(objectives)
    fig, ax = plt.subplots(figsize=(max(7, 2.0 * k + 1.5), 4.5))
    axes = np.arange(k, dtype=float)
    signs = np.array([-1.0 if d == "max" else 1.0 for _, d in objectives])
    f = values * signs  # lower is better
    best, worst = (f.min(axis=0), f.max(axis=0)) if len(f) else (np.zeros(k), np.ones(k))
    scaled = (worst - f) / np.where(worst > best, worst - best, 1.0)  # 1: the best value seen
    drawn = np.flatnonzero(~front)
    if len(drawn) > MAX_DRAWN_TRIALS:  # the front is always drawn; a seeded sample of the rest
        drawn = np.sort(np.random.default_rng(0).choice(drawn, size=MAX_DRAWN_TRIALS, replace=False))
    styles: list[tuple[np.ndarray, dict[str, Any]]] = [
        (~infeasible, {"colors": "C0", "alpha": 0.25, "linewidths": 0.8, "label": "dominated"}),
        (infeasible, {"colors": "grey", "alpha": 0.4, "linewidths": 0.8, "linestyles": "dashed",
                      "label": "infeasible"}),
    ]
    for mask, style in styles:
        rows = [i for i in drawn if mask[i]]
        if rows:
            ax.add_collection(LineCollection([np.column_stack([axes, scaled[i]]) for i in rows],
                                             rasterized=len(rows) > 500, **style))
    if front.any():
        ax.add_collection(LineCollection([np.column_stack([axes, y]) for y in scaled[front]], colors="C3",
                                         linewidths=2, alpha=0.9, label="Pareto front", zorder=3))
    box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}
    for j in range(k):
        ax.axvline(j, color="black", linewidth=0.6)
        ax.annotate(f"{best[j] * signs[j]:.4g}", (j, 1.03), ha="center", va="bottom", fontsize=8, bbox=box)
        ax.annotate(f"{worst[j] * signs[j]:.4g}", (j, -0.03), ha="center", va="top", fontsize=8, bbox=box)
    ax.set_xlim(-0.3, k - 0.7)
    ax.set_ylim(-0.15, 1.15)
    ax.set_yticks([])
    ax.set_ylabel("better →")
    ax.set_xticks(axes, [_axis_label(n, d) for n, d in objectives])
    if len(values):
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig, ax
