"""KerasTuner's distributed mode, over the study's storage instead of a gRPC chief.

A ported script keeps its environment: ``KERASTUNER_TUNER_ID`` (``chief`` or a worker's id),
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT``. Workers run trials on the shared study
(the project's SQLite file on one machine, ``HYPERKNOB_STORAGE`` or ``storage=`` with PostgreSQL
across machines); the chief runs none and returns from ``search()`` when the search is over. The IP
and port are accepted and not used: no process serves the others, so none is a single point of
failure.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

__all__ = ["distributed_role", "wait_for"]

TUNER_ID = "KERASTUNER_TUNER_ID"
ORACLE_IP = "KERASTUNER_ORACLE_IP"
ORACLE_PORT = "KERASTUNER_ORACLE_PORT"


def distributed_role() -> str | None:
    """``"chief"``, ``"worker"``, or None outside KerasTuner's distributed mode (its rules)."""
    if ORACLE_IP not in os.environ:
        return None
    if ORACLE_PORT not in os.environ:
        raise RuntimeError(
            f'Environment variable "{ORACLE_IP}" was set, but "{ORACLE_PORT}" was not. Please specify a port.'
        )
    if TUNER_ID not in os.environ:
        raise RuntimeError(
            f'Environment variable "{ORACLE_IP}" was set, but "{TUNER_ID}" was not. '
            "Please specify an ID for each tuner."
        )
    return "chief" if "chief" in os.environ[TUNER_ID] else "worker"


def wait_for(condition: Callable[[], bool], timeout: float, poll: float = 0.5, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Waited {timeout:.0f} s for {what}.")
        time.sleep(poll)
