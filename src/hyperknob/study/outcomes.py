"""How a trial ends: the status an exception leads to, the statuses ``tell`` accepts, and whether
what a trial holds can be stored at all."""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.exceptions import (
    FailedTrialError,
    FatalError,
    FatalRuntimeError,
    SearchSpaceError,
    TrialPruned,
)
from hyperknob.storage.base import dumps

if TYPE_CHECKING:
    from hyperknob.study.trial import Trial

__all__ = ["finishing_status", "message_of", "outcome_of", "storable", "unstorable"]


def storable(value: Any) -> bool:
    try:
        dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def unstorable(trial: Trial) -> str | None:
    for what, data in (("hyperparameter values", trial.hyperparameters.values), ("user_attrs", trial.user_attrs)):
        for key, value in data.items():
            if not isinstance(key, str):
                return (
                    f"Trial {trial.trial_id}: {what} key {key!r} ({type(key).__name__}) cannot be stored; "
                    "keys must be strings."
                )
            if not storable(value):
                return (
                    f"Trial {trial.trial_id}: {what}[{key!r}] = {value!r} ({type(value).__name__}) cannot be stored; "
                    "a study holds JSON data only (numbers, strings, booleans, lists and dicts of those)."
                )
    return None


_FINISHING = (TrialStatus.COMPLETED, TrialStatus.INVALID, TrialStatus.FAILED, TrialStatus.STOPPED)


def finishing_status(status: TrialStatus | str | None) -> TrialStatus | None:
    if status is None:
        return None
    try:
        parsed = TrialStatus(status.upper() if isinstance(status, str) else status)
    except ValueError:
        parsed = None
    if parsed not in _FINISHING:
        names = ", ".join(s.value for s in _FINISHING)
        raise ValueError(f"tell(status={status!r}): a trial ends with one of {names}.")
    return parsed


def outcome_of(exc: BaseException) -> tuple[TrialStatus, bool]:
    """How a trial that raised ``exc`` ends, and whether the whole search stops with it.

    Pruned: STOPPED. ``FailedTrialError``: FAILED, no retry. A ``Fatal*`` error or a wrong
    hyperparameter definition (the same code would fail again): FAILED, and the search stops.
    Anything else: INVALID, retried while ``max_retries_per_trial`` allows.
    """
    if isinstance(exc, TrialPruned):
        return TrialStatus.STOPPED, False
    if isinstance(exc, (FatalError, SearchSpaceError)):
        return TrialStatus.FAILED, True
    if isinstance(exc, FailedTrialError):
        return TrialStatus.FAILED, False
    return TrialStatus.INVALID, False


def message_of(exc: BaseException) -> str:
    if isinstance(exc, TrialPruned):
        return str(exc) or "pruned"
    return "".join(traceback.format_exception(exc))


def check_consecutive_failures(trials: Sequence[FrozenTrial], limit: int | None, message: str | None) -> None:
    """Stop the search (``FatalRuntimeError``) when the last ``limit`` finished trials all failed:
    a search whose every trial fails is a bug in the user's code, not bad luck."""
    if not limit:
        return
    finished = [t for t in trials if t.status.is_finished and t.datetime_complete is not None]
    finished.sort(key=lambda t: t.datetime_complete)  # type: ignore[arg-type, return-value]
    last = finished[-limit:]
    if len(last) == limit and all(t.status == TrialStatus.FAILED for t in last):
        raise FatalRuntimeError(
            f"Number of consecutive failures exceeded the limit of {limit}. The last failed trial said:\n"
            f"{message or ''}"
        )


MAX_MESSAGE_CHARS = 20_000  # a trial's stored message: its start and its end (a traceback's last lines)


def stored_message(message: Any) -> str | None:
    """A trial's message as stored: at most ``MAX_MESSAGE_CHARS`` characters, the middle of a longer
    one replaced by a note that says how much was cut (a 20 MB exception message would otherwise
    be stored whole, and read back by every worker)."""
    if message is None:
        return None
    text = str(message)
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    half = MAX_MESSAGE_CHARS // 2
    return f"{text[:half]}\n... [{len(text) - 2 * half} characters truncated] ...\n{text[-half:]}"
