"""The storage contract: where studies and their trials live.

Every backend offers the same small set of operations. The one that matters for concurrency is
``claim_trial``: inside one atomic step it either hands back a trial whose worker died, or asks
the caller's ``propose`` function for new values and records a new RUNNING trial with the next
number. Workers in other processes or on other machines therefore never share a number, never
run the same trial twice, and never overspend a shared ``max_trials`` budget.
"""

from __future__ import annotations

import abc
import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hyperknob._types import FrozenTrial, TrialStatus

__all__ = ["Claim", "Proposal", "Storage", "StudyRecord", "trial_id_for"]

SCHEMA_VERSION = 1


@dataclasses.dataclass(frozen=True)
class StudyRecord:
    study_id: int
    name: str
    config: Mapping[str, Any]
    created: float


@dataclasses.dataclass(frozen=True)
class Proposal:
    """New values for the next trial, with the space they were drawn from (JSON configs)."""

    values: Mapping[str, Any]
    space: Any = None


@dataclasses.dataclass(frozen=True)
class Claim:
    """The answer of ``claim_trial``: a trial to run, or why there is none."""

    trial: FrozenTrial | None
    resumed: bool = False  # the trial was left RUNNING by a dead worker and runs again
    reason: str | None = None  # "budget", "exhausted" or "idle" when trial is None


# propose(existing_trials, next_number, study_config) -> Proposal, or a reason ("exhausted" / "idle").
# The study's config is read in the same atomic step, so the space and budget are current.
ProposeFn = Callable[[Sequence[FrozenTrial], int, Mapping[str, Any]], "Proposal | str"]
OrphanFn = Callable[[FrozenTrial], bool]


def trial_id_for(number: int, max_trials: int | None) -> str:
    """KerasTuner's trial ids: the number, zero-padded to the width of ``max_trials``."""
    width = len(str(max_trials)) if max_trials else 1
    return f"{number:0{width}d}"


class Storage(abc.ABC):
    """A backend. Implementations must make ``claim_trial`` and ``update_study_config`` atomic."""

    url: str = ""

    # --- studies ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_study(self, name: str, config: Mapping[str, Any], overwrite: bool = False) -> StudyRecord:
        """Create the study, or return the existing one (``overwrite=True`` deletes it first)."""

    @abc.abstractmethod
    def load_study(self, name: str) -> StudyRecord | None: ...

    @abc.abstractmethod
    def list_studies(self) -> list[StudyRecord]: ...

    @abc.abstractmethod
    def delete_study(self, name: str) -> None: ...

    @abc.abstractmethod
    def update_study_config(
        self, study_id: int, update: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        """Atomically replace the study's config by ``update(current)``; returns the new config."""

    # --- trials -----------------------------------------------------------------------------------
    @abc.abstractmethod
    def claim_trial(
        self,
        study_id: int,
        propose: ProposeFn,
        *,
        worker: str,
        max_trials: int | None,
        is_orphan: OrphanFn,
    ) -> Claim: ...

    @abc.abstractmethod
    def get_trials(self, study_id: int, statuses: Sequence[TrialStatus] | None = None) -> list[FrozenTrial]: ...

    @abc.abstractmethod
    def get_trial(self, study_id: int, number: int) -> FrozenTrial: ...

    @abc.abstractmethod
    def report(self, study_id: int, number: int, step: int, metrics: Mapping[str, float]) -> None:
        """Append one step of metrics to a running trial's history (and beat its heart)."""

    @abc.abstractmethod
    def update_trial(self, study_id: int, number: int, **fields: Any) -> FrozenTrial:
        """Set fields of a trial (status, score, best_step, message, values, space, run_count, ...)."""

    def finish_trial(
        self,
        study_id: int,
        number: int,
        status: TrialStatus,
        *,
        score: float | None = None,
        best_step: int | None = None,
        message: str | None = None,
    ) -> FrozenTrial:
        return self.update_trial(
            study_id, number, status=status, score=score, best_step=best_step, message=message,
            datetime_complete=time.time(),
        )

    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def new_trial(
    study_id: int, number: int, proposal: Proposal, worker: str, max_trials: int | None
) -> FrozenTrial:
    now = time.time()
    return FrozenTrial(
        study_id=study_id,
        number=number,
        trial_id=trial_id_for(number, max_trials),
        status=TrialStatus.RUNNING,
        values=dict(proposal.values),
        space=proposal.space,
        worker=worker,
        run_count=1,
        datetime_start=now,
        heartbeat=now,
    )


def resumed_trial(trial: FrozenTrial, worker: str) -> FrozenTrial:
    now = time.time()
    return dataclasses.replace(
        trial, worker=worker, run_count=trial.run_count + 1, datetime_start=now, heartbeat=now, metrics={},
        message=None,
    )


def pick_orphan(trials: Sequence[FrozenTrial], is_orphan: OrphanFn) -> FrozenTrial | None:
    for trial in trials:
        if trial.status == TrialStatus.RUNNING and is_orphan(trial):
            return trial
    return None
