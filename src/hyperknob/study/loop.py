"""The loop that runs trials: ``optimize`` (one call, in this process or in worker processes) and
``run_loop``, the worker loop every door shares (the plain door, the tuners, each worker process).

The study itself only asks and tells (``study.study``); this module drives it and wires in the
display, which is one more callback the caller supplies (``study.display.default_callbacks``).
"""

from __future__ import annotations

import inspect
import logging
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.exceptions import TrialNotOwnedError
from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.study.callbacks import StudyCallback
from hyperknob.study.display import default_callbacks
from hyperknob.study.heartbeat import Heartbeat
from hyperknob.study.parallel import optimize_in_workers
from hyperknob.study.settings import check_run_arguments
from hyperknob.study.trial import Trial
from hyperknob.study.workers import new_worker_id, release_worker

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = ["adapt_objective", "optimize", "run_loop"]

logger = logging.getLogger("hyperknob")

_IDLE_SLEEP_S = 0.2


def adapt_objective(objective: Callable[..., Any]) -> Callable[[HyperParameters, Trial], Any]:
    """``objective(hp, trial)`` whether the user wrote ``objective(hp)`` or ``objective(hp, trial)``."""
    try:
        params = [
            p for p in inspect.signature(objective).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    if len(params) >= 2:
        return lambda hp, trial: objective(hp, trial)
    return lambda hp, trial: objective(hp)


def optimize(
    study: Study,
    func: Callable[..., Any],
    n_trials: int | None = None,
    timeout: float | None = None,
    *,
    max_trials: int | None = None,
    callbacks: Sequence[StudyCallback] = (),
    verbose: int = 1,
    n_workers: int = 1,
    devices_per_worker: int | None = None,
) -> None:
    """``Study.optimize``: run ``func`` on trial after trial, here or in ``n_workers`` processes."""
    check_run_arguments(n_trials, timeout, n_workers, max_trials)
    if max_trials is not None:
        study.settings.max_trials = max_trials
        study.storage.update_study_config(study.study_id, lambda c: {**c, "max_trials": max_trials})
    if n_workers != 1 or devices_per_worker:
        optimize_in_workers(study, func, n_trials, timeout, callbacks, n_workers, devices_per_worker, verbose)
        return
    call = adapt_objective(func)
    run_loop(
        study,
        study.ask,
        lambda trial: study.run_trial(trial, lambda t: call(t.hyperparameters, t)),
        n_trials=n_trials,
        timeout=timeout,
        callbacks=[*default_callbacks(verbose, n_trials), *callbacks],
    )


def run_loop(
    study: Study,
    next_trial: Callable[[], Trial | None],
    execute: Callable[[Trial], FrozenTrial],
    *,
    n_trials: int | None = None,
    timeout: float | None = None,
    callbacks: Sequence[StudyCallback] = (),
) -> None:
    """Take a trial, run and tell it, until told to stop.

    ``next_trial`` returns None when there is nothing to run (``study.stop_reason`` says why;
    'idle' waits and asks again); ``execute`` runs one trial and returns its stored record.
    """
    started = time.monotonic()
    done = 0
    study.stop_reason = None
    study.stop_error = None
    study._stop_requested = False
    # Retries left over from an interrupted loop belong to a released worker id: their trials
    # are orphans now and are claimed again like any other.
    study._retry_queue.clear()
    # Release the id that earlier asks used: a trial asked and abandoned outside a loop is an
    # orphan from now on, and is claimed again (by this loop or another worker).
    release_worker(study.worker)
    study.worker = new_worker_id()
    for cb in callbacks:
        cb.on_search_begin(study)
    heart = Heartbeat(study.storage, study.study_id, study.heartbeat_interval)
    heart.start()
    try:
        while n_trials is None or done < n_trials:
            if timeout is not None and time.monotonic() - started >= timeout:
                study.stop_reason = "timeout"
                break
            if study._stop_requested:
                study.stop_reason = "stopped"
                break
            trial = next_trial()
            if trial is None:
                if study.stop_reason == "idle":
                    time.sleep(_IDLE_SLEEP_S)
                    continue
                break
            for cb in callbacks:
                cb.on_trial_begin(study, trial)
            with heart.beating(trial.number, trial._worker):
                try:
                    frozen = execute(trial)
                except KeyboardInterrupt:
                    if not trial.status.is_finished:
                        _leave_to_run_again(study, trial)
                    raise
                except TrialNotOwnedError as exc:
                    # Taken over while this worker was silent (frozen, suspended): the trial is the
                    # other worker's now, and this one goes on with the next.
                    logger.warning("Trial %s: %s Going on with the next trial.", trial.trial_id, exc)
                    continue
            for cb in callbacks:
                cb.on_trial_end(study, trial, frozen)
            if frozen.status != TrialStatus.INVALID:
                done += 1
    except KeyboardInterrupt:
        study.stop_reason = "interrupted"
        raise
    except Exception as exc:
        study.stop_reason = "error"
        study.stop_error = exc
        raise
    finally:
        heart.stop()
        # The worker id dies with the loop, so a trial this loop left RUNNING (Ctrl-C) is taken
        # over by the next search, in this process or another.
        release_worker(study.worker)
        study.worker = new_worker_id()  # ask() after the loop claims under a live id
        for cb in callbacks:
            cb.on_search_end(study)
    if study.stop_reason == "exhausted":
        logger.info("Search '%s' stopped: %s.", study.name, study.sampler.exhausted_message())


def _leave_to_run_again(study: Study, trial: Trial) -> None:
    """The user stopped the search (Ctrl-C) inside ``trial``: it stays to run again at the next
    search, and the interrupted run is not counted against it (an interruption is not a failure)."""
    if trial.number is None:
        return
    try:
        study.storage.update_trial(
            study.study_id, trial.number, owner=trial._worker, run_count=max(trial.run_count - 1, 0),
            message="interrupted by the user; it runs again at the next search",
        )
    except Exception:  # noqa: BLE001 - the interruption itself must reach the user
        logger.debug("Could not mark trial %s interrupted:\n%s", trial.trial_id, traceback.format_exc())
