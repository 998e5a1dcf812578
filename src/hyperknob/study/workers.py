"""Who runs a trial, and how to tell that a RUNNING trial's worker is gone.

A worker id is ``host:pid:start-token`` (``host`` includes the pid namespace), where ``start`` is
the process's start time (Linux) so that a recycled pid is not mistaken for the original worker. A
trial left RUNNING is taken over when its worker is on this host and its process no longer exists
(or is a zombie, or the pid now belongs to another process), or is this very process but its search
has ended (an interrupted ``search()`` in a notebook). A trial whose worker is on another host is
taken over when its last heartbeat is older than the study's grace period (see ``heartbeat.py``).
"""

from __future__ import annotations

import os
import socket
import time
import uuid

from hyperknob._types import FrozenTrial

__all__ = ["LIVE_WORKERS", "is_orphan", "new_worker_id", "release_worker"]

def _host_id() -> str:
    """The hostname, plus the pid namespace where there is one: containers that share a hostname
    (host networking) have separate pids, and must not judge each other's workers."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return socket.gethostname().replace(":", "_")
    return f"{socket.gethostname().replace(':', '_')}#{namespace}"


HOST = _host_id()
LIVE_WORKERS: set[str] = set()


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), or None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if len(fields) < 20:
        return None
    if fields[0] == b"Z":  # a zombie: dead, only waiting to be reaped
        return "zombie"
    return fields[19].decode()


def new_worker_id() -> str:
    pid = os.getpid()
    worker = f"{HOST}:{pid}:{_start_time(pid) or 0}-{uuid.uuid4().hex[:12]}"
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


def is_orphan(trial: FrozenTrial, grace: float | None = None, now: float | None = None) -> bool:
    """Whether ``trial``'s worker is gone: dead on this host, or silent for longer than ``grace``
    seconds (its last heartbeat) on any host. A live process that stopped beating (frozen by
    SIGSTOP, stuck in a debugger, swapped out) has abandoned its trial as surely as a dead one: the
    trial runs again, and the late worker's result is refused (its writes are owner-checked)."""
    worker = trial.worker or ""
    parts = worker.rsplit(":", 2)
    silent = grace is not None and trial.heartbeat is not None and (
        (time.time() if now is None else now) - trial.heartbeat > grace
    )
    if len(parts) != 3 or parts[0] != HOST:
        return silent
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return worker not in LIVE_WORKERS
    if not _pid_alive(pid) or silent:
        return True
    started, _, _ = parts[2].partition("-")
    start = _start_time(pid)
    return start == "zombie" or (start is not None and started not in ("0", start))
