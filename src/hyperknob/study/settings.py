"""A study's limits and liveness settings (checked once when the study is opened), and its address:
what opens the same study in another process."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hyperknob.objective import Objective
    from hyperknob.samplers import Sampler
    from hyperknob.schedulers import Pruner

__all__ = ["StudyAddress", "StudySettings", "check_run_arguments"]


@dataclasses.dataclass
class StudySettings:
    max_trials: int | None = None
    max_retries_per_trial: int = 0
    max_consecutive_failed_trials: int | None = 3
    # Runs of one trial that may end with its worker's death (a kill, an OOM, a lost machine) before
    # it is recorded FAILED; independent of max_retries_per_trial, which counts exceptions.
    max_worker_deaths_per_trial: int = 3
    trial_timeout: float | None = None  # seconds one trial's code may run (study/time_limit.py)
    tune_new_entries: bool = True
    allow_new_entries: bool = True
    heartbeat_interval: float | None = None  # None: the study's stored setting (30 s when new)
    grace_period: float | None = None  # None: the study's stored setting (4 x the interval when new)

    def validate(self) -> None:
        for name in ("heartbeat_interval", "grace_period"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise ValueError(f"{name} must be a positive number of seconds or None, received {value!r}.")
        if self.max_trials is not None and (not isinstance(self.max_trials, int) or self.max_trials < 1):
            raise ValueError(f"max_trials must be a positive integer or None, received {self.max_trials!r}.")
        if not isinstance(self.max_retries_per_trial, int) or self.max_retries_per_trial < 0:
            raise ValueError(f"max_retries_per_trial must be an integer >= 0, received {self.max_retries_per_trial!r}.")
        limit_s = self.trial_timeout
        if limit_s is not None and (isinstance(limit_s, bool) or not isinstance(limit_s, (int, float)) or limit_s <= 0):
            raise ValueError(f"trial_timeout must be a positive number of seconds or None, received {limit_s!r}.")
        deaths = self.max_worker_deaths_per_trial
        if isinstance(deaths, bool) or not isinstance(deaths, int) or deaths < 1:
            raise ValueError(f"max_worker_deaths_per_trial must be an integer >= 1, received {deaths!r}.")
        limit = self.max_consecutive_failed_trials
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ValueError(f"max_consecutive_failed_trials must be an integer >= 1 or None, received {limit!r}.")


@dataclasses.dataclass(frozen=True)
class StudyAddress:
    """A study's storage URL, name and settings, without a connection: plain, picklable data from
    which a worker process or a Dask task opens the same study (``Study.from_address``)."""

    url: str
    name: str
    objective: Objective
    sampler: Sampler
    seed: int
    settings: StudySettings
    project_dir: str | None
    pruner: Pruner | None
    constraints: Any = None  # Constraint bounds and at most one function (pickled only to reach a worker)


def check_run_arguments(
    n_trials: object, timeout: object, n_workers: object = 1, max_trials: object = None
) -> None:
    """Refuse what would be silently wrong: 2.5 trials run as 3, -1 trials or a negative timeout
    as none at all."""

    def positive_int(name: str, value: object) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive integer or None, received {value!r}.")

    positive_int("n_trials", n_trials)
    positive_int("max_trials", max_trials)
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive integer, received {n_workers!r}.")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds or None, received {timeout!r}.")
