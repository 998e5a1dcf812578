"""The Pareto front of a study as rows, a terminal table and a file: what ``hyperknob pareto``
prints, and what the HTML report and the Pareto plot draw.

Every completed trial with a finite score gets a *front*: 1 for the feasible trials no other
feasible trial beats in every objective (the Pareto front, ``study.best_trials``), 2 for those on
the front once the first is removed, and so on. A trial that misses a constraint has no front: it
is never on one, and is listed after the feasible trials. A study with one objective is ranked the
same way on its score (front 1 is its best trial, or the trials tied for best).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperknob._text import printable
from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.constraints import CONSTRAINTS_ATTR, violation
from hyperknob.objective import MultiObjective, objective_directions
from hyperknob.pareto import minimising, nondominated_ranks
from hyperknob.study.best_trials import objective_values_of

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = ["ARROWS", "FrontRow", "ParetoView", "export_view", "objective_label", "pareto_view", "show_pareto"]

ARROWS = {"max": "↑", "min": "↓"}


def objective_label(name: str, direction: str) -> str:
    """``acc ↑`` for an objective maximised, ``size ↓`` for one minimised."""
    return f"{name} {ARROWS.get(direction, '')}".rstrip()


@dataclasses.dataclass(frozen=True)
class FrontRow:
    """One completed trial: its objective values (in objective order), its front (1 = the Pareto
    front; None when it misses a constraint) and how far it misses the constraints."""

    trial: FrozenTrial
    values: tuple[float, ...]
    front: int | None
    violation: float

    @property
    def feasible(self) -> bool:
        return self.front is not None

    def record(self, objectives: list[tuple[str, str]]) -> dict[str, Any]:
        """The row as JSON data: trial, objectives, params, feasible, front."""
        return {
            "trial": self.trial.number, "trial_id": self.trial.trial_id,
            "objectives": {name: v for (name, _), v in zip(objectives, self.values, strict=True)},
            "params": dict(self.trial.values), "feasible": self.feasible, "front": self.front,
        }


@dataclasses.dataclass(frozen=True)
class ParetoView:
    study_name: str
    pareto: bool  # searched for several objectives (pareto=True); else one number, the score
    objectives: list[tuple[str, str]]  # (name, direction) of each column of FrontRow.values
    rows: list[FrontRow]  # completed trials with a finite score: by front, then the first objective
    total: int  # trials in the study, in any state
    constrained: bool
    note: str = ""  # what a study with one objective is ranked by

    @property
    def front(self) -> list[FrontRow]:
        return [r for r in self.rows if r.front == 1]

    @property
    def infeasible(self) -> list[FrontRow]:
        return [r for r in self.rows if not r.feasible]

    def counts(self) -> str:
        """``30 trials, 8 on the front, 5 infeasible`` (one objective: ``30 trials, 1 best``)."""
        shown = f"{len(self.front)} on the front" if self.pareto else f"{len(self.front)} best"
        parts = [f"{self.total} trials", shown]
        if self.pareto or self.constrained:
            parts.append(f"{len(self.infeasible)} infeasible")
        unscored = self.total - len(self.rows)
        if unscored:
            parts.append(f"{unscored} not completed with a score")
        return ", ".join(parts)


def pareto_view(study: Study) -> ParetoView:
    """The completed trials of ``study`` ranked into fronts (see the module's docstring)."""
    trials = study.get_trials()
    done = [t for t in trials if t.status == TrialStatus.COMPLETED and t.has_finite_score()]
    objectives = objective_directions(study.objective)
    note = ""
    if objectives:
        values = [tuple(objective_values_of(t, study.objective)) for t in done]
    else:
        objectives = [(study.objective.name, study.direction.value)]
        values = [(float(t.score),) for t in done]  # type: ignore[arg-type]
        if isinstance(study.objective, MultiObjective):
            summed = ", ".join(o.name for o in study.objective.objectives)
            note = (f"Study '{study.name}' ranks trials by one number, KerasTuner's sum of {summed} "
                    "(pareto=True was not set): its best trials by that sum.")
        else:
            note = (f"Study '{study.name}' has one objective, {study.objective.name} (pareto=True was not set): "
                    "its best trial(s).")
    directions = [d for _, d in objectives]
    f = minimising(values, directions) if done else np.zeros((0, len(directions)))
    missed = [violation(t.user_attrs.get(CONSTRAINTS_ATTR)) for t in done]
    feasible = np.array([m <= 0 for m in missed], dtype=bool)
    fronts: list[int | None] = [None] * len(done)
    if feasible.any():
        for i, rank in zip(np.flatnonzero(feasible), nondominated_ranks(f[feasible]), strict=True):
            fronts[i] = int(rank) + 1
    rows = [FrontRow(t, tuple(float(v) for v in values[i]), fronts[i], missed[i]) for i, t in enumerate(done)]

    def key(i: int) -> tuple[float, float, float, int]:
        """Feasible by front, then the infeasible by how far they miss; then the first objective."""
        first = float(f[i, 0]) if not math.isnan(f[i, 0]) else math.inf
        front = fronts[i]
        return (0.0 if front is not None else 1.0, missed[i] if front is None else float(front), first,
                done[i].number)

    order = sorted(range(len(done)), key=key)
    return ParetoView(study.name, study.is_pareto, objectives, [rows[i] for i in order], len(trials),
                      study.constrained, note)


# --- files ---------------------------------------------------------------------------------------
def _csv_columns(view: ParetoView, rows: list[FrontRow]) -> tuple[list[str], list[str]]:
    fixed = {"trial", "trial_id", "front", "feasible"}
    names = [n if n not in fixed else f"objective_{n}" for n, _ in view.objectives]
    params: list[str] = []
    for r in rows:
        params += [p for p in r.trial.values if p not in params]
    return names, params


def export_view(view: ParetoView, path: str, include_all: bool = False) -> int:
    """Write the front (with ``include_all``: every completed trial) to ``path``, CSV or JSON by
    its extension: trial, objectives, params, feasible, front. Returns the rows written."""
    rows = view.rows if include_all else view.front
    lower = path.lower()
    if lower.endswith(".json"):
        with open(path, "w", encoding="utf-8") as out:
            json.dump([r.record(view.objectives) for r in rows], out, indent=1, default=str)
            out.write("\n")
        return len(rows)
    if not lower.endswith(".csv"):
        raise ValueError(f"--export writes a .csv or a .json file, received {path!r}.")
    names, params = _csv_columns(view, rows)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["trial", "trial_id", *names, "front", "feasible", *(f"param_{p}" for p in params)])
        for r in rows:
            writer.writerow([r.trial.number, r.trial.trial_id, *r.values, "" if r.front is None else r.front,
                             r.feasible, *(r.trial.values.get(p, "") for p in params)])
    return len(rows)


# --- the terminal --------------------------------------------------------------------------------
def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def compact_params(values: Mapping[str, Any]) -> str:
    """``x=0.3172 units=32``: a trial's hyperparameters on one line."""
    return " ".join(f"{k}={_short(v)}" for k, v in values.items())


def _table(view: ParetoView, rows: list[FrontRow], include_all: bool) -> Any:
    """Every title, header and cell is ``Text`` (never markup) with control characters escaped."""
    from rich.table import Table
    from rich.text import Text

    if view.pareto:
        title = f"{'Fronts' if include_all else 'Pareto front'} of {view.study_name}"
    else:
        title = f"{'Trials' if include_all else 'Best'} of {view.study_name}"
    table = Table(title=Text(printable(title)))
    table.add_column(Text("trial"), justify="right", no_wrap=True)
    if include_all:
        table.add_column(Text("front" if view.pareto else "rank"), justify="right")
    for name, direction in view.objectives:
        table.add_column(Text(printable(objective_label(name, direction))), justify="right", overflow="fold")
    table.add_column(Text("parameters"), overflow="fold", ratio=1)
    for r in rows:
        cells = [str(r.trial.number)]
        if include_all:
            cells.append(str(r.front) if r.front is not None else "infeasible")
        cells += [f"{v:.6g}" for v in r.values]
        cells.append(compact_params(r.trial.values))
        table.add_row(*(Text(printable(c), style="dim" if not r.feasible else "") for c in cells))
    return table


def show_pareto(study: Study, include_all: bool = False, export: str | None = None, as_json: bool = False) -> int:
    """``hyperknob pareto``: the front (or every completed trial by front) as a table, JSON or a file."""
    view = pareto_view(study)
    rows = view.rows if include_all else view.front
    if export and not export.lower().endswith((".csv", ".json")):
        raise SystemExit(f"hyperknob: --export writes a .csv or a .json file, received {printable(export)!r}.")
    if as_json:
        data = {"study": view.study_name, "pareto": view.pareto,
                "objectives": [{"name": n, "direction": d} for n, d in view.objectives],
                "trials": view.total, "on_front": len(view.front), "infeasible": len(view.infeasible),
                "note": view.note, "rows": [r.record(view.objectives) for r in rows]}
        print(json.dumps(data, indent=1, default=str))
    else:
        from rich.console import Console
        from rich.text import Text

        console = Console()
        if view.note:
            console.print(Text(printable(view.note)))
        console.print(_table(view, rows, include_all))
        console.print(Text(printable(view.counts())))
    if export:
        written = export_view(view, export, include_all)
        if not as_json:
            print(printable(f"{written} trials written to {export}"))
    return 0


def summary_rows(study: Study) -> list[tuple[str, str]]:
    """``hyperknob summary`` for a Pareto study: the front's size and its first trials' objectives
    (instead of the best score, which is KerasTuner's sum there)."""
    view = pareto_view(study)
    out = [("objectives", ", ".join(objective_label(n, d) for n, d in view.objectives)),
           ("front", view.counts())]
    front = view.front
    for r in front[:5]:
        shown = " ".join(f"{n}={v:.6g}" for (n, _), v in zip(view.objectives, r.values, strict=True))
        out.append((f"  trial {r.trial.number}", shown))
    if len(front) > 5:
        out.append(("  ...", f"{len(front) - 5} more: hyperknob pareto {study.name}"))
    return out


def objective_cells(study: Study) -> tuple[list[str], dict[int, dict[str, float]]]:
    """For a table of trials of a Pareto study: the objective columns' headers (``acc ↑``) and each
    completed trial's values, by trial number (other trials have none)."""
    objectives = objective_directions(study.objective)
    if not objectives:
        return [], {}
    labels = [objective_label(n, d) for n, d in objectives]
    cells = {}
    for t in study.get_trials((TrialStatus.COMPLETED,)):
        values = objective_values_of(t, study.objective)
        cells[t.number] = dict(zip(labels, values, strict=True))
    return labels, cells
