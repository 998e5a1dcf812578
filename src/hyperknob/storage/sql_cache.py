"""What one process has read of a study's trials, and the read that brings it up to date."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.engine import Connection

from hyperknob._types import FrozenTrial
from hyperknob.storage.sql_schema import (
    STUDY_EXISTS,
    changed_trials,
    number_params,
    row_to_trial,
)

__all__ = ["TrialCache", "read_trials"]


@dataclasses.dataclass
class TrialCache:
    """What this process has read of one study's trials.

    Numbers are gap-free and a finished trial never changes again (the library writes a trial only
    through its owner while it runs), so a read asks the database only for the trials numbered from
    ``len(trials)`` on and for those that had not finished when last read: a claim's cost then
    follows what changed since the last one, not the length of the study. A row read again exactly
    as before is not parsed again (parsing is most of a read's time).
    """

    trials: list[FrozenTrial] = dataclasses.field(default_factory=list)  # indexed by number
    # number -> (raw row as last read, or None where this process wrote it; parsed trial)
    unfinished: dict[int, tuple[tuple[Any, ...] | None, FrozenTrial]] = dataclasses.field(default_factory=dict)

    def put(self, trial: FrozenTrial) -> None:
        """Record a trial this process has just written (committed)."""
        number = trial.number
        if number > len(self.trials):
            return  # the trials before it are not read yet: it is read with them
        if number == len(self.trials):
            self.trials.append(trial)
        elif self.trials[number].status.is_finished:
            return
        else:
            self.trials[number] = trial
        if trial.status.is_finished:
            self.unfinished.pop(number, None)
        else:
            self.unfinished[number] = (None, trial)


def read_trials(
    cache: TrialCache, conn: Connection, study_id: int, claiming: bool
) -> tuple[list[FrozenTrial], list[FrozenTrial], bool] | None:
    """Bring ``cache`` up to date with one statement: (the study's trials, the unfinished ones in
    number order, whether anything changed), or None when the study is gone (deleted; its id is
    never given again). ``claiming``: read inside a claim, which has just read the study's row."""
    trials, unfinished = cache.trials, cache.unfinished
    known = len(trials)
    pending = sorted(unfinished)
    params = {"sid": study_id, "next": known, **number_params(pending)}
    rows = conn.execute(changed_trials(len(pending)), params).all()
    changed = False
    found = 0
    newer = {}
    for row in rows:
        number = row.number
        if number >= known:
            newer[number] = row
            continue
        found += 1
        raw = tuple(row)
        if unfinished[number][0] == raw:
            continue
        changed = True
        trial = row_to_trial(row._mapping)
        trials[number] = trial
        if trial.status.is_finished:
            del unfinished[number]
        else:
            unfinished[number] = (raw, trial)
    gone = found < len(pending) or (
        # Nothing to read back at all: outside a claim, make sure the study still exists before
        # answering from the cache.
        not rows and known and not claiming and conn.execute(STUDY_EXISTS, {"sid": study_id}).first() is None
    )
    if gone:
        return None
    for number in sorted(newer):
        if number != len(trials):
            break  # not committed as far as this read saw (numbers are gap-free): read it next time
        row = newer[number]
        trial = row_to_trial(row._mapping)
        trials.append(trial)
        if not trial.status.is_finished:
            unfinished[number] = (tuple(row), trial)
        changed = True
    # A claim holds the study's write lock, so no trial is added while it reads: it gets the cache's
    # own list (a copy costs as much as the study is long); anyone else gets a copy to keep.
    return (trials if claiming else list(trials)), [unfinished[n][1] for n in sorted(unfinished)], changed
