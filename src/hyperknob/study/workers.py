"""Who runs a trial, and how to tell that a RUNNING trial's worker is gone.

A worker id is ``host:pid:token``. A trial left RUNNING is taken over when its worker is on this
host and its process no longer exists, or is this very process but its search has ended (an
interrupted ``search()`` in a notebook). Trials of workers on other hosts are left alone here;
heartbeats decide for those.
"""

from __future__ import annotations

import os
import socket
import uuid

from hyperknob._types import FrozenTrial

__all__ = ["is_orphan", "new_worker_id", "release_worker", "LIVE_WORKERS"]

HOST = socket.gethostname()
LIVE_WORKERS: set[str] = set()


def new_worker_id() -> str:
    worker = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    LIVE_WORKERS.add(worker)
    return worker


def release_worker(worker: str) -> None:
    LIVE_WORKERS.discard(worker)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_orphan(trial: FrozenTrial) -> bool:
    worker = trial.worker or ""
    parts = worker.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != HOST:
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return worker not in LIVE_WORKERS
    return not _pid_alive(pid)
