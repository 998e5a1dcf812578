"""Ways to get a study: create or resume one, open one for reading, or run a search in one call."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from hyperknob.objective import Objective, objective_from_config
from hyperknob.samplers import Sampler
from hyperknob.schedulers import Pruner, sampler_from_config
from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.storage import Storage, open_storage
from hyperknob.study.callbacks import StudyCallback
from hyperknob.study.loop import adapt_objective
from hyperknob.study.settings import StudySettings, check_run_arguments
from hyperknob.study.study import Study
from hyperknob.study.warm_start import add_warm_start

__all__ = ["adapt_objective", "create_study", "load_study", "optimize"]


def create_study(
    directory: str | None = None,
    project_name: str | None = None,
    *,
    storage: str | Storage | None = None,
    objective: Any = None,
    algorithm: str | Sampler = "auto",
    seed: int | None = None,
    max_trials: int | None = None,
    hyperparameters: HyperParameters | None = None,
    max_retries_per_trial: int = 0,
    max_consecutive_failed_trials: int | None = 3,
    max_worker_deaths_per_trial: int = 3,
    trial_timeout: float | None = None,
    tune_new_entries: bool = True,
    allow_new_entries: bool = True,
    overwrite: bool = False,
    pruner: Pruner | str | None = None,
    heartbeat_interval: float | None = None,
    grace_period: float | None = None,
    enqueue_defaults: bool = False,
    warm_start: Sequence[Any] | None = None,
    pareto: bool = False,
    constraints: Any = None,
    direction: str | None = None,
    study_name: str | None = None,
) -> Study:
    """Create a study, or resume the one stored under ``directory/project_name``.

    Without ``storage`` the study is an SQLite file in ``directory/project_name`` (``directory``
    defaults to the current folder); ``storage=":memory:"`` keeps it in this process only; any
    SQLAlchemy URL (or the ``HYPERKNOB_STORAGE`` variable) points elsewhere. ``algorithm`` is
    ``"auto"`` (a GP for small unconditional spaces under 250 trials, TPE otherwise; see
    ``samplers.auto``), ``"gp"``, ``"tpe"``, ``"random"``, ``"grid"``, a schedule or a Sampler.
    A trial whose worker dies (killed, out of memory) runs again up to
    ``max_worker_deaths_per_trial`` times in all; ``max_retries_per_trial`` counts exceptions.
    ``trial_timeout`` (seconds) stops a trial that runs longer and records it FAILED.
    ``enqueue_defaults=True`` runs the parameters' ``default=`` values as the next trial
    (``Study.enqueue_trial`` queues any other configuration, ``Study.add_trial`` records a result).
    ``warm_start=[source, ...]`` (Studies, project folders, ``(storage_url, study_name)`` pairs)
    lets the algorithm learn from earlier studies, whose spaces and tasks may differ
    (``study.warm_start``); their trials are not this study's.
    ``pareto=True`` with a list ``objective`` searches the Pareto front (``study.best_trials``)
    instead of KerasTuner's sum; ``constraints=`` (``Constraint`` bounds on metrics, or a function
    of the trial returning values that must be <= 0) keeps trials that miss them from the best.
    Optuna's names work too: ``direction="maximize"`` (the returned float is maximised) and
    ``study_name=`` (the project's name).
    """
    project_name = _one_name(project_name, study_name)
    objective = _with_direction(objective, direction)
    project_name = project_name or "untitled_project"
    project_dir = os.path.join(directory or ".", project_name)
    store = open_storage(storage, project_dir, overwrite)
    settings = StudySettings(
        max_trials=max_trials,
        max_retries_per_trial=max_retries_per_trial,
        max_consecutive_failed_trials=max_consecutive_failed_trials,
        max_worker_deaths_per_trial=max_worker_deaths_per_trial,
        trial_timeout=trial_timeout,
        tune_new_entries=tune_new_entries,
        allow_new_entries=allow_new_entries,
        heartbeat_interval=heartbeat_interval,
        grace_period=grace_period,
    )
    study = Study(
        store, project_name, objective=objective, sampler=algorithm, seed=seed, settings=settings,
        hyperparameters=hyperparameters, overwrite=overwrite, project_dir=project_dir, pruner=pruner,
        pareto=pareto, constraints=constraints,
    )
    if enqueue_defaults:
        study.enqueue_defaults()
    if warm_start:
        add_warm_start(study, warm_start)
    return study


def _one_name(project_name: str | None, study_name: str | None) -> str | None:
    if study_name is not None and project_name is not None and study_name != project_name:
        raise ValueError(f"study_name={study_name!r} and project_name={project_name!r} name the same study: pass one.")
    return project_name if project_name is not None else study_name


def _with_direction(objective: Any, direction: str | None) -> Any:
    """Optuna's ``direction=``: the objective's direction (a float result, or a metric's name)."""
    if direction is None:
        return objective
    words = {"minimize": "min", "minimise": "min", "min": "min", "maximize": "max", "maximise": "max", "max": "max"}
    chosen = words.get(str(direction).lower())
    if chosen is None:
        raise ValueError(f"direction={direction!r}: use 'minimize' or 'maximize' (or 'min' / 'max').")
    if objective is None:
        return None if chosen == "min" else Objective("default_objective", "max")
    if isinstance(objective, str):
        return Objective(objective, chosen)
    raise ValueError(
        f"direction={direction!r} and objective={objective!r} both set a direction: give the direction inside "
        'the objective, e.g. hyperknob.Objective("val_loss", "min"), and leave direction= out.'
    )


def load_study(
    directory: str | None = None, project_name: str | None = None, *, storage: str | Storage | None = None
) -> Study:
    """Open an existing study for reading or for more trials; errors if there is none."""
    project_name = project_name or "untitled_project"
    project_dir = os.path.join(directory or ".", project_name)
    store = open_storage(storage, project_dir)
    record = store.load_study(project_name)
    if record is None:
        names = ", ".join(r.name for r in store.list_studies()) or "none"
        raise ValueError(f"No study named '{project_name}' in {store.display_url} (studies there: {names}).")
    config = record.config
    return Study(
        store, project_name, objective=objective_from_config(config["objective"]),
        sampler=sampler_from_config(config.get("algorithm", "random"), config.get("algorithm_config")),
        seed=config["seed"], settings=StudySettings(max_trials=config.get("max_trials")), project_dir=project_dir,
    )


def optimize(
    func: Callable[..., Any], /, n_trials: int | None = None, timeout: float | None = None, *, verbose: int = 1,
    max_trials: int | None = None, n_workers: int = 1, devices_per_worker: int | None = None,
    callbacks: Sequence[StudyCallback] = (), **study_kwargs: Any,
) -> Study:
    """One call: create (or resume) a study with ``create_study(**study_kwargs)`` and run ``func(hp)``
    (or ``func(hp, trial)``) on it, in ``n_workers`` processes if asked (``Study.optimize``);
    returns the study."""
    check_run_arguments(n_trials, timeout, n_workers, max_trials)
    study = create_study(max_trials=max_trials, **study_kwargs)
    return study.optimize(func, n_trials=n_trials, timeout=timeout, verbose=verbose, n_workers=n_workers,
                          devices_per_worker=devices_per_worker, callbacks=callbacks)
