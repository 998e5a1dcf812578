"""The storage contract: where studies and their trials live.

Every backend offers the same small set of operations. The one that matters for concurrency is
``claim_trial``: inside one atomic step it either hands back a trial whose worker died, or asks
the caller's ``propose`` function for new values and records a new RUNNING trial with the next
number. Workers in other processes or on other machines therefore never share a number, never
run the same trial twice, and never overspend a shared ``max_trials`` budget.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.exceptions import StorageError, TrialNotOwnedError

__all__ = ["Claim", "Proposal", "Storage", "StudyRecord", "trial_id_for"]

SCHEMA_VERSION = 2  # 2: study ids are never reused (AUTOINCREMENT)


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
    user_attrs: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # e.g. the queue entry it ran


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
    """KerasTuner's trial ids: the number, zero-padded to the width of ``str(max_trials)``
    (four digits without a budget, as KerasTuner's ``len(str(None))`` gives)."""
    return f"{number:0{len(str(max_trials))}d}"


class ClaimTransaction(Protocol):
    """What a backend exposes inside one atomic claim: the study's trials and config, and writes.

    ``unfinished`` holds the trials of ``trials`` that have not finished, in number order: the only
    ones a claim may take over. A backend that knows them keeps the claim from walking the whole
    study (thousands of trials) while every other worker waits for it."""

    trials: list[FrozenTrial]
    unfinished: Sequence[FrozenTrial]
    config: dict[str, Any]

    def insert(self, trial: FrozenTrial) -> None: ...

    def write(self, trial: FrozenTrial, fields: Sequence[str]) -> None: ...


class Storage(abc.ABC):
    """A backend. Implementations provide one atomic ``_claim_transaction`` and plain reads and writes;
    the claiming rules themselves live here, once for every backend."""

    url: str = ""

    @property
    def display_url(self) -> str:
        """The URL to show a person: without its password."""
        return self.url

    # --- studies ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_study(self, name: str, config: Mapping[str, Any], overwrite: bool = False) -> StudyRecord:
        """Create the study, or return the existing one (``overwrite=True`` deletes it first).

        A deleted study's id is never given to another study, so a worker still holding the old id
        fails clearly instead of writing into the new study."""

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
    def _claim_transaction(self, study_id: int) -> contextlib.AbstractContextManager[ClaimTransaction]:
        """Hold the study exclusively (against other threads, processes and machines) while a claim
        reads its trials and config and writes at most a few trials."""

    def claim_trial(
        self,
        study_id: int,
        propose: ProposeFn,
        *,
        worker: str,
        max_trials: int | None,
        is_orphan: OrphanFn,
        max_orphan_runs: int | None = None,
    ) -> Claim:
        """The next trial for ``worker``: first a trial whose worker died, then a new one.

        A dead worker's trial runs again until it has been started ``max_orphan_runs`` times; then it
        is recorded FAILED, so a configuration that kills its process cannot crash-loop a search.
        """
        with self._claim_transaction(study_id) as tx:
            failed_now: dict[int, FrozenTrial] = {}
            for trial in tx.unfinished:
                if trial.status != TrialStatus.RUNNING or not is_orphan(trial):
                    continue
                if max_orphan_runs is not None and trial.run_count >= max_orphan_runs:
                    failed = dataclasses.replace(
                        trial,
                        status=TrialStatus.FAILED,
                        datetime_complete=time.time(),
                        message=(
                            f"The worker running this trial ({trial.worker}) died during each of its "
                            f"{trial.run_count} runs; it is not run again (raise max_worker_deaths_per_trial to "
                            "allow more runs)."
                        ),
                    )
                    tx.write(failed, ("status", "datetime_complete", "message"))
                    failed_now[failed.number] = failed
                    continue
                resumed = resumed_trial(trial, worker)
                tx.write(resumed, ("worker", "run_count", "datetime_start", "heartbeat", "metrics", "message"))
                return Claim(resumed, resumed=True)
            max_trials = tx.config.get("max_trials", max_trials)
            if max_trials is not None and len(tx.trials) >= max_trials:
                return Claim(None, reason="budget")
            # The proposal sees the trials as they are now: one failed just above is no longer running.
            trials = [failed_now.get(t.number, t) for t in tx.trials] if failed_now else tx.trials
            proposal = propose(trials, len(trials), tx.config)
            if not isinstance(proposal, Proposal):
                return Claim(None, reason=proposal)
            trial = new_trial(study_id, len(tx.trials), proposal, worker, max_trials)
            tx.insert(trial)
            return Claim(trial)

    def insert_trial(self, study_id: int, proposal: Proposal, *, worker: str) -> FrozenTrial:
        """A new RUNNING trial with the proposal's values, outside the search (``add_trial``): no
        orphan is taken over and no budget applies, since the user asked for this very trial."""
        with self._claim_transaction(study_id) as tx:
            trial = new_trial(study_id, len(tx.trials), proposal, worker, tx.config.get("max_trials"))
            tx.insert(trial)
            return trial

    @abc.abstractmethod
    def get_trials(self, study_id: int, statuses: Sequence[TrialStatus] | None = None) -> list[FrozenTrial]: ...

    @abc.abstractmethod
    def get_trial(self, study_id: int, number: int) -> FrozenTrial: ...

    @abc.abstractmethod
    def report(
        self, study_id: int, number: int, step: int, metrics: Mapping[str, float], *, owner: str | None = None
    ) -> None:
        """Append one step of metrics to a running trial's history (and beat its heart).

        With ``owner``, the trial must still be RUNNING under that worker (else ``TrialNotOwnedError``)."""

    @abc.abstractmethod
    def update_trial(self, study_id: int, number: int, *, owner: str | None = None, **fields: Any) -> FrozenTrial:
        """Set fields of a trial (status, score, best_step, message, values, metrics, run_count, ...).

        With ``owner``, the trial must still be RUNNING under that worker (else ``TrialNotOwnedError``):
        a worker whose trial was taken over, or whose study was overwritten, never overwrites it."""

    def finish_trial(
        self,
        study_id: int,
        number: int,
        status: TrialStatus,
        *,
        score: float | None = None,
        best_step: int | None = None,
        message: str | None = None,
        owner: str | None = None,
    ) -> FrozenTrial:
        return self.update_trial(
            study_id, number, owner=owner, status=status, score=score, best_step=best_step, message=message,
            datetime_complete=time.time(),
        )

    def close(self) -> None:  # noqa: B027 - optional for backends without connections
        """Release connections."""

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def not_owned(study_id: int, number: int, owner: str) -> TrialNotOwnedError:
    return TrialNotOwnedError(
        f"Trial number {number} of study {study_id} is no longer run by this worker ({owner}): it was already "
        "finished, taken over by another worker after this one was thought dead, or the study was overwritten "
        "or deleted by another process. Nothing was written."
    )


def study_gone(study_id: int, url: str) -> StorageError:
    return StorageError(
        f"Study id {study_id} no longer exists in {url}: another process deleted it or recreated it with "
        "overwrite=True. Start this worker again to join the current study."
    )


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
        user_attrs=dict(proposal.user_attrs),
    )


def resumed_trial(trial: FrozenTrial, worker: str) -> FrozenTrial:
    now = time.time()
    return dataclasses.replace(
        trial, worker=worker, run_count=trial.run_count + 1, datetime_start=now, heartbeat=now, metrics={},
        message=None,
    )


def dumps(value: Any) -> str:
    """Standard JSON text of stored data: numpy scalars become numbers, NaN and infinities become
    null (JSON has no token for them; a metric read back as null is NaN again), anything else
    unstorable is an error."""
    try:
        return json.dumps(value, separators=(",", ":"), default=_json_default, allow_nan=False)
    except ValueError as exc:
        if "Out of range float" not in str(exc):
            raise
        return json.dumps(_finite(value), separators=(",", ":"), default=_json_default, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return _finite(item())
    return value


def _json_default(value: Any) -> Any:
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return item()
    raise TypeError(
        f"{value!r} ({type(value).__name__}) cannot be stored: studies hold JSON data only "
        "(numbers, strings, booleans, lists and dicts of those)."
    )
