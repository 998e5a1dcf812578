"""``trial_timeout``: a limit on the time one trial's code may run.

Python cannot stop a function from outside, so the limit is an alarm signal (``SIGALRM``): when it
fires, the trial's code gets a ``TrialTimeoutError`` at the next Python instruction, the trial is
recorded FAILED with that message, and the search goes on. Signals reach only a process's main
thread, which is where every hyperknob worker runs its trials (the plain loop, the tuners, forked
and ``hyperknob worker`` processes). Elsewhere (a thread, Windows) the limit is not enforced, and
a warning says so once; a worker that stops beating altogether is handled by the heartbeat.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from typing import Any

from hyperknob.exceptions import FailedTrialError

__all__ = ["TrialTimeoutError", "trial_time_limit"]

logger = logging.getLogger("hyperknob")
_warned = False


class TrialTimeoutError(FailedTrialError):
    """The trial ran longer than ``trial_timeout`` seconds: FAILED, not retried."""


@contextlib.contextmanager
def trial_time_limit(seconds: float | None) -> Iterator[None]:
    """Run the block with an alarm after ``seconds`` (None: no limit)."""
    global _warned
    if seconds is None:
        yield
        return
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        if not _warned:
            logger.warning("trial_timeout=%s is not enforced here: trials run outside a main thread.", seconds)
            _warned = True
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise TrialTimeoutError(f"The trial ran longer than trial_timeout={seconds:g} s and was stopped.")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
