"""Where studies live: in memory or in a SQL database (SQLite by default)."""

from __future__ import annotations

import os

from hyperknob.storage.base import Claim, Proposal, Storage, StudyRecord, trial_id_for
from hyperknob.storage.memory import InMemoryStorage

__all__ = [
    "Claim", "InMemoryStorage", "Proposal", "Storage", "StudyRecord", "open_storage", "default_sqlite_url",
    "trial_id_for",
]

STORAGE_ENV = "HYPERKNOB_STORAGE"
DEFAULT_FILENAME = "study.db"


def default_sqlite_url(project_dir: str) -> str:
    return "sqlite:///" + os.path.join(os.path.abspath(project_dir), DEFAULT_FILENAME)


def open_storage(storage: str | Storage | None, project_dir: str | None = None, overwrite: bool = False) -> Storage:
    """A storage from an instance, a URL, ':memory:', or (None) the SQLite file of ``project_dir``.

    The ``HYPERKNOB_STORAGE`` environment variable supplies a URL when none is passed. With
    ``overwrite=True``, a project's own file that an incompatible hyperknob wrote is replaced (the
    file holds that project only); a URL the user named is never replaced.
    """
    if isinstance(storage, Storage):
        return storage
    if storage is None:
        storage = os.environ.get(STORAGE_ENV) or None
    if storage is None:
        if project_dir is None:
            return InMemoryStorage()
        return _open_project_file(project_dir, overwrite)
    if storage in (":memory:", "memory"):
        return InMemoryStorage()
    from hyperknob.storage.sql import (
        SQLStorage,  # SQLAlchemy is imported only when a database is used
    )

    return SQLStorage(storage)


def _open_project_file(project_dir: str, overwrite: bool) -> Storage:
    from hyperknob.exceptions import ForeignDatabaseError, StudyVersionError
    from hyperknob.storage.sql import SQLStorage

    url = default_sqlite_url(project_dir)
    try:
        return SQLStorage(url)
    except ForeignDatabaseError:
        raise  # another program's file: never replaced
    except StudyVersionError:
        if not overwrite:
            raise
    path = os.path.join(os.path.abspath(project_dir), DEFAULT_FILENAME)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return SQLStorage(url)
