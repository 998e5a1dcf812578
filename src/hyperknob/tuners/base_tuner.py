"""KerasTuner's ``BaseTuner``: the study loop plus a ``run_trial`` that evaluates one configuration.

``search(*args, **kwargs)`` passes its arguments unchanged to ``run_trial``, which returns a
number, a dict of metrics or a Keras-style History. The loop, retries, failure limits and
storage are the study's; this class keeps KerasTuner's names and hooks around them.
"""

from __future__ import annotations

import copy
import logging
import os
import warnings
from typing import Any

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.hypermodel import HyperModel, get_hypermodel
from hyperknob.oracles.oracle import Oracle
from hyperknob.schedulers import make_pruner
from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.storage import Storage, open_storage
from hyperknob.study.display import default_callbacks
from hyperknob.study.outcomes import message_of, outcome_of
from hyperknob.study.results import convert_results, record_results
from hyperknob.study.time_limit import trial_time_limit
from hyperknob.study.trial import Trial
from hyperknob.study.warm_start import add_warm_start
from hyperknob.tuners.distributed import distributed_role, wait_for
from hyperknob.tuners.model_runner import declaration_scope

__all__ = ["BaseTuner"]

logger = logging.getLogger("hyperknob")

_CHIEF_WAIT_S = 600.0  # how long a distributed worker waits for its chief to create the study


class BaseTuner:
    """Runs a search: asks the oracle for trials, runs them with ``run_trial``, records the results.

    Args:
        oracle: the ``Oracle`` that proposes values.
        hypermodel: a ``HyperModel`` or a ``build(hp)`` function (optional when ``run_trial`` is
            overridden and builds nothing).
        directory, project_name: where the study lives (``directory/project_name/study.db``).
        overwrite: start afresh instead of resuming a study of the same name.
        storage: a storage URL (e.g. PostgreSQL) or ``":memory:"`` instead of the SQLite file.
        pruner: stops trials early from their per-epoch reports: ``"median"``,
            ``"successive_halving"`` or a ``Pruner`` (e.g. ``MedianPruner(n_warmup_steps=2)``).
        trial_timeout: seconds one trial may run; a longer one is stopped and recorded FAILED.
        enqueue_defaults: run the configuration of the build function's ``default=`` values first
            (``oracle.enqueue_trial(...)`` queues any other).
        warm_start: earlier studies (Studies, project folders, ``(storage_url, study_name)`` pairs)
            whose results guide the algorithm; their spaces and tasks may differ from this one.
        pareto: with a list ``objective``, search the Pareto front of the objectives instead of
            KerasTuner's sum (``oracle.get_best_trials()`` returns the front first).
        constraints: ``Constraint`` bounds on reported metrics (e.g.
            ``kt.Constraint("predict_latency_ms", "<=", 20)``) and/or a function of the trial
            returning values that must be <= 0; a trial that misses one is never the best.
    """

    def __init__(
        self,
        oracle: Oracle,
        hypermodel: Any = None,
        directory: str | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
        storage: str | Storage | None = None,
        tuner_id: str | None = None,
        logger: Any = None,
        pruner: Any = None,
        trial_timeout: float | None = None,
        enqueue_defaults: bool = False,
        warm_start: Any = None,
        pareto: bool = False,
        constraints: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise ValueError(f"Unrecognized arguments {sorted(kwargs)} for {type(self).__name__}.__init__().")
        if not isinstance(oracle, Oracle):
            raise ValueError(f"oracle must be an hyperknob Oracle, received {oracle!r}.")
        self.oracle = oracle
        oracle.pareto = oracle.pareto or pareto
        oracle.constraints = constraints if constraints is not None else oracle.constraints
        self.hypermodel: HyperModel | None = get_hypermodel(hypermodel)
        self.directory = directory or "."
        self.project_name = project_name or "untitled_project"
        self.tuner_id = tuner_id or os.environ.get("KERASTUNER_TUNER_ID", "tuner0")
        self._role = distributed_role()
        if self._role == "worker":
            # Only the chief may start the study afresh; a worker joins the study the chief made.
            overwrite = False
            store = open_storage(storage, self.project_dir, overwrite)
            wait_for(lambda: store.load_study(self.project_name) is not None, timeout=_CHIEF_WAIT_S,
                     what=f"the chief to create study '{self.project_name}' in {store.display_url}")
        self.study = oracle._attach(
            open_storage(storage, self.project_dir, overwrite), self.project_name, overwrite=overwrite,
            project_dir=self.project_dir,
        )
        if overwrite:
            self._remove_old_trial_folders()
        self.study.pruner = make_pruner(pruner)
        self.study.settings.trial_timeout = trial_timeout
        self.study.settings.validate()
        if not self.study.get_trials():
            self._populate_initial_space()
        if enqueue_defaults:
            self.study.enqueue_defaults()
        if warm_start:
            add_warm_start(self.study, warm_start)

    # --- paths ------------------------------------------------------------------------------------
    @property
    def project_dir(self) -> str:
        return os.path.join(self.directory, self.project_name)

    def get_trial_dir(self, trial_id: str) -> str:
        return os.path.join(self.project_dir, f"trial_{trial_id}")

    def _remove_old_trial_folders(self) -> None:
        """``overwrite=True`` starts afresh: the old trials' folders (checkpoints, logs) go with
        their records, so that the new trial_00 is not mistaken for the old one."""
        import shutil

        if not os.path.isdir(self.project_dir):
            return
        for entry in os.scandir(self.project_dir):
            if entry.name.startswith("trial_") and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)

    # --- the space --------------------------------------------------------------------------------
    def _populate_initial_space(self) -> None:
        """Build once with defaults to learn the space, then once per conditional branch never seen."""
        if self.hypermodel is None:
            return
        with declaration_scope():
            hp = self.oracle.get_space()
            self.hypermodel.declare_hyperparameters(hp)
            self.oracle.update_space(hp)
            self._activate_all_conditions()

    def _activate_all_conditions(self) -> None:
        assert self.hypermodel is not None
        once_active: list[Any] = []
        never_active: list[Any] = []
        hp = self.oracle.get_space()
        for _ in range(1000):  # each round activates at least one new scope
            self.hypermodel.build(hp)
            self.oracle.update_space(hp)
            for conditions in hp.active_scopes:
                if conditions not in once_active:
                    once_active.append(copy.deepcopy(conditions))
                if conditions in never_active:
                    never_active.remove(conditions)
            for conditions in hp.inactive_scopes:
                if conditions not in once_active and conditions not in never_active:
                    never_active.append(copy.deepcopy(conditions))
            if not never_active:
                return
            hp = self.oracle.get_space()
            target = never_active.pop(0)
            once_active.append(target)
            for condition in target:
                hp.values[condition.name] = condition.values[0]
            for definition in hp.space:
                if definition.name not in hp.values and hp.is_active(definition):
                    hp.values[definition.name] = definition.default
            for definition in hp.space:
                if not hp.is_active(definition.name):
                    hp.values.pop(definition.name, None)

    # --- the loop ---------------------------------------------------------------------------------
    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Run trials until the budget is spent or the space is exhausted; arguments go to ``run_trial``.

        ``n_workers=N`` runs N worker processes on this machine against the study (each trial in one
        of them); ``devices_per_worker=k`` gives each its own k GPUs. ``display=True`` shows the
        search's live panel while ``fit`` is quiet (``verbose=0``). These are taken out of the
        arguments passed on."""
        if self._role == "chief":
            self._wait_as_chief()
            return
        n_workers = fit_kwargs.pop("n_workers", 1)
        display = fit_kwargs.pop("display", None)
        devices_per_worker = fit_kwargs.pop("devices_per_worker", None)
        if n_workers != 1 or devices_per_worker:
            self._search_in_workers(n_workers, devices_per_worker, fit_args, fit_kwargs)
            return
        verbose = 0 if self._in_worker_process else fit_kwargs.get("verbose", 1)
        self.oracle.verbose = verbose
        # KerasTuner's rule: the search reports what fit reports. display=True shows the search's
        # live panel while fit stays quiet (verbose=0); display=False silences the search only.
        shown = 0 if self._in_worker_process else (display if display is not None else verbose)
        # Keras's progress bar (verbose 1 or "auto") owns the terminal: the display prints lines.
        live = verbose not in (1, True, "auto")
        self.on_search_begin()
        try:
            self.study.run_loop(
                self._next_trial,
                lambda trial: self._execute(trial, fit_args, fit_kwargs),
                callbacks=default_callbacks(shown, live=live),
            )
        finally:
            self.oracle._running.clear()
        self.on_search_end()

    _in_worker_process = False

    def _wait_as_chief(self) -> None:
        """KerasTuner's chief runs no trial: it returns once the workers have finished the search."""

        def over() -> bool:
            trials = self.study.get_trials()
            if any(t.status == TrialStatus.RUNNING for t in trials):
                return False
            budget = self.study.settings.max_trials
            if budget is not None and len(trials) >= budget:
                return True
            config = self.study.storage.load_study(self.project_name).config  # type: ignore[union-attr]
            return self.study._propose(trials, len(trials), config) == "exhausted"

        self.on_search_begin()
        wait_for(over, timeout=float("inf"), poll=1.0, what="the workers")
        self.on_search_end()

    def _search_in_workers(
        self, n_workers: int, devices_per_worker: int | None, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
    ) -> None:
        from hyperknob.study.parallel import check_shareable, run_study_workers

        check_shareable(self.study.storage, n_workers)
        self.on_search_begin()
        run_study_workers(self.study.storage, [lambda: self._search_as_worker(fit_args, fit_kwargs)] * n_workers,
                          devices_per_worker)
        self.on_search_end()

    def _search_as_worker(self, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> None:
        """In a forked worker: the same tuner over a fresh connection to the study."""
        pruner = self.study.pruner
        self.study = self.oracle._attach(
            open_storage(self.study.storage.url), self.project_name, overwrite=False, project_dir=self.project_dir
        )
        self.study.pruner = pruner
        self._in_worker_process = True
        self.search(*fit_args, **fit_kwargs)

    def _next_trial(self) -> Trial | None:
        self.pre_create_trial()
        trial = self.oracle.create_trial(self.tuner_id)
        if trial.status == TrialStatus.IDLE:
            self.study.stop_reason = "idle"
            return None
        return None if trial.status == TrialStatus.STOPPED else trial

    def _execute(self, trial: Trial, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> FrozenTrial:
        self.on_trial_begin(trial)
        self._try_run_and_update_trial(trial, *fit_args, **fit_kwargs)
        self.on_trial_end(trial)
        if trial._frozen is None:
            raise RuntimeError(
                f"Trial {trial.trial_id} was not recorded: an override of on_trial_end must call "
                "super().on_trial_end(trial)."
            )
        return trial._frozen

    def _try_run_and_update_trial(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> None:
        try:
            with trial_time_limit(self.study.settings.trial_timeout):
                self._run_and_update_trial(trial, *fit_args, **fit_kwargs)
            trial.status = TrialStatus.COMPLETED
            trial.message = None
        except Exception as exc:
            trial.status, stop_search = outcome_of(exc)
            trial.message = message_of(exc)
            if stop_search:
                self.oracle._forget(trial)
                self.study.abort(trial, trial.message)
                raise
            logger.debug("Trial %s raised:\n%s", trial.trial_id, trial.message)

    def _run_and_update_trial(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> None:
        results = self.run_trial(trial, *fit_args, **fit_kwargs)
        objective = self.oracle.objective
        if results is None and all(trial.metrics.last_step(n) is not None for n in objective.metric_names):
            # KerasTuner 1.4 still accepts metrics reported with oracle.update_trial() and no return.
            warnings.warn(
                "run_trial() reported its metrics with self.oracle.update_trial() and returned None; "
                "return the metrics instead (a float, a dict or a History).",
                DeprecationWarning,
                stacklevel=2,
            )
            return
        record_results(trial, convert_results(results, objective, f"{type(self).__name__}.run_trial()"))

    def run_trial(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> Any:
        """Evaluate ``trial.hyperparameters``; return a float, a dict of metrics or a History."""
        raise NotImplementedError(f"{type(self).__name__} must implement run_trial(trial, *args, **kwargs).")

    # --- hooks (override freely; call super() in on_trial_end) -------------------------------------
    def pre_create_trial(self) -> None:
        pass

    def on_trial_begin(self, trial: Trial) -> None:
        pass

    def on_trial_end(self, trial: Trial) -> None:
        """Record the trial's result in the study; overrides must call ``super().on_trial_end(trial)``."""
        self.oracle.end_trial(trial)

    def on_search_begin(self) -> None:
        pass

    def on_search_end(self) -> None:
        pass

    # --- results ----------------------------------------------------------------------------------
    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        return [t.hyperparameters for t in self.oracle.get_best_trials(num_trials)]

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        return self.oracle.get_best_trials(num_trials)

    def results_dataframe(self, **kwargs: Any) -> Any:
        """The trials as a pandas DataFrame: one row per trial, ``param_<name>`` columns, status,
        score, timings and error text (``hyperknob.report.trial_rows`` without pandas)."""
        from hyperknob.report.tables import results_dataframe

        return results_dataframe(self.study, **kwargs)

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        return [self.load_model(trial) for trial in self.oracle.get_best_trials(num_models)]

    def load_model(self, trial: Trial) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not save models; override load_model(trial).")

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        raise NotImplementedError

    @property
    def remaining_trials(self) -> int | None:
        return self.oracle.remaining_trials()

    def search_space_summary(self, extended: bool = False) -> None:
        """Print the search space (KerasTuner's format)."""
        hp = self.oracle.get_space()
        print("Search space summary")
        print(f"Default search space size: {len(hp.space)}")
        for p in hp.space:
            config = p.get_config()
            name = config.pop("name")
            if not extended:
                config.pop("conditions", None) if not config.get("conditions") else None
            print(f"{name} ({p.kind})")
            print(config)

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the best trials, best first, with their active hyperparameters and score."""
        print("Results summary")
        print(f"Results in {self.project_dir}")
        print(f"Showing {num_trials} best trials")
        print(f"{self.oracle.objective}")
        for trial in self.oracle.get_best_trials(num_trials):
            print()
            trial.summary()

    # KerasTuner keeps these; the study saves itself as it changes.
    def save(self) -> None:
        pass

    def reload(self) -> None:
        pass
