"""A study's charts as Plotly figure specs: plain JSON-able dicts (``{"data": [...], "layout": {...}}``).

plotly.js draws them in the dashboard and in the HTML report; building them needs no plotly
import, so the specs are cheap to make, to test and to send as JSON. Every string that comes from
storage (parameter names, choice values, study names) is data: plotly.js reads a few HTML-like tags
in its text (``<b>``, ``<a href>``, ``<br>``), so such strings pass through ``plot_text`` first,
which writes ``<``, ``>`` and ``&`` as entities that plotly shows as those characters.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hyperknob._text import printable
from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.report.tables import best_so_far, format_seconds, scored_trials

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = [
    "history_figure",
    "importance_figure",
    "learning_curves_figure",
    "parallel_figure",
    "pareto_figure",
    "plot_text",
    "study_charts",
]

MAX_LINES = 2000  # trials drawn in the parallel-coordinates chart (the best tenth always among them)
MAX_AXES = 30  # parameters shown as axes
MAX_CURVES = 50  # learning curves drawn when none are chosen
_BASE_LAYOUT: dict[str, Any] = {
    "margin": {"l": 60, "r": 30, "t": 40, "b": 50}, "hovermode": "closest", "template": None,
    "paper_bgcolor": "white", "plot_bgcolor": "#fafafa", "font": {"size": 12},
}


def plot_text(value: Any) -> str:
    """Stored text for plotly.js: control characters escaped, markup shown as characters."""
    return html.escape(printable(value), quote=False)


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {**_BASE_LAYOUT, "title": {"text": plot_text(title), "font": {"size": 14}}, **extra}


def _axis(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": plot_text(title)}, "automargin": True, **extra}


def _objective_title(study: Study) -> str:
    arrow = "↑" if study.direction.value == "max" else "↓"
    return f"{study.objective.name} {arrow}"


# --- history -----------------------------------------------------------------------------------
def history_figure(study: Study, over: str = "trials") -> dict[str, Any]:
    """Each completed trial's score and the best so far, against the trial number or (``over=
    "time"``) the seconds since the search started: is the search still improving?"""
    if over not in ("trials", "time"):
        raise ValueError(f"over must be 'trials' or 'time', received {over!r}.")
    trials = sorted(scored_trials(study), key=lambda t: (t.datetime_complete or 0.0) if over == "time" else t.number)
    if over == "time":
        start = min((t.datetime_start for t in study.get_trials() if t.datetime_start is not None), default=0.0)
        xs: list[float] = [float((t.datetime_complete or start) - start) for t in trials]
        x_title = "seconds since the search started"
    else:
        xs = [float(t.number) for t in trials]
        x_title = "trial number"
    scores = [float(t.score) for t in trials]  # type: ignore[arg-type]
    hover = [f"trial {t.number}<br>{plot_text(study.objective.name)} = {s:.6g}<br>{format_seconds(t.duration)}"
             for t, s in zip(trials, scores, strict=True)]
    data = [
        {"type": "scatter", "mode": "markers", "name": "trial", "x": xs, "y": scores, "text": hover,
         "hovertemplate": "%{text}<extra></extra>", "marker": {"size": 7, "opacity": 0.6, "color": "#1f77b4"},
         "customdata": [t.number for t in trials]},
        {"type": "scatter", "mode": "lines", "name": "best so far", "x": xs,
         "y": best_so_far(scores, study.direction.value == "max"), "line": {"shape": "hv", "color": "#d62728"},
         "hoverinfo": "skip"},
    ]
    title = "Best so far over trials" if over == "trials" else "Best so far over time"
    return {"data": data, "layout": _layout(title, xaxis=_axis(x_title), yaxis=_axis(_objective_title(study)),
                                            legend={"orientation": "h", "y": -0.25})}


# --- parallel coordinates ------------------------------------------------------------------------
def _sample(trials: list[FrozenTrial], maximise: bool) -> list[FrozenTrial]:
    if len(trials) <= MAX_LINES:
        return trials
    import numpy as np

    ranked = sorted(trials, key=lambda t: (-t.score if maximise else t.score, t.number))  # type: ignore[operator]
    top, rest = ranked[: MAX_LINES // 10], ranked[MAX_LINES // 10:]
    picked = np.random.default_rng(0).choice(len(rest), size=MAX_LINES - len(top), replace=False)
    return sorted([*top, *(rest[int(i)] for i in picked)], key=lambda t: t.number)


def _log_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Readable ticks of a log axis (values are log10): powers of ten, with 2 and 5 between them
    when the range spans fewer than three decades."""
    first, last = math.floor(low), math.ceil(high)
    multipliers = (1, 2, 5) if last - first < 3 else (1,)
    vals, text = [], []
    for exponent in range(first, last + 1):
        for m in multipliers:
            v = math.log10(m) + exponent
            if low - 1e-9 <= v <= high + 1e-9:
                vals.append(v)
                text.append(f"{m * 10.0 ** exponent:g}")
    if len(vals) < 2:  # a narrow range: its ends
        vals, text = [low, high], [f"{10 ** low:.3g}", f"{10 ** high:.3g}"]
    return vals, text


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))


def _dimension(hp: Any, name: str, values: list[Any]) -> dict[str, Any]:
    """One axis in the parameter's own units: linear numbers as they are, a log-sampled one as
    log10 with ticks written as the values, choices by position with their names as tick text.
    Inactive trials (a conditional parameter) sit on an extra tick below the others."""
    kind = getattr(hp, "kind", None)
    numeric = kind in ("Int", "Float") or (
        hp is None and bool(values) and all(_is_number(v) for v in values if v is not None))
    label = plot_text(name)
    inactive = any(v is None for v in values)
    if numeric:
        log = getattr(hp, "sampling", "linear") == "log"
        present = [float(v) for v in values if _is_number(v) and (not log or float(v) > 0)]
        pool = ([float(hp.min_value), float(hp.max_value)] if hp is not None else []) + present or [1.0, 10.0]
        low, high = min(pool), max(pool)
        dim: dict[str, Any] = {"label": label}
        shown = (lambda v: math.log10(v)) if log else (lambda v: v)
        low_s, high_s = shown(low), shown(high)
        span = (high_s - low_s) or 1.0
        sentinel = low_s - 0.12 * span
        column = [shown(float(v)) if _is_number(v) and (not log or float(v) > 0) else sentinel for v in values]
        if log:
            dim["tickvals"], dim["ticktext"] = _log_ticks(low_s, high_s)
        if inactive:
            if "tickvals" not in dim:
                vals = [low_s + span * i / 4 for i in range(5)]
                dim["tickvals"], dim["ticktext"] = vals, [f"{v:.4g}" for v in vals]
            dim["tickvals"] = [sentinel, *dim["tickvals"]]
            dim["ticktext"] = ["(inactive)", *dim["ticktext"]]
        dim["range"] = [sentinel if inactive else low_s, high_s]
        dim["values"] = column
        return dim
    choices: list[Any] = list(getattr(hp, "values", ()) or ())
    if kind == "Boolean":
        choices = [False, True]
    elif kind == "Fixed":
        choices = [hp.value]
    for v in values:
        if v is not None and v not in choices:
            choices.append(v)
    offset = 1 if inactive else 0
    index = {repr(c): i + offset for i, c in enumerate(choices)}
    column = [0 if v is None else index[repr(v)] for v in values]
    text = [plot_text(c) for c in choices]
    ticks = list(range(offset, len(choices) + offset))
    if inactive:
        ticks, text = [0, *ticks], ["(inactive)", *text]
    return {"label": label, "values": column, "tickvals": ticks, "ticktext": text,
            "range": [0, max(len(ticks) - 1, 1)]}


def _objective_columns(study: Study, trials: list[FrozenTrial]) -> list[tuple[str, list[float]]]:
    """The last axes: each objective of a Pareto search, or the score."""
    from hyperknob.objective import objective_directions
    from hyperknob.study.best_trials import objective_values_of

    objectives = objective_directions(study.objective) if study.is_pareto else []
    if objectives:
        rows = [tuple(objective_values_of(t, study.objective)) for t in trials]
        return [(f"{n} {'↑' if d == 'max' else '↓'}", [float(r[i]) for r in rows])
                for i, (n, d) in enumerate(objectives)]
    return [(_objective_title(study), [float(t.score) for t in trials])]  # type: ignore[arg-type]


def parallel_figure(study: Study) -> dict[str, Any]:
    """Every completed trial as a line across its hyperparameters, in their own units, and the
    score (last), coloured by score: which values do the good trials share? ``figure["trials"]``
    lists each line's trial number, for filtering a table by the axes' brushed ranges."""
    maximise = study.direction.value == "max"
    scored = scored_trials(study)
    trials = _sample(scored, maximise)
    space = {hp.name: hp for hp in study.space}
    names = list(space)
    for t in trials:
        names += [n for n in t.values if n not in space and n not in names]
    shown_names = names[:MAX_AXES]
    dims = [_dimension(space.get(n), n, [t.values.get(n) for t in trials]) for n in shown_names]
    objectives = _objective_columns(study, trials)
    for label, column in objectives:
        finite = [v for v in column if math.isfinite(v)]
        low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
        dims.append({"label": plot_text(label), "values": [v if math.isfinite(v) else low for v in column],
                     "range": [low, high if high > low else low + 1.0]})
    score = objectives[0][1]
    notes = []
    if len(trials) < len(scored):
        notes.append(f"{len(trials)} of {len(scored)} trials")
    if len(shown_names) < len(names):
        notes.append(f"first {len(shown_names)} of {len(names)} parameters")
    title = "Parameters against the score" + (f" ({'; '.join(notes)})" if notes else "")
    line = {"color": score, "colorscale": "Viridis", "reversescale": not maximise, "showscale": True,
            "colorbar": {"title": {"text": plot_text(objectives[0][0])}, "thickness": 12}}
    return {"data": [{"type": "parcoords", "dimensions": dims, "line": line, "labelangle": -20,
                      "labelside": "top"}],
            "layout": _layout(title, margin={"l": 70, "r": 40, "t": 110, "b": 30}),
            "trials": [t.number for t in trials]}


# --- learning curves ------------------------------------------------------------------------------
def learning_curves_figure(study: Study, numbers: Sequence[int] | None = None,
                           metric: str | None = None) -> dict[str, Any]:
    """The per-step values of the chosen trials (by default the first ``MAX_CURVES`` with any),
    overlaid: pruned (STOPPED) trials dashed, the best trial thick."""
    name = metric or study.objective.name
    wanted = None if numbers is None else set(numbers)
    best = study.get_best_trials(1)
    best_number = best[0].number if best else None
    data = []
    for trial in study.get_trials():
        if wanted is not None and trial.number not in wanted:
            continue
        points = trial.metrics.get(name, ())
        if not points:
            continue
        is_best = trial.number == best_number
        line: dict[str, Any] = {"width": 3 if is_best else 1.5, "dash": "dash" if trial.status == TrialStatus.STOPPED
                                else "solid"}
        if is_best:
            line["color"] = "#d62728"
        data.append({"type": "scatter", "mode": "lines+markers", "name": f"trial {trial.number}" + (" (best)" if is_best
                     else ""), "x": [p.step for p in points], "y": [p.value for p in points], "line": line,
                     "marker": {"size": 4}, "opacity": 1.0 if is_best else 0.75,
                     "hovertemplate": f"trial {trial.number}<br>step %{{x}}<br>%{{y:.6g}}<extra></extra>"})
        if wanted is None and len(data) >= MAX_CURVES:
            break
    title = f"Learning curves ({name})" if data else "Learning curves: no steps reported"
    return {"data": data, "layout": _layout(title, xaxis=_axis("step (epoch)"), yaxis=_axis(name),
                                            showlegend=len(data) <= 12)}


# --- importance ----------------------------------------------------------------------------------
def _importances(study: Study) -> tuple[list[tuple[str, float, float | None, float | None]], str]:
    """(name, share, low, high) largest first and the method's name: fANOVA with intervals
    (``report.importance``) where this hyperknob has it, else the random forest's shares."""
    try:
        from hyperknob import report

        importance = getattr(report, "importance", None)
        if importance is not None and not callable(importance):
            importance = getattr(importance, "importance", None)
        if callable(importance):
            found = importance(study)
            rows: list[tuple[str, float, float | None, float | None]] = [
                (str(e.name), float(e.value), float(e.low), float(e.high)) for e in found.main]
            return rows, f"{getattr(found, 'method', 'fANOVA')}, 90% intervals"
    except (ImportError, ValueError, AttributeError, TypeError):
        pass  # not there yet, or too few trials for it: the forest below
    from hyperknob.report.plots import param_importances

    shares = param_importances(study)
    return [(n, v, None, None) for n, v in shares.items()], "random forest"


def importance_figure(study: Study) -> dict[str, Any]:
    """Each hyperparameter's share of the score's variation, largest on top, with its interval
    where the method gives one. Raises ValueError with too few trials, ModuleNotFoundError
    without scikit-learn."""
    rows, method = _importances(study)
    rows = rows[:MAX_AXES][::-1]
    bar: dict[str, Any] = {"type": "bar", "orientation": "h", "x": [r[1] for r in rows],
                           "y": [plot_text(r[0]) for r in rows], "marker": {"color": "#1f77b4"},
                           "hovertemplate": "%{y}: %{x:.3f}<extra></extra>"}
    if any(r[2] is not None for r in rows):
        bar["error_x"] = {"type": "data", "symmetric": False,
                          "array": [max((r[3] or r[1]) - r[1], 0.0) for r in rows],
                          "arrayminus": [max(r[1] - (r[2] if r[2] is not None else r[1]), 0.0) for r in rows]}
    height = max(260, 60 + 28 * len(rows))
    return {"data": [bar], "layout": _layout(f"Hyperparameter importance ({method})", height=height,
                                             xaxis=_axis("share of the score's variation", rangemode="tozero"),
                                             yaxis={"automargin": True})}


# --- the Pareto front ----------------------------------------------------------------------------
def pareto_figure(study: Study) -> dict[str, Any]:
    """A Pareto search's completed trials against its objectives, the front in red, trials that
    miss a constraint grey crosses; three objectives or more: parallel coordinates of the
    objectives, the front's lines coloured. Raises ValueError for a study with one objective."""
    from hyperknob.report.pareto_view import objective_label, pareto_view

    view = pareto_view(study)
    if not view.pareto:
        raise ValueError(f"Study '{study.name}' has one objective: a Pareto chart needs pareto=True.")
    labels = [plot_text(objective_label(n, d)) for n, d in view.objectives]
    title = f"Pareto front: {view.counts()}"
    if len(view.objectives) == 2:
        groups = [("dominated", [r for r in view.rows if r.feasible and r.front != 1],
                   {"color": "#1f77b4", "size": 7, "opacity": 0.5}),
                  ("infeasible", view.infeasible, {"color": "grey", "symbol": "x", "size": 8}),
                  ("Pareto front", view.front, {"color": "#d62728", "size": 11, "line": {"width": 1,
                                                                                        "color": "black"}})]
        data = []
        for name, rows, marker in groups:
            if not rows:
                continue
            rows = sorted(rows, key=lambda r: r.values[0])
            data.append({"type": "scatter", "mode": "lines+markers" if name == "Pareto front" else "markers",
                         "name": name, "x": [r.values[0] for r in rows], "y": [r.values[1] for r in rows],
                         "marker": marker, "line": {"shape": "hv", "color": "#d62728"},
                         "customdata": [r.trial.number for r in rows],
                         "hovertemplate": f"trial %{{customdata}}<br>{labels[0]} %{{x:.6g}}<br>{labels[1]} %{{y:.6g}}"
                                          "<extra></extra>"})
        return {"data": data, "layout": _layout(title, xaxis=_axis(labels[0]), yaxis=_axis(labels[1]))}
    dims = [{"label": label, "values": [r.values[i] for r in view.rows]} for i, label in enumerate(labels)]
    colour = [2 if r.front == 1 else (0 if not r.feasible else 1) for r in view.rows]
    line = {"color": colour, "cmin": 0, "cmax": 2, "colorscale": [[0, "#bbbbbb"], [0.5, "#9ecae1"], [1, "#d62728"]]}
    return {"data": [{"type": "parcoords", "dimensions": dims, "line": line}],
            "layout": _layout(title + " (red: the front)", margin={"l": 70, "r": 40, "t": 90, "b": 30}),
            "trials": [r.trial.number for r in view.rows]}


# --- all of them ---------------------------------------------------------------------------------
def study_charts(study: Study) -> dict[str, dict[str, Any] | None]:
    """Every chart that applies to ``study`` by name (None where one does not: no completed trial,
    too few for importance, one objective for the Pareto chart)."""
    makers = {
        "history": lambda: history_figure(study),
        "history_time": lambda: history_figure(study, over="time"),
        "parallel": lambda: parallel_figure(study),
        "curves": lambda: learning_curves_figure(study),
        "importance": lambda: importance_figure(study),
        "pareto": lambda: pareto_figure(study),
    }
    out: dict[str, dict[str, Any] | None] = {}
    scored = bool(scored_trials(study))
    for name, make in makers.items():
        if not scored and name != "curves":
            out[name] = None
            continue
        try:
            out[name] = make()
        except (ValueError, ModuleNotFoundError):
            out[name] = None
    return out
