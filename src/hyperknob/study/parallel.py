"""Several worker processes on one machine, meeting only through the study's storage.

Each worker is a forked copy of the caller (so the objective, the hypermodel and the data need no
pickling) that opens its own connection to the storage and runs the ordinary worker loop; the
storage's atomic claims keep trial numbers unique and the budget exact. With GPUs, each worker sees
only its own devices. Ctrl-C stops every worker; trials cut off mid-run are taken over when the
search is started again.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hyperknob import _fork_safety
from hyperknob.exceptions import FatalRuntimeError
from hyperknob.storage import Storage
from hyperknob.storage.memory import InMemoryStorage

__all__ = [
    "check_accelerator_untouched",
    "check_shareable",
    "device_groups",
    "optimize_in_workers",
    "run_study_workers",
    "run_workers",
    "split_count",
]

if TYPE_CHECKING:
    from hyperknob.study.callbacks import StudyCallback
    from hyperknob.study.study import Study

logger = logging.getLogger("hyperknob")


def optimize_in_workers(
    study: Study, func: Callable[..., Any], n_trials: int | None, timeout: float | None,
    callbacks: Sequence[StudyCallback], n_workers: int, devices_per_worker: int | None, verbose: int,
) -> None:
    """``study.optimize`` in ``n_workers`` forked processes, ``n_trials`` shared out among them."""
    check_shareable(study.storage, n_workers)

    def target(quota: int | None) -> Callable[[], None]:
        def run() -> None:
            study.reopen().optimize(func, n_trials=quota, timeout=timeout, callbacks=tuple(callbacks), verbose=0)

        return run

    run_study_workers(study.storage, [target(quota) for quota in split_count(n_trials, n_workers)], devices_per_worker)
    if verbose:
        done = sum(t.status.is_finished for t in study.get_trials())
        logger.info("Search '%s': %d trials finished, %d workers.", study.name, done, n_workers)


def run_study_workers(storage: Storage, targets: Sequence[Callable[[], None]], devices_per_worker: int | None) -> None:
    """Fork one worker per target on a study every process can open, each with its own GPUs."""
    check_shareable(storage, len(targets))
    run_workers(targets, device_groups(len(targets), devices_per_worker, os.environ.get("CUDA_VISIBLE_DEVICES")))


def check_shareable(storage: Storage, n_workers: int) -> None:
    if not isinstance(n_workers, int) or isinstance(n_workers, bool) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive integer, received {n_workers!r}.")
    if n_workers > 1 and (isinstance(storage, InMemoryStorage) or storage.url.endswith(":memory:")):
        raise ValueError(
            f"n_workers={n_workers} needs a storage every worker process can open, but this study is in memory. "
            "Use the default SQLite file (directory=, project_name=) or a PostgreSQL URL."
        )
    if n_workers > 1 and "fork" not in multiprocessing.get_all_start_methods():
        raise RuntimeError(
            "n_workers > 1 forks worker processes, which this platform cannot do; start one process per worker "
            "on the same storage instead (each joins the study)."
        )


def split_count(total: int | None, n_workers: int) -> list[int | None]:
    """``total`` trials shared out among workers (None: no limit for any)."""
    if total is None:
        return [None] * n_workers
    return [total // n_workers + (1 if i < total % n_workers else 0) for i in range(n_workers)]


def device_groups(n_workers: int, devices_per_worker: int | None, visible: str | None) -> list[str | None]:
    """The ``CUDA_VISIBLE_DEVICES`` of each worker: consecutive groups of ``devices_per_worker`` of
    the devices this process may use (all GPUs when unset), round robin when there are too few."""
    if not devices_per_worker:
        return [None] * n_workers
    if visible is not None and visible.strip():
        devices = [d.strip() for d in visible.split(",") if d.strip()]
    else:
        devices = [str(i) for i in range(_count_gpus())]
    if not devices:
        raise RuntimeError("devices_per_worker is set, but no GPU is visible to this process.")
    groups: list[str | None] = []
    for worker in range(n_workers):
        start = worker * devices_per_worker
        groups.append(",".join(devices[(start + k) % len(devices)] for k in range(devices_per_worker)))
    return groups


def _count_gpus() -> int:
    import subprocess

    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def run_workers(targets: Sequence[Callable[[], None]], devices: Sequence[str | None] | None = None) -> None:
    """Run each target in its own forked process and wait for all; Ctrl-C stops them all.

    A worker that raises makes the whole call raise once every worker has stopped.
    """
    check_accelerator_untouched(wants_gpus=bool(devices and any(devices)))
    context = multiprocessing.get_context("fork")
    processes = []
    for index, target in enumerate(targets):
        device = devices[index] if devices else None
        process = context.Process(target=_child, args=(target, device), name=f"hyperknob-worker-{index}", daemon=False)
        process.start()
        processes.append(process)
    try:
        for process in processes:
            process.join()
    except KeyboardInterrupt:
        for process in processes:
            if process.is_alive() and process.pid is not None:  # (a started process has its pid)
                os.kill(process.pid, signal.SIGINT)
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
                process.join()
        raise
    failed = [p for p in processes if p.exitcode != 0]
    if failed:
        reasons = "; ".join(worker_end(p.name, p.exitcode) for p in failed)
        raise FatalRuntimeError(f"{len(failed)} of {len(processes)} workers failed: {reasons}.")


def worker_end(name: str, exitcode: int | None) -> str:
    """Why a worker process ended, in words: a signal leaves no traceback behind, so say which and
    what usually sends it."""
    if exitcode is None or exitcode >= 0:
        return f"{name} exited with code {exitcode} (its error is above)"
    try:
        signame = signal.Signals(-exitcode).name
    except ValueError:
        signame = f"signal {-exitcode}"
    cause = {
        "SIGKILL": "often the out-of-memory killer (see `dmesg`) or a `kill -9`",
        "SIGSEGV": "a crash in native code (a framework or driver)",
        "SIGTERM": "a `kill` or a job scheduler ending it",
        "SIGABRT": "an abort in native code",
    }.get(signame, "sent from outside")
    return (
        f"{name} was killed by {signame} ({cause}); it left no error, and its trial runs again "
        "when the study next runs (completed trials are kept)"
    )


def check_accelerator_untouched(wants_gpus: bool = False) -> None:
    """Refuse to fork workers from a process that has initialised CUDA: each child would fail at
    its first GPU operation ("Cannot re-initialize CUDA in forked subprocess", "CUDA error:
    initialization error"), seen with Keras on PyTorch on an H200. Frameworks are looked up in
    ``sys.modules``, never imported."""
    used = []
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    if cuda is not None and getattr(cuda, "is_initialized", lambda: False)():
        used.append("PyTorch")
    bridge = sys.modules.get("jax._src.xla_bridge")
    backends = getattr(bridge, "_backends", None) or {}
    if any(name not in ("cpu", "interpreter") for name in backends):
        used.append("JAX")
    started = ["JAX"] if backends and "JAX" not in used else []
    eager = sys.modules.get("tensorflow.python.eager.context")
    context = getattr(eager, "context_safe", lambda: None)()
    if context is not None and getattr(context, "_initialized", False):
        started.append("TensorFlow")
    if started:
        # Also on the CPU: their thread pools do not survive a fork, and the forked workers hang
        # at their first operation (seen with Keras on JAX and on TensorFlow: the tuner's
        # space-declaring build starts the framework in this process).
        names = " and ".join(started)
        raise FatalRuntimeError(
            f"{names} has started in this process, and {names} does not work in forked processes (the "
            "workers would hang at their first operation), so search(n_workers=...) cannot fork workers here. "
            "Start each worker as its own process instead: run the same script in N terminals or jobs "
            "(each joins the study and max_trials is shared), or use `hyperknob worker`; or use the "
            "PyTorch backend (KERAS_BACKEND=torch) for forked workers."
        )
    if used:
        raise FatalRuntimeError(
            f"{' and '.join(used)} already initialised the GPU in this process, so the forked workers could "
            "not use it. Build models and move tensors to the GPU only inside build(hp), fit() or the "
            "objective (the tuner builds its space-declaring models on the CPU), or start each worker "
            "as its own process with `hyperknob worker` or the KERASTUNER_* variables."
        )
    if wants_gpus and _fork_safety.TORCH_LOADED_FIRST:
        raise FatalRuntimeError(
            "PyTorch (or Keras on PyTorch) was imported before hyperknob, so it may have initialised the CUDA "
            "driver, and GPU workers forked from this process would fail with 'CUDA error: initialization "
            "error'. Import hyperknob before keras and torch, or set PYTORCH_NVML_BASED_CUDA_CHECK=1 in the "
            "environment before starting Python."
        )


def _child(target: Callable[[], None], device: str | None) -> None:
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = device
    code = 0
    try:
        target()
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # noqa: BLE001 - reported, then the parent raises
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    # Leave without running the parent's finalisers (its storage connections belong to the parent).
    os._exit(code)
