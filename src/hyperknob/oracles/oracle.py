"""KerasTuner's ``Oracle``: a thin facade over a sampler and a study.

KerasTuner's oracle holds the algorithm, the trials, their files and the console output at once.
Here it only keeps the settings the user passed and forwards every call to the study, which
stores trials, and to a sampler, which proposes values. A user's subclass that implements just
``populate_space(trial_id)`` becomes the sampler of its search.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.exceptions import FatalValueError
from hyperknob.objective import Objective, create_objective
from hyperknob.samplers import Sampler, TrialsView
from hyperknob.samplers.base import IDLE
from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.storage import Storage, trial_id_for
from hyperknob.study.study import Study, StudySettings
from hyperknob.study.trial import Trial

__all__ = ["ORACLE_ARGS", "Oracle", "oracle_args", "synchronized"]

# The settings every oracle takes; subclasses with their own signatures pass these on.
ORACLE_ARGS = (
    "objective",
    "max_trials",
    "hyperparameters",
    "allow_new_entries",
    "tune_new_entries",
    "seed",
    "max_retries_per_trial",
    "max_consecutive_failed_trials",
)


def oracle_args(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The base ``Oracle`` settings out of a subclass's ``locals()``."""
    return {name: arguments[name] for name in ORACLE_ARGS}


def synchronized(func: Any) -> Any:
    """KerasTuner's decorator for Oracle methods called from several threads: one call at a time
    per oracle. Studies are already safe across processes; this keeps threads in one process apart."""
    import functools
    import threading

    @functools.wraps(func)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        lock = self.__dict__.setdefault("_synchronized_lock", threading.RLock())
        with lock:
            return func(self, *args, **kwargs)

    return wrapped


class Oracle:
    """Decides the hyperparameter values of each trial and keeps the search's bookkeeping.

    Args follow KerasTuner: ``objective`` (name, ``Objective`` or list; None when trials return a
    float to minimise), ``max_trials``, ``hyperparameters`` (predefined or overriding entries),
    ``allow_new_entries``, ``tune_new_entries``, ``seed``, ``max_retries_per_trial``,
    ``max_consecutive_failed_trials``.
    """

    sampler_factory: type[Sampler] | None = None
    # Set by the tuner from its pareto= and constraints= arguments, before the study is opened.
    pareto: bool = False
    constraints: Any = None

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        seed: int | None = None,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
    ) -> None:
        self.objective: Objective = create_objective(objective)
        if hyperparameters is None:
            for flag, value in (("tune_new_entries", tune_new_entries), ("allow_new_entries", allow_new_entries)):
                if not value:
                    raise ValueError(
                        f"{flag}=False needs a predefined search space: pass hyperparameters=HyperParameters() "
                        "with the entries to tune."
                    )
        self._hyperparameters = hyperparameters.copy() if hyperparameters is not None else HyperParameters()
        self.max_trials = max_trials
        self.allow_new_entries = allow_new_entries
        self.tune_new_entries = tune_new_entries
        self.seed = seed
        self.max_retries_per_trial = max_retries_per_trial
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self.verbose: Any = 1
        self._study: Study | None = None
        self._running: dict[str, Trial] = {}  # tuner_id -> running trial
        self._view: TrialsView | None = None
        self._rng: np.random.Generator | None = None
        StudySettings(
            max_trials=max_trials,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        ).validate()

    # --- wiring -----------------------------------------------------------------------------------
    def _has_sampler(self) -> bool:
        """Built-in oracles have a sampler; a user's oracle implements ``populate_space`` instead."""
        return self.sampler_factory is not None or type(self).make_sampler is not Oracle.make_sampler

    def _uses_own_sampler(self) -> bool:
        return self._has_sampler() and type(self).populate_space is Oracle.populate_space

    def _make_sampler(self) -> Sampler | str:
        if self._uses_own_sampler():
            return self.make_sampler()
        return "random"  # only used for values first seen mid-trial; populate_space decides the rest

    def make_sampler(self) -> Sampler:
        """The sampler of a built-in oracle; oracles with settings override this to pass them on."""
        if self.sampler_factory is None:
            raise NotImplementedError("A custom Oracle must implement populate_space(trial_id).")
        return self.sampler_factory()

    def _attach(self, storage: Storage, name: str, *, overwrite: bool, project_dir: str | None) -> Study:
        """Open (or resume) the study this oracle drives."""
        predefined = self._hyperparameters if self._hyperparameters.space else None
        self._study = Study(
            storage,
            name,
            objective=self.objective,
            sampler=self._make_sampler(),
            seed=self.seed,
            settings=StudySettings(
                max_trials=self.max_trials,
                max_retries_per_trial=self.max_retries_per_trial,
                max_consecutive_failed_trials=self.max_consecutive_failed_trials,
                tune_new_entries=self.tune_new_entries,
                allow_new_entries=self.allow_new_entries,
            ),
            hyperparameters=predefined,
            overwrite=overwrite,
            project_dir=project_dir,
            pareto=self.pareto,
            constraints=self.constraints,
        )
        self.seed = self._study.seed
        self.objective = self._study.objective
        if not self._uses_own_sampler():
            self._study.populate_hook = self._populate_from_hook
        if type(self).score_trial is not Oracle.score_trial:
            self._study.score_trial_fn = self.score_trial
        return self._study

    @property
    def study(self) -> Study:
        if self._study is None:
            raise RuntimeError("This oracle is not attached to a study yet; pass it to a tuner first.")
        return self._study

    # --- the algorithm ----------------------------------------------------------------------------
    def populate_space(self, trial_id: str) -> dict[str, Any]:
        """Values for a new trial: ``{"status": "RUNNING", "values": {...}}``, or status "STOPPED" /
        "IDLE". Built-in oracles answer through their sampler; a custom oracle overrides this."""
        if not self._has_sampler():
            raise NotImplementedError("A custom Oracle must implement populate_space(trial_id).")
        view, rng = self._current()
        values = self.study.sampler.propose(self.study.space, view, rng)
        if values is None:
            return {"status": TrialStatus.STOPPED, "values": None}
        if values == IDLE:
            return {"status": TrialStatus.IDLE, "values": None}
        return {"status": TrialStatus.RUNNING, "values": values}

    def _current(self) -> tuple[TrialsView, np.random.Generator]:
        if self._view is not None and self._rng is not None:
            return self._view, self._rng
        trials = self.study.get_trials()
        number = len(trials)
        view = self.study.view_of(trials, number)
        return view, self.study._rng(number)

    def _populate_from_hook(self, view: TrialsView, rng: np.random.Generator) -> Any:
        self._view, self._rng = view, rng
        try:
            response = self.populate_space(trial_id_for(view.number, self.study.settings.max_trials))
        finally:
            self._view, self._rng = None, None
        status = TrialStatus(response.get("status", TrialStatus.RUNNING))
        if status == TrialStatus.STOPPED:
            return None
        if status == TrialStatus.IDLE:
            return IDLE
        values = response.get("values")
        if values is None:
            raise FatalValueError("populate_space() returned status RUNNING without 'values'.")
        return dict(values)

    def _random_values(self) -> dict[str, Any] | None:
        """KerasTuner's helper for custom oracles: random values not tried before, or None."""
        from hyperknob.samplers import RandomSampler

        view, rng = self._current()
        return RandomSampler().propose(self.study.space, view, rng)

    def score_trial(self, trial: Trial) -> None:
        """Set ``trial.score`` and ``trial.best_step``; override to score differently (an override
        may call ``super().score_trial(trial)`` first and adjust the result)."""
        self.study.default_score(trial)

    # --- trials -----------------------------------------------------------------------------------
    def create_trial(self, tuner_id: str) -> Trial:
        """The trial this tuner runs next; its status is STOPPED when the search is over."""
        if tuner_id in self._running:
            return self._running[tuner_id]
        trial = self.study.ask()
        if trial is None:
            reason = self.study.stop_reason
            status = TrialStatus.IDLE if reason == "idle" else TrialStatus.STOPPED
            return Trial(HyperParameters(), trial_id=None, status=status)
        self._running[tuner_id] = trial
        return trial

    def _trial_by_id(self, trial_id: str) -> Trial:
        for trial in self._running.values():
            if trial.trial_id == trial_id:
                return trial
        raise KeyError(f"Trial {trial_id!r} is not running in this process.")

    def update_trial(self, trial_id: str, metrics: Mapping[str, float], step: int = 0) -> Trial:
        """Report metrics of one step for a running trial."""
        trial = self._trial_by_id(trial_id)
        missing = [
            n for n in self.objective.metric_names if n not in metrics and self.objective.name != "default_objective"
        ]
        if missing:
            raise FatalValueError(
                f"Objective value missing in metrics reported to the Oracle, expected: {missing}, "
                f"found: {list(metrics)}."
            )
        self.study.report(trial, step, dict(metrics))
        return trial

    def _forget(self, trial: Trial) -> None:
        for tuner_id, running in list(self._running.items()):
            if running is trial or running.trial_id == trial.trial_id:
                del self._running[tuner_id]

    def end_trial(self, trial: Trial) -> FrozenTrial:
        """Record the trial's end; ``trial.status`` says how it ended (COMPLETED, INVALID, FAILED, STOPPED)."""
        self._forget(trial)
        if trial._frozen is not None and trial._frozen.status.is_finished:
            return trial._frozen  # already recorded (KerasTuner tolerates a second end_trial)
        status = trial.status if trial.status != TrialStatus.RUNNING else TrialStatus.COMPLETED
        return self.study.tell(trial, status=status, message=trial.message)

    def get_trial(self, trial_id: str) -> Trial:
        for frozen in self.study.get_trials():
            if frozen.trial_id == trial_id:
                return self.study.to_trial(frozen)
        raise KeyError(f"No trial with id {trial_id!r} in study '{self.study.name}'.")

    @property
    def trials(self) -> dict[str, Trial]:
        """All trials by id (during ``populate_space``: as the proposing step sees them)."""
        frozen = self._view.trials if self._view is not None else self.study.get_trials()
        return {t.trial_id: self.study.to_trial(t) for t in frozen}

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        """Best completed trials first, at most ``num_trials``; fewer (none at all) when fewer have
        completed. KerasTuner pads the list with unfinished and failed trials, so a search where
        every trial failed offered a failed trial's values as the best: nothing that failed, or has
        not finished, is ever offered as a best result here."""
        return [self.study.to_trial(t) for t in self.study.get_best_trials(num_trials)]

    def enqueue_trial(
        self, params: Mapping[str, Any], skip_if_exists: bool = False, user_attrs: Mapping[str, Any] | None = None
    ) -> None:
        """Run ``params`` (all or some of the hyperparameters) as one of the next trials."""
        self.study.enqueue_trial(params, skip_if_exists=skip_if_exists, user_attrs=user_attrs)

    def add_trial(self, params: Mapping[str, Any], value: float | Mapping[str, float]) -> Trial:
        """Record a result measured outside the search as a completed trial."""
        return self.study.to_trial(self.study.add_trial(params, value))

    def get_space(self) -> HyperParameters:
        if self._study is None:
            return self._hyperparameters.copy()
        return self.study.get_space()

    def update_space(self, hyperparameters: HyperParameters) -> None:
        self.study.update_space(hyperparameters)

    @property
    def hyperparameters(self) -> HyperParameters:
        return self.get_space()

    def remaining_trials(self) -> int | None:
        return self.study.remaining_trials()

    # KerasTuner API kept for ported code; the study is saved as it changes.
    def save(self) -> None:
        pass

    def reload(self) -> None:
        pass

    def get_state(self) -> dict[str, Any]:
        return {
            "objective": self.objective.get_config(),
            "max_trials": self.max_trials,
            "seed": self.seed,
            "hyperparameters": self.get_space().get_config(),
            "time": time.time(),
        }
