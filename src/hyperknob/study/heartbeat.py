"""Heartbeats: a running trial tells the storage it is alive, so a worker on another machine can
tell a trial whose worker died (killed, machine lost) from a long one.

Same-host deaths are seen at once from the process table (``workers.is_orphan``); heartbeats cover
the rest: a trial whose last beat is older than the study's grace period is taken over by the next
worker that asks, whichever machine it runs on. Clocks of the machines must agree to well within
the grace period (NTP does).
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

from hyperknob.exceptions import TrialNotOwnedError
from hyperknob.storage import Storage

__all__ = ["DEFAULT_INTERVAL", "Heartbeat", "default_grace"]

logger = logging.getLogger("hyperknob")

DEFAULT_INTERVAL = 30.0  # seconds between beats


def default_grace(interval: float) -> float:
    """How long without a beat before a trial counts as abandoned: several missed beats, so a
    busy database or a long garbage collection does not make a live worker look dead."""
    return 4.0 * interval


class Heartbeat:
    """Beats for one running trial from a daemon thread while the ``with`` block runs."""

    def __init__(self, storage: Storage, study_id: int, number: int, owner: str | None, interval: float | None) -> None:
        self._args = (storage, study_id, number, owner)
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        if self._interval and self._args[3] is not None:
            self._thread = threading.Thread(target=self._beat, name="hyperknob-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        storage, study_id, number, owner = self._args
        while not self._stop.wait(self._interval):
            try:
                storage.update_trial(study_id, number, owner=owner, heartbeat=time.time())
            except TrialNotOwnedError:
                return  # finished meanwhile, or taken over: nothing left to keep alive
            except Exception:  # noqa: BLE001 - a missed beat is not worth stopping the trial for
                logger.debug("Heartbeat of trial %s failed; trying again.", number, exc_info=True)
