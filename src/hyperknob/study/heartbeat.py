"""Heartbeats: a running trial tells the storage it is alive, so a worker on another machine can
tell a trial whose worker died (killed, machine lost) from a long one.

Same-host deaths are seen at once from the process table (``workers.is_orphan``); heartbeats cover
the rest: a trial whose last beat is older than the study's grace period is taken over by the next
worker that asks, whichever machine it runs on. Clocks of the machines must agree to well within
the grace period (NTP does).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator

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
    """Beats, from one daemon thread per worker loop (``start`` to ``stop``), for the trial the loop
    is running (``beating``); a thread per trial would cost more than the rest of a cheap trial."""

    def __init__(self, storage: Storage, study_id: int, interval: float | None) -> None:
        self._storage = storage
        self._study_id = study_id
        self._interval = interval
        self._current: tuple[int, str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._interval:
            self._thread = threading.Thread(target=self._beat, name="hyperknob-heartbeat", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @contextlib.contextmanager
    def beating(self, number: int | None, owner: str | None) -> Iterator[None]:
        """Beat for trial ``number`` (owned by ``owner``) while the block runs."""
        self._current = None if number is None or owner is None else (number, owner)
        try:
            yield
        finally:
            self._current = None

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            current = self._current
            if current is None:
                continue
            number, owner = current
            try:
                self._storage.update_trial(self._study_id, number, owner=owner, heartbeat=time.time())
            except TrialNotOwnedError:
                pass  # finished meanwhile, or taken over: nothing left to keep alive
            except Exception:  # noqa: BLE001 - a missed beat is not worth stopping the trial for
                logger.debug("Heartbeat of trial %s failed; trying again.", number, exc_info=True)
