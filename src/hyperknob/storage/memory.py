"""In-memory storage for throwaway studies and tests: same contract, gone with the process."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hyperknob._types import FrozenTrial, MetricPoint, TrialStatus
from hyperknob.storage.base import (
    Claim,
    Proposal,
    ProposeFn,
    OrphanFn,
    Storage,
    StudyRecord,
    new_trial,
    pick_orphan,
    resumed_trial,
)

__all__ = ["InMemoryStorage"]


class InMemoryStorage(Storage):
    url = ":memory:"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._studies: dict[str, StudyRecord] = {}
        self._trials: dict[int, list[FrozenTrial]] = {}
        self._next_id = 1

    def create_study(self, name: str, config: Mapping[str, Any], overwrite: bool = False) -> StudyRecord:
        with self._lock:
            if overwrite:
                self.delete_study(name)
            if name in self._studies:
                return self._studies[name]
            # Round-trip through JSON so that what works here also works with the SQL backend.
            record = StudyRecord(self._next_id, name, json.loads(json.dumps(dict(config))), time.time())
            self._next_id += 1
            self._studies[name] = record
            self._trials[record.study_id] = []
            return record

    def load_study(self, name: str) -> StudyRecord | None:
        return self._studies.get(name)

    def list_studies(self) -> list[StudyRecord]:
        return sorted(self._studies.values(), key=lambda r: r.study_id)

    def delete_study(self, name: str) -> None:
        with self._lock:
            record = self._studies.pop(name, None)
            if record is not None:
                self._trials.pop(record.study_id, None)

    def update_study_config(
        self, study_id: int, update: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        with self._lock:
            for name, record in self._studies.items():
                if record.study_id == study_id:
                    config = json.loads(json.dumps(update(json.loads(json.dumps(dict(record.config))))))
                    self._studies[name] = dataclasses.replace(record, config=config)
                    return config
        raise KeyError(study_id)

    def claim_trial(
        self, study_id: int, propose: ProposeFn, *, worker: str, max_trials: int | None, is_orphan: OrphanFn
    ) -> Claim:
        with self._lock:
            trials = self._trials[study_id]
            orphan = pick_orphan(trials, is_orphan)
            if orphan is not None:
                trial = resumed_trial(orphan, worker)
                trials[orphan.number] = trial
                return Claim(trial, resumed=True)
            config = self._config_of(study_id)
            max_trials = config.get("max_trials", max_trials)
            if max_trials is not None and len(trials) >= max_trials:
                return Claim(None, reason="budget")
            proposal = propose(list(trials), len(trials), config)
            if not isinstance(proposal, Proposal):
                return Claim(None, reason=proposal)
            trial = new_trial(study_id, len(trials), proposal, worker, max_trials)
            trials.append(trial)
            return Claim(trial)

    def _config_of(self, study_id: int) -> dict[str, Any]:
        for record in self._studies.values():
            if record.study_id == study_id:
                return dict(record.config)
        raise KeyError(study_id)

    def get_trials(self, study_id: int, statuses: Sequence[TrialStatus] | None = None) -> list[FrozenTrial]:
        with self._lock:
            trials = list(self._trials.get(study_id, []))
        if statuses is not None:
            trials = [t for t in trials if t.status in statuses]
        return trials

    def get_trial(self, study_id: int, number: int) -> FrozenTrial:
        return self._trials[study_id][number]

    def report(self, study_id: int, number: int, step: int, metrics: Mapping[str, float]) -> None:
        with self._lock:
            trial = self._trials[study_id][number]
            history = {k: list(v) for k, v in trial.metrics.items()}
            for name, value in metrics.items():
                points = [p for p in history.get(name, []) if p.step != step]
                points.append(MetricPoint(int(step), float(value)))
                history[name] = sorted(points, key=lambda p: p.step)
            self._trials[study_id][number] = dataclasses.replace(
                trial, metrics={k: tuple(v) for k, v in history.items()}, heartbeat=time.time()
            )

    def update_trial(self, study_id: int, number: int, **fields: Any) -> FrozenTrial:
        with self._lock:
            trial = dataclasses.replace(self._trials[study_id][number], **fields)
            self._trials[study_id][number] = trial
            return trial
