"""A study: one search's trials in a storage, and the ask -> run -> tell loop over them.

Every way of running trials goes through ``ask`` and ``tell``: the one-call ``optimize``, a loop
the user writes, and the KerasTuner-shaped tuners. The study holds no algorithm state of its own:
what to try next is computed from the stored trials each time, so any worker, in any process,
continues any study.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

import numpy as np

from hyperknob._types import Direction, FrozenTrial, TrialStatus
from hyperknob.constraints import make_constraints
from hyperknob.exceptions import (
    FatalError,
    FatalRuntimeError,
    FatalTypeError,
    FatalValueError,
)
from hyperknob.objective import MultiObjective, Objective, create_objective, objective_from_config
from hyperknob.samplers import Sampler, make_sampler
from hyperknob.samplers.base import IDLE, TrialKeyCache, TrialsView
from hyperknob.schedulers import Pruner, make_pruner
from hyperknob.schedulers.pruners import objective_curve, prune_on_front
from hyperknob.space import parameters as P
from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.space.search_space import merge_space_config
from hyperknob.storage import Proposal, Storage
from hyperknob.study.best_trials import BestTrials, objective_values_of
from hyperknob.study.callbacks import StudyCallback
from hyperknob.study.config import check_compatible, constraints_config, new_study_config, stored_constraints
from hyperknob.study.heartbeat import DEFAULT_INTERVAL, default_grace
from hyperknob.study.known_trials import ADDED, KnownTrials, queued_proposal
from hyperknob.study.live_trial import live_trial
from hyperknob.study.outcomes import (
    check_consecutive_failures,
    finishing_status,
    message_of,
    outcome_of,
    storable,
    stored_message,
    unstorable,
)
from hyperknob.study.results import UnusableResultError, convert_results, record_results, score_from_history
from hyperknob.study.settings import StudyAddress, StudySettings
from hyperknob.study.space_state import StudySpace
from hyperknob.study.time_limit import trial_time_limit
from hyperknob.study.trial import MetricsTracker, Trial
from hyperknob.study.trial_limits import fit_metrics, fit_user_attrs
from hyperknob.study.warm_start import prior_observations
from hyperknob.study.workers import is_orphan, new_worker_id

__all__ = ["Study", "StudyAddress", "StudySettings"]

logger = logging.getLogger("hyperknob")

NO_RESULT: Any = object()  # tell() without a result: score from the metrics already reported


class Study(KnownTrials, BestTrials):
    """A search over one space with one objective, stored in ``storage`` under ``name``."""

    def __init__(
        self,
        storage: Storage,
        name: str,
        *,
        objective: Any = None,
        sampler: Sampler | str = "random",
        seed: int | None = None,
        settings: StudySettings | None = None,
        hyperparameters: HyperParameters | None = None,
        overwrite: bool = False,
        project_dir: str | None = None,
        pruner: Pruner | str | None = None,
        pareto: bool = False,
        constraints: Any = None,
    ) -> None:
        self.storage = storage
        self.name = name
        self.project_dir = project_dir
        self.sampler = make_sampler(sampler)
        self.pruner = make_pruner(pruner)
        self.settings = settings or StudySettings()
        self.settings.validate()
        requested_objective = create_objective(objective, pareto=pareto)
        self.constraints, self.constraint_fn = make_constraints(constraints)
        predefined = hyperparameters.space if hyperparameters is not None else []
        config = new_study_config(
            requested_objective, self.sampler, seed, self.settings.max_trials, predefined, self._liveness_config()
        )
        record = storage.create_study(name, config, overwrite=overwrite)
        self.study_id = record.study_id
        stored = dict(record.config)
        check_compatible(stored, requested_objective, seed, name, storage.display_url)
        self.objective: Objective = objective_from_config(stored["objective"])
        self.seed: int = int(stored["seed"])
        if stored.get("max_trials") != self.settings.max_trials and self.settings.max_trials is not None:
            # Raising (or lowering) max_trials on a resumed study changes only the budget.
            storage.update_study_config(self.study_id, lambda c: {**c, "max_trials": self.settings.max_trials})
        asked = {k: v for k, v in self._liveness_config().items() if getattr(self.settings, k) is not None}
        if self.constraints or self.constraint_fn is not None:
            asked.update(constraints_config(self.constraints, self.constraint_fn))
        self.constraints = self.constraints or stored_constraints(stored)
        self._stored_constrained = bool(stored.get("constraint_function"))
        if any(stored.get(k) != v for k, v in asked.items()):
            stored = storage.update_study_config(self.study_id, lambda c: {**c, **asked})
        # Every worker of a study beats and judges silence with the same, stored, settings.
        self.heartbeat_interval = float(stored.get("heartbeat_interval", DEFAULT_INTERVAL))
        self.grace_period = float(stored.get("grace_period", default_grace(self.heartbeat_interval)))
        self._space = StudySpace(stored.get("space", []), stored.get("predefined", []))
        self._retry_queue: list[Trial] = []
        self.worker = new_worker_id()
        self.stop_reason: str | None = None
        self.stop_error: BaseException | None = None  # what ended the last search, when it raised
        self.score_trial_fn: Callable[[Trial], None] | None = None
        self._chosen_algorithm: dict[int, str] = {}  # trial number -> what algorithm="auto" chose
        self.trial_keys = TrialKeyCache()  # tried configurations' keys, kept between proposals
        self.populate_hook: Callable[[TrialsView, np.random.Generator], Any] | None = None

    # --- construction helpers ---------------------------------------------------------------------
    def _liveness_config(self) -> dict[str, float]:
        interval = self.settings.heartbeat_interval or DEFAULT_INTERVAL
        return {"heartbeat_interval": interval, "grace_period": self.settings.grace_period or default_grace(interval)}

    @property
    def direction(self) -> Direction:
        return self.objective.direction

    # --- the space --------------------------------------------------------------------------------
    @property
    def space(self) -> list[P.HyperParameter]:
        return list(self._space.definitions)

    def get_space(self) -> HyperParameters:
        return self._space.defaults()

    def update_space(self, hyperparameters: HyperParameters | Iterable[P.HyperParameter]) -> list[P.HyperParameter]:
        """Add definitions the study has not seen; returns the new ones. Honours *_new_entries."""
        new = self._space.unknown(hyperparameters.space if isinstance(hyperparameters, HyperParameters)
                                  else hyperparameters)
        if not new:
            return []
        if not self.settings.allow_new_entries:
            names = ", ".join(sorted({p.name for p in new}))
            raise FatalRuntimeError(
                f"allow_new_entries=False, but new hyperparameters were defined: {names}. "
                "Add them to the `hyperparameters` given to the tuner, or set allow_new_entries=True."
            )
        if not self.settings.tune_new_entries:
            return []
        config = self.storage.update_study_config(
            self.study_id, lambda c: {**c, "space": merge_space_config(c.get("space", []), new)}
        )
        self._space.set_config(config["space"])
        return new

    # --- trials -----------------------------------------------------------------------------------
    def get_trials(self, statuses: Sequence[TrialStatus] | None = None) -> list[FrozenTrial]:
        return self.storage.get_trials(self.study_id, statuses)

    @property
    def trials(self) -> list[FrozenTrial]:
        return self.get_trials()

    @property
    def best_hyperparameters(self) -> HyperParameters:
        return self.to_trial(self.best_trial).hyperparameters

    def to_trial(self, frozen: FrozenTrial) -> Trial:
        """A KerasTuner-shaped Trial (hyperparameters with the study's space) for a stored trial."""
        directions = {self.objective.name: self.objective.direction}
        trial = Trial.from_frozen(frozen, self._space.new_hyperparameters(), directions)
        trial.objective_values = objective_values_of(frozen, self.objective)
        trial._study = self
        return trial

    def remaining_trials(self) -> int | None:
        if self.settings.max_trials is None:
            return None
        return max(self.settings.max_trials - len(self.get_trials()), 0)

    # --- ask --------------------------------------------------------------------------------------
    def ask(self) -> Trial | None:
        """The next trial to run (a retry, a trial whose worker died, or a new one), or None.

        ``stop_reason`` tells why there is none: 'budget', 'exhausted' or 'idle'.
        """
        if self._retry_queue:
            trial = self._retry_queue.pop(0)
            trial.status = TrialStatus.RUNNING
            trial.run_count += 1
            self.storage.update_trial(
                self.study_id, _number(trial), owner=trial._worker, worker=self.worker, run_count=trial.run_count,
                metrics={}, heartbeat=time.time(),
            )
            trial._worker = self.worker
            trial.metrics = MetricsTracker({self.objective.name: self.objective.direction})
            return trial
        claim = self.storage.claim_trial(
            self.study_id,
            self._propose,
            worker=self.worker,
            max_trials=self.settings.max_trials,
            is_orphan=functools.partial(is_orphan, grace=self.grace_period),
            # A trial whose worker died runs again (the machine's fault, not the trial's), but not
            # forever: a configuration that kills its process fails after this many deaths.
            max_orphan_runs=self.settings.max_worker_deaths_per_trial,
        )
        if claim.trial is None:
            self.stop_reason = claim.reason
            return None
        if claim.resumed:
            logger.info("Trial %s was left running by a worker that is gone; running it again.", claim.trial.trial_id)
        return self._live_trial(claim.trial)

    def _rng(self, number: int, stream: int = 0) -> np.random.Generator:
        # One independent stream per (seed, trial number, purpose): reproducible in any process.
        return np.random.default_rng([self.seed, number, stream])

    def _propose(self, trials: Sequence[FrozenTrial], number: int, config: Mapping[str, Any]) -> Proposal | str:
        self._space.set_config(config.get("space", []))
        self.settings.max_trials = config.get("max_trials", self.settings.max_trials)
        prior = prior_observations(self, trials, config)
        view = self.view_of(trials, number, prior)
        rng = self._rng(number)
        if (queued := queued_proposal(self, trials, config, view, rng)) is not None:
            return queued
        if self.populate_hook is not None:
            values = self.populate_hook(view, rng)
        else:
            values = self.sampler.propose(self._space.definitions, view, rng)
        if values is None:
            # Nothing new to try, but a running trial may still declare new parameters (or fail and
            # free its configuration): wait for it rather than declare the space exhausted.
            if view.running():
                return "idle"
            if not self._space.definitions and all(t.user_attrs.get(ADDED) for t in view.finished()):
                # No trial declared the space (each was cut off, or added): unknown, not exhausted.
                return Proposal(values={})
            return "exhausted"
        if values == IDLE:
            return "idle"
        chosen = getattr(self.sampler, "chosen", None) if self.populate_hook is None else None
        if chosen is not None:
            self._chosen_algorithm[number] = chosen  # algorithm="auto": kept in the trial's user_attrs
        return Proposal(values=dict(values))

    def _live_trial(self, frozen: FrozenTrial) -> Trial:
        return live_trial(self, frozen)

    def should_prune(self, trial: Trial) -> bool:
        """Whether the study's pruner stops this running trial at its last reported step."""
        if self.pruner is None:
            return False
        if isinstance(self.objective, MultiObjective) and self.objective.pareto:  # (narrows the type)
            others_metrics = [(t.status, t.metrics) for t in self.get_trials() if t.number != trial.number]
            return prune_on_front(self.pruner, trial.metrics.to_points(), others_metrics, self.objective)
        curve = objective_curve(trial.metrics.to_points(), self.objective)
        if not curve:
            return False
        others = [
            (t.status, objective_curve(t.metrics, self.objective))
            for t in self.get_trials()
            if t.number != trial.number
        ]
        return self.pruner.should_prune(max(curve), curve, others)

    # --- report and tell --------------------------------------------------------------------------
    def report(self, trial: Trial, step: int, value: float | Mapping[str, float]) -> None:
        """Record one step of metrics for a running trial (stored at once)."""
        metrics = {self.objective.name: value} if not isinstance(value, Mapping) else dict(value)
        for name, v in metrics.items():
            trial.metrics.update(name, float(v), step=int(step))
        self.storage.report(
            self.study_id, _number(trial), int(step), {k: float(v) for k, v in metrics.items()}, owner=trial._worker
        )

    def tell(
        self,
        trial: Trial,
        result: Any = NO_RESULT,
        *,
        status: TrialStatus | str | None = None,
        message: str | None = None,
    ) -> FrozenTrial:
        """Finish a trial with its result (a float, a dict, a History) or an explicit status.

        Without a result, a COMPLETED trial is scored from the metrics already reported. A trial
        whose score is NaN or infinite, or that crashed (INVALID), is retried while
        ``max_retries_per_trial`` allows, then recorded as FAILED with the reason.
        """
        if trial.number is None or trial._study is not self or trial._worker is None:
            raise ValueError("tell() needs a running trial that this study's ask() returned.")
        if any(queued is trial for queued in self._retry_queue):
            raise ValueError(f"Trial {trial.trial_id} is waiting to be retried: ask() returns it again first.")
        if trial._frozen is not None and trial._frozen.status.is_finished:
            raise ValueError(f"Trial {trial.trial_id} was already told: it ended {trial._frozen.status.value}.")
        status = finishing_status(status)
        if status is None or status == TrialStatus.COMPLETED:
            if result is not NO_RESULT:
                try:
                    record_results(trial, convert_results(result, self.objective))
                except FatalError as exc:
                    self._finish(trial, TrialStatus.FAILED, message=f"{exc}")
                    raise
                except UnusableResultError as exc:  # this trial's value only: the search goes on
                    frozen = self._finish(trial, TrialStatus.FAILED, message=str(exc))
                    check_consecutive_failures(self.get_trials(), self.settings.max_consecutive_failed_trials, str(exc))
                    return frozen
            elif not any(trial.metrics.get_history(n) for n in trial.metrics.names()):
                self._finish(trial, TrialStatus.FAILED, message="no result and no metrics were reported")
                raise FatalValueError(
                    f"Trial {trial.trial_id} was told COMPLETED without a result or any reported metric; "
                    "pass the objective value to tell(trial, value)."
                )
            self._score(trial)
            self.record_constraints(trial)
            if trial.score is None or not math.isfinite(trial.score):
                reported = ", ".join(trial.metrics.names()) or "none"
                status = TrialStatus.INVALID
                message = (
                    f"The objective {self.objective.name} was {trial.score} for trial {trial.trial_id} "
                    f"(reported metrics: {reported}): not a finite number, so the trial cannot be ranked."
                )
            else:
                status = TrialStatus.COMPLETED
        elif status == TrialStatus.STOPPED:
            self._score(trial)
        trial.message = message
        if status == TrialStatus.INVALID:
            if trial.run_count <= self.settings.max_retries_per_trial:
                left = self.settings.max_retries_per_trial - trial.run_count + 1
                logger.info("Trial %s failed (%d retries left).", trial.trial_id, left)
                trial.status = TrialStatus.INVALID
                message = stored_message(message)
                self.storage.update_trial(self.study_id, trial.number, owner=trial._worker, message=message)
                self._retry_queue.append(trial)
                trial._frozen = self._frozen_view(trial)
                return trial._frozen
            status = TrialStatus.FAILED
        frozen = self._finish(trial, status, message=message)
        if status == TrialStatus.FAILED:
            check_consecutive_failures(self.get_trials(), self.settings.max_consecutive_failed_trials, message)
        return frozen

    def _score(self, trial: Trial) -> None:
        if self.score_trial_fn is not None:
            self.score_trial_fn(trial)
            return
        self.default_score(trial)

    def default_score(self, trial: Trial) -> None:
        """The objective's score and best step from the trial's history. A user's ``score_trial``
        that calls ``super().score_trial(trial)`` lands here, not back in its own override."""
        history = {name: {o.step: o.mean() for o in trial.metrics.get_history(name)} for name in trial.metrics.names()}
        trial.score, trial.best_step = score_from_history(history, self.objective)

    def _finish(self, trial: Trial, status: TrialStatus, message: str | None) -> FrozenTrial:
        """Store the trial's end. Whatever goes wrong here, the trial is stored as finished first,
        so a bad value never leaves it RUNNING to be run again."""
        problem = unstorable(trial)
        if problem is not None:
            status, message = TrialStatus.FAILED, problem
            trial.hyperparameters.values = {
                k: v for k, v in trial.hyperparameters.values.items() if isinstance(k, str) and storable(v)
            }
            trial.user_attrs = {}
        trial.user_attrs, attrs_note = fit_user_attrs(trial.user_attrs)
        metrics, metrics_note = fit_metrics(trial.metrics.to_points(), self.objective.name, trial.best_step)
        notes = [note for note in (attrs_note, metrics_note) if note]
        if notes:
            logger.warning("Trial %s: %s", trial.trial_id, " ".join(notes))
            message = "\n".join([message, *notes] if message else notes)
        message = stored_message(message)
        try:
            self.update_space(trial.hyperparameters)
        finally:
            frozen = self.storage.update_trial(
                self.study_id,
                _number(trial),
                owner=trial._worker,
                status=status,
                values=dict(trial.hyperparameters.values),
                metrics=metrics,
                score=None if trial.score is None else float(trial.score),
                best_step=trial.best_step,
                message=message,
                user_attrs=dict(trial.user_attrs),
                datetime_complete=time.time(),
            )
        # Only what was stored is the trial's state.
        trial._frozen = frozen
        trial.status = status
        trial.message = message
        if problem is not None:
            raise FatalTypeError(problem)
        return frozen

    def _frozen_view(self, trial: Trial) -> FrozenTrial:
        return dataclasses.replace(
            self.storage.get_trial(self.study_id, _number(trial)), status=trial.status, message=trial.message
        )

    # --- running ----------------------------------------------------------------------------------
    def run_trial(self, trial: Trial, fn: Callable[[Trial], Any]) -> FrozenTrial:
        """Run ``fn(trial)`` and tell its result; an exception ends the trial as ``outcome_of`` says."""
        try:
            with trial_time_limit(self.settings.trial_timeout):
                result = fn(trial)
        except Exception as exc:
            status, stop_search = outcome_of(exc)
            if stop_search:
                self.abort(trial, message_of(exc))
                raise
            logger.debug("Trial %s raised:\n%s", trial.trial_id, traceback.format_exc())
            return self.tell(trial, status=status, message=message_of(exc))
        return self.tell(trial, result)

    def abort(self, trial: Trial, message: str) -> FrozenTrial:
        """Record a trial as FAILED because the search stops with its error (no retry, no limit check)."""
        return self._finish(trial, TrialStatus.FAILED, message=message)

    def optimize(
        self,
        func: Callable[..., Any],
        /,
        n_trials: int | None = None,
        timeout: float | None = None,
        *,
        max_trials: int | None = None,
        callbacks: Sequence[StudyCallback] = (),
        verbose: int = 1,
        n_workers: int = 1,
        devices_per_worker: int | None = None,
    ) -> Study:
        """Run ``func(hp)`` (or ``func(hp, trial)``) on trial after trial.

        ``n_trials`` counts the trials this call runs; ``max_trials`` caps the study's total, shared by
        every worker; ``timeout`` (seconds) stops starting new trials. ``n_workers`` runs that many
        worker processes on this machine (the study must be in a file or a database), each seeing
        ``devices_per_worker`` GPUs of its own when set. Returns the study. (The loop itself is in
        ``study.loop``.)
        """
        from hyperknob.study import loop

        loop.optimize(
            self, func, n_trials, timeout, max_trials=max_trials, callbacks=callbacks, verbose=verbose,
            n_workers=n_workers, devices_per_worker=devices_per_worker,
        )
        return self

    _stop_requested = False

    def stop(self) -> None:
        """Start no new trial in this process's running search: the trial running now finishes and is
        recorded, then ``optimize``/``search`` return (from a callback, an objective or another thread).
        Other workers of the study are not affected."""
        self._stop_requested = True

    def address(self) -> StudyAddress:
        """What opens this study again in another process (plain, picklable data)."""
        return StudyAddress(
            url=self.storage.url, name=self.name, objective=self.objective, sampler=self.sampler, seed=self.seed,
            settings=dataclasses.replace(self.settings), project_dir=self.project_dir, pruner=self.pruner,
            constraints=[*self.constraints, *([self.constraint_fn] if self.constraint_fn else [])] or None,
        )

    @classmethod
    def from_address(cls, address: StudyAddress) -> Study:
        """Open the study ``address`` names (in a worker process, a Dask task)."""
        from hyperknob.storage import open_storage

        return cls(
            open_storage(address.url), address.name, objective=address.objective, sampler=address.sampler,
            seed=address.seed, settings=dataclasses.replace(address.settings), project_dir=address.project_dir,
            pruner=address.pruner, constraints=address.constraints,
        )

    def reopen(self) -> Study:
        """This study through a fresh connection to its storage: what a new worker process uses."""
        study = Study.from_address(self.address())
        study.score_trial_fn = self.score_trial_fn
        study.populate_hook = self.populate_hook
        return study

    def run_loop(
        self,
        next_trial: Callable[[], Trial | None],
        execute: Callable[[Trial], FrozenTrial],
        *,
        n_trials: int | None = None,
        timeout: float | None = None,
        callbacks: Sequence[StudyCallback] = (),
    ) -> None:
        """The worker loop of every door (``study.loop.run_loop``): take a trial, run and tell it,
        until told to stop."""
        from hyperknob.study import loop

        loop.run_loop(self, next_trial, execute, n_trials=n_trials, timeout=timeout, callbacks=callbacks)


def _number(trial: Trial) -> int:
    """The trial's number in storage. Every trial a study hands out has one (``Trial.number`` is
    None only before that), and the storage reports an unknown trial itself, so no check here."""
    return cast(int, trial.number)
