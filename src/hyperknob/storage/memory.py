"""In-memory storage for throwaway studies and tests: same contract, gone with the process.

Everything written is passed through JSON, so what works here also works with the SQL backend.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from hyperknob._types import FrozenTrial, MetricPoint, TrialStatus
from hyperknob.storage.base import (
    ClaimTransaction,
    Storage,
    StudyRecord,
    dumps,
    not_owned,
    study_gone,
)

__all__ = ["InMemoryStorage"]

_JSON_FIELDS = ("values", "space", "user_attrs")


def _json_copy(value: Any) -> Any:
    return json.loads(dumps(value))


class _Transaction:
    def __init__(self, trials: list[FrozenTrial], config: dict[str, Any]) -> None:
        self._store = trials
        self.trials = list(trials)
        self.unfinished: Sequence[FrozenTrial] = [t for t in trials if not t.status.is_finished]
        self.config = config

    def insert(self, trial: FrozenTrial) -> None:
        self._store.append(trial)

    def write(self, trial: FrozenTrial, fields: Sequence[str]) -> None:
        self._store[trial.number] = trial


class InMemoryStorage(Storage):
    url = ":memory:"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._studies: dict[str, StudyRecord] = {}
        self._trials: dict[int, list[FrozenTrial]] = {}
        self._next_id = 1

    def _record_by_id(self, study_id: int) -> StudyRecord:
        for record in self._studies.values():
            if record.study_id == study_id:
                return record
        raise study_gone(study_id, self.url)

    def create_study(self, name: str, config: Mapping[str, Any], overwrite: bool = False) -> StudyRecord:
        with self._lock:
            if overwrite:
                self.delete_study(name)
            if name in self._studies:
                return self._studies[name]
            record = StudyRecord(self._next_id, name, _json_copy(dict(config)), time.time())
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
            record = self._record_by_id(study_id)
            config: dict[str, Any] = _json_copy(update(_json_copy(dict(record.config))))
            self._studies[record.name] = dataclasses.replace(record, config=config)
            return config

    @contextlib.contextmanager
    def _claim_transaction(self, study_id: int) -> Iterator[ClaimTransaction]:
        with self._lock:
            config = _json_copy(dict(self._record_by_id(study_id).config))
            yield _Transaction(self._trials[study_id], config)

    def get_trials(self, study_id: int, statuses: Sequence[TrialStatus] | None = None) -> list[FrozenTrial]:
        with self._lock:
            trials = list(self._trials.get(study_id, []))
        if statuses is not None:
            trials = [t for t in trials if t.status in statuses]
        return trials

    def get_trial(self, study_id: int, number: int) -> FrozenTrial:
        with self._lock:
            if study_id not in self._trials:
                raise study_gone(study_id, self.url)
            return self._trials[study_id][number]

    def _owned(self, study_id: int, number: int, owner: str | None) -> FrozenTrial:
        trial = self.get_trial(study_id, number)
        if owner is not None and (trial.status != TrialStatus.RUNNING or trial.worker != owner):
            raise not_owned(study_id, number, owner)
        return trial

    def report(
        self, study_id: int, number: int, step: int, metrics: Mapping[str, float], *, owner: str | None = None
    ) -> None:
        with self._lock:
            trial = self._owned(study_id, number, owner)
            history = {k: list(v) for k, v in trial.metrics.items()}
            for name, value in metrics.items():
                points = [p for p in history.get(name, []) if p.step != step]
                points.append(MetricPoint(int(step), float(value)))
                history[name] = sorted(points, key=lambda p: p.step)
            self._trials[study_id][number] = dataclasses.replace(
                trial, metrics={k: tuple(v) for k, v in history.items()}, heartbeat=time.time()
            )

    def update_trial(self, study_id: int, number: int, *, owner: str | None = None, **fields: Any) -> FrozenTrial:
        fields = {k: _json_copy(v) if k in _JSON_FIELDS and v is not None else v for k, v in fields.items()}
        with self._lock:
            trial = dataclasses.replace(self._owned(study_id, number, owner), **fields)
            self._trials[study_id][number] = trial
            return trial
