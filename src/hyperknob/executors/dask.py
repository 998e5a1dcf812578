"""Workers as Dask tasks: a ``distributed.Client`` (a ``LocalCluster`` in tests, a scheduler's
address in production) runs N worker loops against one study.

Only the objective (or a function that builds the tuner) and the study's address travel through
Dask; each task opens its own connection to the storage, builds its own models, and its results go
to the study, never back through Dask. The storage must be one every Dask worker can reach:
PostgreSQL across machines, an SQLite file on a LocalCluster.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hyperknob.study.parallel import check_shareable, split_count
from hyperknob.study.settings import StudyAddress
from hyperknob.study.study import Study

__all__ = ["optimize_on_dask", "search_on_dask"]


def _client(client: Any) -> Any:
    try:
        import distributed
    except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
        raise ModuleNotFoundError(
            "Running workers on Dask needs dask.distributed: pip install 'hyperknob[dask]'."
        ) from exc
    if not isinstance(client, distributed.Client):
        raise TypeError(f"Expected a distributed.Client, received {client!r}.")
    return client


def _optimize_task(
    address: StudyAddress, func: Callable[..., Any], n_trials: int | None, timeout: float | None
) -> None:
    study = Study.from_address(address)
    try:
        study.optimize(func, n_trials=n_trials, timeout=timeout, verbose=0)
    finally:
        study.storage.close()


def optimize_on_dask(
    client: Any, study: Study, func: Callable[..., Any], *, n_workers: int, n_trials: int | None = None,
    timeout: float | None = None,
) -> Study:
    """Run ``study.optimize(func)`` as ``n_workers`` Dask tasks; returns when all have finished.

    ``n_trials`` is shared out among the tasks; ``max_trials`` stays the study's total."""
    client = _client(client)
    check_shareable(study.storage, max(n_workers, 2))
    address = study.address()
    futures = [
        client.submit(_optimize_task, address, func, quota, timeout, pure=False, key=f"hyperknob-{study.name}-{i}")
        for i, quota in enumerate(split_count(n_trials, n_workers))
    ]
    client.gather(futures)
    return study


def _search_task(make_tuner: Callable[[], Any], fit_args: tuple[Any, ...], fit_kwargs: Mapping[str, Any]) -> None:
    tuner = make_tuner()
    tuner.search(*fit_args, **{**fit_kwargs, "verbose": 0})


def search_on_dask(
    client: Any, make_tuner: Callable[[], Any], *fit_args: Any, n_workers: int, **fit_kwargs: Any
) -> None:
    """Run ``make_tuner().search(*fit_args, **fit_kwargs)`` as ``n_workers`` Dask tasks.

    ``make_tuner`` builds the tuner inside the task (Keras models are built there, never pickled);
    it must name a shared storage (``storage=`` a PostgreSQL URL, or an SQLite file on a machine's
    LocalCluster) and must not overwrite the study."""
    client = _client(client)
    if not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive integer, received {n_workers!r}.")
    futures = [client.submit(_search_task, make_tuner, fit_args, fit_kwargs, pure=False) for _ in range(n_workers)]
    client.gather(futures)
