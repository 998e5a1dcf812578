"""How much one trial may store. A study is read whole by every worker and every report, so one
trial holding megabytes (a dataset put in ``user_attrs``, a metric logged every batch for days)
slows every reader and grows the file without bound. Past these limits the trial is still stored,
with what it kept and a note in its message saying what was left out and why."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hyperknob._types import MetricPoint
from hyperknob.storage.base import dumps

__all__ = ["MAX_METRIC_BYTES", "MAX_POINTS_PER_METRIC", "MAX_USER_ATTRS_BYTES", "fit_metrics", "fit_user_attrs"]

MAX_USER_ATTRS_BYTES = 1_000_000  # a trial's user_attrs as JSON
MAX_POINTS_PER_METRIC = 10_000  # steps kept of one metric's history
MAX_METRIC_BYTES = 4_000_000  # all of a trial's metric histories as JSON


def _size(value: Any) -> int:
    return len(dumps(value))


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def fit_user_attrs(attrs: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The user_attrs a trial keeps: the largest entries leave first until the rest fit."""
    kept = dict(attrs)
    total = _size(kept)
    if total <= MAX_USER_ATTRS_BYTES:
        return kept, None
    sizes = {key: _size({key: value}) for key, value in kept.items()}
    dropped: list[str] = []
    for key in sorted(sizes, key=sizes.__getitem__, reverse=True):
        if total <= MAX_USER_ATTRS_BYTES:
            break
        del kept[key]
        total -= sizes[key]
        dropped.append(f"{key!r} ({_megabytes(sizes[key])})")
    if len(dropped) > 5:
        dropped[5:] = [f"{len(dropped) - 5} more"]
    return kept, (
        f"user_attrs {', '.join(dropped)} not stored: a trial's user_attrs may hold at most "
        f"{_megabytes(MAX_USER_ATTRS_BYTES)} (store large data in a file and keep its path in user_attrs)."
    )


def _thinned(points: tuple[MetricPoint, ...], keep: int, step: int | None) -> tuple[MetricPoint, ...]:
    """``keep`` evenly spaced points (the first and the last among them), plus the one at ``step``."""
    if len(points) <= keep:
        return points
    stride = (len(points) - 1) / (keep - 1)
    chosen = {round(i * stride) for i in range(keep)}
    chosen.update(i for i, p in enumerate(points) if p.step == step)
    return tuple(points[i] for i in sorted(chosen))


def fit_metrics(
    metrics: Mapping[str, tuple[MetricPoint, ...]], keep_first: str | None = None, best_step: int | None = None
) -> tuple[dict[str, tuple[MetricPoint, ...]], str | None]:
    """The metric histories a trial keeps. A history longer than ``MAX_POINTS_PER_METRIC`` keeps
    evenly spaced steps (the first and last among them); if all histories together are still
    larger than ``MAX_METRIC_BYTES``, whole metrics leave, largest first, never ``keep_first``
    (the objective's metric, which ranks the trial; its ``best_step`` is always kept)."""
    notes: list[str] = []
    kept: dict[str, tuple[MetricPoint, ...]] = {}
    thinned = []
    for name, points in metrics.items():
        kept[name] = _thinned(points, MAX_POINTS_PER_METRIC, best_step if name == keep_first else None)
        if len(kept[name]) < len(points):
            thinned.append(f"{name!r} ({len(points):,} steps)")
    if thinned:
        notes.append(f"metrics {', '.join(thinned)} thinned to {MAX_POINTS_PER_METRIC:,} evenly spaced steps")

    def as_json(history: Mapping[str, tuple[MetricPoint, ...]]) -> dict[str, list[list[float]]]:
        return {k: [[p.step, p.value] for p in v] for k, v in history.items()}

    total = _size(as_json(kept))
    if total > MAX_METRIC_BYTES:
        sizes = {name: _size(as_json({name: points})) for name, points in kept.items()}
        dropped = []
        for name in sorted(sizes, key=sizes.__getitem__, reverse=True):
            if total <= MAX_METRIC_BYTES:
                break
            if name == keep_first:
                continue
            del kept[name]
            total -= sizes[name]
            dropped.append(name)
        shown = ", ".join(repr(n) for n in dropped[:5]) + (f" and {len(dropped) - 5} more" if len(dropped) > 5 else "")
        notes.append(
            f"metrics {shown} not stored: a trial's metrics may hold at most {_megabytes(MAX_METRIC_BYTES)}"
        )
    if not notes:
        return kept, None
    return kept, "; ".join(notes) + "."
