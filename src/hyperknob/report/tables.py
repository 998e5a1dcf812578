"""A study's trials as flat rows (one per trial, one column per hyperparameter) and its summary.

Everything here reads the study's trials only, so it works on any storage, while a search runs and
after, in the process that ran it or in another.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.study.warm_start import source_summaries

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = ["BASE_COLUMNS", "best_so_far", "display_cell", "format_seconds", "format_time", "results_dataframe",
           "scored_trials", "study_summary", "trial_rows"]

BASE_COLUMNS = ("number", "trial_id", "status", "score", "best_step", "duration_s", "started", "worker", "message")


def scored_trials(study: Study) -> list[FrozenTrial]:
    """The completed trials with a finite score: the ones a plot or chart of the score can draw."""
    return [t for t in study.get_trials() if t.status == TrialStatus.COMPLETED and t.has_finite_score()]


def best_so_far(values: Sequence[float], maximise: bool) -> list[float]:
    """The running best of ``values`` (the highest so far when ``maximise``, else the lowest)."""
    out: list[float] = []
    for v in values:
        out.append(v if not out else (max(out[-1], v) if maximise else min(out[-1], v)))
    return out


def format_time(timestamp: float | None) -> str:
    """A stored time (seconds since the epoch) as people read it: local date and time."""
    if timestamp is None:
        return ""
    import datetime

    return datetime.datetime.fromtimestamp(float(timestamp)).strftime("%Y-%m-%d %H:%M:%S")


def format_seconds(seconds: float | None) -> str:
    """A duration in the unit that reads best: ``0.41 s``, ``12.3 s``, ``4m 05s``, ``2h 01m``."""
    if seconds is None:
        return ""
    seconds = float(seconds)
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def display_cell(column: str, value: Any) -> str:
    """A ``trial_rows`` cell as a table shows it (the rows themselves keep the stored numbers, for
    CSV, JSON and pandas): times and durations in words, numbers to 6 significant digits, a dict
    of objective values as ``name=value`` pairs."""
    if value is None:
        return ""
    if column == "started":
        return format_time(value)
    if column in ("duration_s", "duration"):
        return format_seconds(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={display_cell('', v)}" for k, v in value.items())
    return str(value)


def _first_line(text: str | None) -> str | None:
    if not text:
        return text
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else None  # a traceback's last line says what went wrong


def trial_rows(
    study: Study,
    statuses: Iterable[TrialStatus | str] | None = None,
    sort: str = "number",
    columns: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """One dict per trial: ``BASE_COLUMNS``, then ``param_<name>`` for every hyperparameter (None
    where inactive). ``sort="score"`` puts the best first (by the objective's direction)."""
    wanted = None if statuses is None else {TrialStatus(str(s).upper()) for s in statuses}
    trials = [t for t in study.get_trials() if wanted is None or t.status in wanted]
    if sort == "score":
        trials.sort(key=lambda t: (study.objective.sort_key(t.score), t.number))
    elif sort != "number":
        raise ValueError(f"sort must be 'number' or 'score', received {sort!r}.")
    names = _parameter_names(study, trials)
    rows = [_row(t, names) for t in trials]
    if columns:
        known = list(rows[0]) if rows else [*BASE_COLUMNS, *(f"param_{n}" for n in names)]
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise ValueError(f"Unknown column(s) {unknown}; the columns are: {', '.join(known)}.")
        rows = [{c: row[c] for c in columns} for row in rows]
    return rows


def _parameter_names(study: Study, trials: Sequence[FrozenTrial]) -> list[str]:
    names = [p.name for p in study.space]
    for t in trials:
        for name in t.values:
            if name not in names:
                names.append(name)  # schedule values (tuner/epochs, ...) and undeclared ones
    return names


def _row(trial: FrozenTrial, names: Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "number": trial.number,
        "trial_id": trial.trial_id,
        "status": trial.status.value,
        "score": trial.score,
        "best_step": trial.best_step,
        "duration_s": trial.duration,
        "started": trial.datetime_start,
        "worker": trial.worker,
        "message": _first_line(trial.message),
    }
    for name in names:
        row[f"param_{name}"] = trial.values.get(name)
    return row


def results_dataframe(study: Study, **kwargs: Any) -> Any:
    """The trials as a pandas DataFrame (``pip install pandas``); same columns as ``trial_rows``."""
    try:
        import pandas as pd
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "results_dataframe() needs pandas: pip install pandas (or use trial_rows())."
        ) from exc
    return pd.DataFrame(trial_rows(study, **kwargs))


def study_summary(study: Study) -> dict[str, Any]:
    """Counts by status, time spent, the best trial so far, the algorithm and budget."""
    trials = study.get_trials()
    counts = Counter(t.status.value for t in trials)
    durations = [t.duration for t in trials if t.duration is not None]
    best = study.get_best_trials(1)
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    ends = [t.datetime_complete for t in trials if t.datetime_complete is not None]
    return {
        "study": study.name,
        "storage": study.storage.display_url,
        "objective": study.objective.get_config(),
        "algorithm": study.sampler.describe(),
        "max_trials": study.settings.max_trials,
        "trials": len(trials),
        "by_status": {s.value: counts.get(s.value, 0) for s in TrialStatus if counts.get(s.value, 0)},
        "trial_time_s": float(sum(durations)),
        "wall_time_s": float(max(ends) - min(starts)) if starts and ends else 0.0,
        "warm_start": [dataclasses.asdict(s) for s in source_summaries(study)],
        "queued": len(study.queued_trials()),
        "best": None if not best else {
            "number": best[0].number, "trial_id": best[0].trial_id, "score": best[0].score,
            "values": dict(best[0].values),
        },
    }
