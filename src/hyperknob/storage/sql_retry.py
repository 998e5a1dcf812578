"""Which database errors are worth running a transaction again for, and the loop that runs it
again: jittered exponential backoff for up to a time limit, then a message that says what to check."""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa

from hyperknob.exceptions import StorageError, StudyVersionError

__all__ = ["is_transient", "orig_text", "run_with_retries", "translate_errors"]

logger = logging.getLogger("hyperknob")
_R = TypeVar("_R")

# SQLSTATEs worth running a transaction again for: a lost connection (class 08), a serialization
# failure or deadlock (class 40), no free connection slot, a lock not granted, a server shutting
# down or starting up.
_TRANSIENT_CLASSES = ("08", "40")
_TRANSIENT_CODES = frozenset({"53300", "55P03", "57P01", "57P02", "57P03"})
# What PostgreSQL says when it refuses a login (a connection error carries no SQLSTATE).
_REFUSED_LOGIN = ("password authentication failed", "does not exist", "no pg_hba.conf entry", "authentication failed")


def is_transient(exc: BaseException, sqlite: bool = False) -> bool:
    """Whether running the failed transaction again may succeed: a dropped connection, a
    serialization failure or deadlock, a server out of connection slots or restarting (on SQLite:
    a database still locked after the busy timeout)."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if sqlite:
        text = str(exc.orig).lower()
        return isinstance(exc, sa.exc.OperationalError) and ("locked" in text or "busy" in text)
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code:
        return code.startswith(_TRANSIENT_CLASSES) or code in _TRANSIENT_CODES
    # No SQLSTATE: the driver lost or could not open the connection (refused, closed by the server),
    # unless the server refused the login itself: a wrong password or user does not heal by waiting.
    if any(marker in str(exc.orig) for marker in _REFUSED_LOGIN):
        return False
    return isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError))


def run_with_retries(
    operation: Callable[[bool], _R],
    what: Callable[[], str],
    *,
    local: Any,
    sqlite: bool,
    safe_url: str,
    timeout_s: float,
    first_wait_s: float,
    max_wait_s: float,
    jitter: random.Random,
) -> _R:
    """``operation(after_unknown_commit)``, run again after transient errors with jittered
    exponential backoff, for up to ``timeout_s`` seconds.

    ``after_unknown_commit`` is True once an attempt failed while committing (``local.committing``
    was set): its writes may be in the database, and the operation must check before doing them
    twice. ``what()`` names the operation in messages.
    """
    deadline = time.monotonic() + timeout_s
    unknown = False
    attempt = 0
    while True:
        local.committing = False
        try:
            return operation(unknown)
        except sa.exc.DBAPIError as exc:
            if not is_transient(exc, sqlite):
                raise
            unknown = unknown or bool(getattr(local, "committing", False))
            wait = min(max_wait_s, first_wait_s * 2**attempt)
            wait *= 0.5 + jitter.random()
            attempt += 1
            if time.monotonic() + wait > deadline:
                raise StorageError(
                    f"{what()} in {safe_url} failed {attempt} times in {timeout_s:g} s on "
                    f"transient database errors; the last one: {orig_text(exc)}. Check that the database "
                    "server is running and reachable and has free connection slots (max_connections), "
                    "then start this worker again."
                ) from exc
            logger.log(
                logging.WARNING if attempt == 5 else logging.DEBUG,
                "%s: transient database error (attempt %d), trying again in %.2f s: %s",
                what(), attempt, wait, orig_text(exc),
            )
            time.sleep(wait)


@contextlib.contextmanager
def translate_errors(safe_url: str) -> Iterator[None]:
    """A file that is not a database, or one that cannot be written, said in words."""
    try:
        yield
    except sa.exc.DatabaseError as exc:
        text = str(exc.orig) if getattr(exc, "orig", None) is not None else str(exc)
        if "file is not a database" in text or "file is encrypted" in text:
            raise StudyVersionError(
                f"{safe_url} is not a hyperknob study (not an SQLite database). "
                "Point directory/project_name or storage= somewhere else, or remove the file."
            ) from exc
        if "readonly" in text or "unable to open" in text:
            raise StorageError(
                f"Cannot write the study at {safe_url}: {text}. The file or its folder is read-only here: "
                "viewing it works (load_study, hyperknob summary/trials/report -o elsewhere); to run more "
                "trials, copy the project folder somewhere writable, or pass a writable directory= or storage=."
            ) from exc
        if "no such column" in text or "no such table" in text or "syntax error" in text:
            raise StorageError(
                f"The study file {safe_url} lacks what a hyperknob study holds ({text}): it is damaged, or another "
                "program changed its tables. Restore it from a backup, or copy what reads with "
                "`hyperknob recover PROJECT --to NEW`."
            ) from exc
        if "malformed" in text or "disk I/O error" in text or "Could not decode" in text:
            raise StorageError(
                f"The study file {safe_url} is damaged ({text}). Restore it from a backup, or start a new "
                "study (overwrite=True or another project_name); the trials it holds cannot be read safely."
            ) from exc
        if "database or disk is full" in text or "No space left" in text:
            raise StorageError(
                f"The disk holding {safe_url} is full ({text}). Free some space and run the search again: "
                "the trials completed before are kept."
            ) from exc
        raise
    except UnicodeDecodeError as exc:  # a damaged byte inside stored text
        raise StorageError(
            f"The study file {safe_url} is damaged (text that is not UTF-8: {exc.reason}). Restore it from a "
            "backup, or copy what reads into a new study with `hyperknob recover PROJECT --to NEW`."
        ) from exc


def orig_text(exc: sa.exc.DBAPIError) -> str:
    text = str(exc.orig if exc.orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc.orig).__name__
