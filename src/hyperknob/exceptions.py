"""The one exception tree of hyperknob.

::

    HyperknobError
    ├── FailedTrialError        this trial failed: record it, do not retry, move on
    ├── TrialPruned             a scheduler stopped this trial early: status STOPPED, not a failure
    ├── SearchSpaceError (ValueError)   a hyperparameter definition is wrong
    │   └── SearchSpaceTypeError (TypeError)  ... because of a value's type
    ├── StorageError
    │   ├── StudyVersionError   the study file was written by another schema version or program
    │   └── TrialNotOwnedError  a worker wrote a trial it no longer runs
    └── FatalError              stop the whole search at once
        ├── FatalValueError (ValueError)
        ├── FatalTypeError (TypeError)
        └── FatalRuntimeError (RuntimeError)

Any other exception raised by a trial is retried up to ``max_retries_per_trial`` times.
The names ``FailedTrialError`` and ``Fatal*`` match ``keras_tuner.errors``.
"""

from __future__ import annotations

__all__ = [
    "FailedTrialError",
    "FatalError",
    "FatalRuntimeError",
    "FatalTypeError",
    "FatalValueError",
    "HyperknobError",
    "HyperknobWarning",
    "SearchSpaceError",
    "SearchSpaceTypeError",
    "StorageError",
    "StudyVersionError",
    "ForeignDatabaseError",
    "TrialNotOwnedError",
    "TrialPruned",
]


class HyperknobError(Exception):
    """Base class of every error hyperknob raises on purpose."""


class HyperknobWarning(UserWarning):
    """Warnings from hyperknob; silence with ``warnings.filterwarnings("ignore", category=HyperknobWarning)``."""


class FailedTrialError(HyperknobError):
    """Raise inside a trial to mark it FAILED without retrying it."""


class TrialPruned(HyperknobError):
    """Raise inside a trial when ``trial.should_prune()`` says so; the trial ends as STOPPED."""


class SearchSpaceError(HyperknobError, ValueError):
    """A hyperparameter was declared with an invalid range, step, sampling, default or condition."""


class SearchSpaceTypeError(SearchSpaceError, TypeError):
    """A hyperparameter was given values of the wrong type (e.g. mixed types in a Choice)."""


class StorageError(HyperknobError):
    """The study storage cannot be opened or written."""


class TrialNotOwnedError(StorageError):
    """A worker tried to write a trial it no longer runs (finished, taken over, or study overwritten)."""


class StudyVersionError(StorageError):
    """The study file belongs to another schema version or is not a hyperknob study."""


class ForeignDatabaseError(StudyVersionError):
    """The database is not a hyperknob study (another program's, or not a database at all): it is
    never written to, and ``overwrite=True`` does not replace it."""


class FatalError(HyperknobError):
    """Stop the search at once; no retry, no further trials."""


class FatalValueError(FatalError, ValueError):
    pass


class FatalTypeError(FatalError, TypeError):
    pass


class FatalRuntimeError(FatalError, RuntimeError):
    pass
