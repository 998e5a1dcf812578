"""Warm start: what earlier studies teach a new one.

A source (an earlier study: a ``Study``, a project folder, or a storage URL with a study name)
gives its completed trials to the new study's algorithm as ``PriorObservation``s. They are not
trials of the new study: they use none of its budget, are never its best, and are listed apart.

Two things make this safe when the sources differ from the new task:
- **Changed spaces.** A source's values are kept for the parameters the new space has (by name);
  a parameter the new space dropped is left out, one it added is unknown for the source's trials
  (the models treat it as not observed), and a value outside a new range or choice list is kept
  as information the models read but never proposed (they encode it as unknown).
- **Other tasks.** Objective values of another data set or scale are not comparable, so each
  source's trials enter as quantiles of their own study (0 the best). Each source is weighted by
  how well it predicts the new study's results so far: the rank correlation between the new
  trials' scores and the quantiles of their nearest source trials, shrunk towards 0.5 while the
  new study has few results. An unrelated source (correlation near 0) or a misleading one
  (negative) fades out; several sources combine, each with its own weight.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import spearmanr

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.objective import objective_from_config
from hyperknob.samplers.base import PriorObservation
from hyperknob.space.encoding import UnitCubeEncoder
from hyperknob.space.parameters import HyperParameter
from hyperknob.storage import default_sqlite_url, open_storage

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = [
    "SourceSummary", "WarmStart", "add_warm_start", "describe_source", "prior_observations", "resolve_sources",
    "source_summaries",
]

logger = logging.getLogger(__name__)

_PRIOR_STRENGTH = 3.0  # trials' worth of belief that a source is half related, before evidence
_NEIGHBOURS = 3
_MAX_JUDGED = 200  # the new study's results a source's weight is judged on (the newest)


@dataclasses.dataclass
class SourceSummary:
    """What one source gave, for the display and ``hyperknob summary``."""

    label: str
    trials: int
    used: list[str]
    dropped: list[str]  # parameters of the source the new space does not have
    added: list[str]  # parameters of the new space the source never had
    out_of_range: int  # values outside the new space's ranges or choices (kept, never proposed)
    weight: float | None = None


def describe_source(summary: SourceSummary) -> str:
    """One line on what a source gave: the display and ``hyperknob summary`` print it."""
    parts = [f"{summary.trials} trials"]
    if summary.weight is not None:
        parts.append(f"weight {summary.weight:.2f}")
    if summary.dropped:
        parts.append("dropped " + ", ".join(summary.dropped))
    if summary.added:
        parts.append("new here " + ", ".join(summary.added))
    if summary.out_of_range:
        parts.append(f"{summary.out_of_range} values outside the new ranges (kept, not proposed)")
    return f"{summary.label}: " + "; ".join(parts)


def source_summaries(study: Study) -> list[SourceSummary]:
    """What a study draws on (its stored sources, weighed against its trials now)."""
    record = study.storage.load_study(study.name)
    config = record.config if record is not None else {}
    if study.warm_start is None and not config.get("warm_start"):
        return []
    prior_observations(study, study.get_trials(), config)
    return list(study.warm_start.summaries) if study.warm_start is not None else []


@dataclasses.dataclass
class _Source:
    label: str
    address: dict[str, Any] | None  # how to reopen it (None: an in-memory study, this process only)
    trials: list[FrozenTrial]
    direction: str


def _study_source(study: Any) -> _Source:
    url = study.storage.url
    address = None if url.endswith(":memory:") else {"storage": url, "name": study.name}
    return _Source(f"{study.name} ({study.storage.display_url})", address, study.get_trials(), study.direction.value)


def _stored_source(storage: Any, name: str, label: str, address: dict[str, Any]) -> _Source:
    record = storage.load_study(name)
    if record is None:
        raise ValueError(f"warm_start: no study named {name!r} in {storage.display_url}.")
    direction = objective_from_config(record.config["objective"]).direction.value
    return _Source(label, address, storage.get_trials(record.study_id), direction)


def resolve_sources(sources: Sequence[Any]) -> list[_Source]:
    """Each source opened for reading: a ``Study``, a project folder (holding ``study.db``), a
    ``(storage_url, study_name)`` pair, or a stored address ``{"storage": url, "name": name}``."""
    resolved = []
    for source in sources:
        if hasattr(source, "get_trials") and hasattr(source, "storage"):  # a Study
            resolved.append(_study_source(source))
            continue
        if isinstance(source, Mapping) and "storage" in source:
            url, name = str(source["storage"]), str(source["name"])
        elif isinstance(source, (tuple, list)) and len(source) == 2:
            url, name = str(source[0]), str(source[1])
        elif isinstance(source, (str, os.PathLike)):
            folder = os.path.abspath(os.fspath(source))
            if not os.path.isfile(os.path.join(folder, "study.db")):
                raise ValueError(
                    f"warm_start: {os.fspath(source)!r} is not a project folder (it has no study.db). Pass a "
                    "project folder, a Study, or a (storage_url, study_name) pair."
                )
            url, name = default_sqlite_url(folder), os.path.basename(folder)
        else:
            raise TypeError(
                f"warm_start takes Studies, project folders or (storage_url, study_name) pairs; received {source!r}."
            )
        storage = open_storage(url)
        label = f"{name} ({storage.display_url})"
        resolved.append(_stored_source(storage, name, label, {"storage": url, "name": name}))
    return resolved


def _quantiles(trials: Sequence[FrozenTrial], direction: str) -> tuple[list[FrozenTrial], np.ndarray]:
    done = [t for t in trials if t.status == TrialStatus.COMPLETED and t.has_finite_score()]
    if not done:
        return [], np.empty(0)
    scores = np.array([float(t.score) for t in done])  # type: ignore[arg-type]
    if direction == "max":
        scores = -scores
    ranks = np.argsort(np.argsort(scores, kind="stable"), kind="stable")
    return done, ranks / max(len(done) - 1, 1)


class WarmStart:
    """The sources of one study, mapped onto its current space; ``observations`` weighs them
    against the study's own results at each proposal."""

    def __init__(self, sources: Sequence[_Source]) -> None:
        self.sources = list(sources)
        self._space_key: tuple[HyperParameter, ...] | None = None
        self._mapped: list[tuple[list[dict[str, Any]], np.ndarray, np.ndarray]] = []
        self.summaries: list[SourceSummary] = []

    def addresses(self) -> list[dict[str, Any]]:
        return [s.address for s in self.sources if s.address is not None]

    def _map(self, space: Sequence[HyperParameter]) -> None:
        """Each source's trials restricted to ``space``, their quantiles and their encodings."""
        key = tuple(space)
        if key == self._space_key:
            return
        self._space_key, self._mapped, self.summaries = key, [], []
        names = {hp.name for hp in space}
        encoder = UnitCubeEncoder(space) if space else None
        for source in self.sources:
            done, quantiles = _quantiles(source.trials, source.direction)
            seen = {name for t in done for name in t.values if not name.startswith("tuner/")}
            values, out_of_range = [], 0
            for t in done:
                kept = {k: v for k, v in t.values.items() if k in names}
                out_of_range += sum(1 for hp in space if hp.name in kept and not hp.contains(kept[hp.name]))
                values.append(kept)
            encoded = np.array([encoder.encode(v) for v in values]) if encoder and values else np.empty((0, 0))
            self._mapped.append((values, quantiles, encoded))
            self.summaries.append(SourceSummary(
                source.label, len(done), sorted(seen & names), sorted(seen - names), sorted(names - seen), out_of_range,
            ))
        self._encoder = encoder

    def observations(
        self, space: Sequence[HyperParameter], trials: Sequence[FrozenTrial], direction: str
    ) -> list[PriorObservation]:
        self._map(space)
        current, current_q = _quantiles(trials, direction)
        if len(current) > _MAX_JUDGED:  # the weight is judged on the newest results: bounded cost
            recent = np.argsort([t.number for t in current])[-_MAX_JUDGED:]
            current, current_q = [current[i] for i in recent], current_q[recent]
        x_current = (np.array([self._encoder.encode(t.values) for t in current])
                     if self._encoder is not None and current else None)
        out: list[PriorObservation] = []
        for source, summary, (values, quantiles, encoded) in zip(
            self.sources, self.summaries, self._mapped, strict=True
        ):
            weight = _weight(encoded, quantiles, x_current, current_q)
            summary.weight = weight
            out += [PriorObservation(v, float(q), weight, source.label) for v, q in zip(values, quantiles, strict=True)]
        return out


def _weight(encoded: np.ndarray, quantiles: np.ndarray, x_current: np.ndarray | None, current_q: np.ndarray) -> float:
    """How much a source counts: the rank correlation between the new study's results and what the
    source predicts for them (its nearest trials' quantiles), shrunk towards 0.5 while the new
    study has few results; 0 for a source that predicts them no better than chance or worse."""
    n = 0 if x_current is None else len(x_current)
    rho = 0.0
    if n >= 3 and len(encoded) and x_current is not None:
        a, b = np.nan_to_num(x_current, nan=0.5), np.nan_to_num(encoded, nan=0.5)
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
        k = min(_NEIGHBOURS, len(encoded))
        nearest = np.argsort(d2, axis=1)[:, :k]
        predicted = quantiles[nearest].mean(axis=1)
        if np.ptp(predicted) > 0 and np.ptp(current_q) > 0:
            rho = float(spearmanr(predicted, current_q).statistic)
            rho = 0.0 if not np.isfinite(rho) else rho
    shrunk = (n * rho + _PRIOR_STRENGTH * 0.5) / (n + _PRIOR_STRENGTH)
    return float(np.clip(shrunk, 0.0, 1.0))


def add_warm_start(study: Study, sources: Sequence[Any]) -> None:
    """Give ``study`` these sources, and store where they are (so a resumed study and every worker
    draw on them too)."""
    warm = WarmStart(resolve_sources(sources))
    study.warm_start = warm
    addresses = warm.addresses()
    study.storage.update_study_config(study.study_id, lambda config: {**config, "warm_start": addresses})


def prior_observations(
    study: Study, trials: Sequence[FrozenTrial], config: Mapping[str, Any]
) -> list[PriorObservation]:
    """The study's warm-start observations for the next proposal (none without sources)."""
    if study.warm_start is None:
        stored = config.get("warm_start")
        if not stored:
            return []
        try:
            study.warm_start = WarmStart(resolve_sources(stored))
        except Exception as exc:  # noqa: BLE001 - a source moved or deleted: search on without it
            logger.warning("Study %s: its warm-start sources cannot be opened (%s); searching without them.",
                           study.name, exc)
            study.warm_start = WarmStart([])
    if not study.warm_start.sources:
        return []
    return study.warm_start.observations(study._space.definitions, trials, study.direction.value)
