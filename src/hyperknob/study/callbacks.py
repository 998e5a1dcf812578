"""Callbacks observe a search (display, logging, user hooks); they never steer the algorithm."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hyperknob._types import FrozenTrial

if TYPE_CHECKING:
    from hyperknob.study.study import Study
    from hyperknob.study.trial import Trial

__all__ = ["StudyCallback"]


class StudyCallback:
    """Override any of these; each is called in the worker process that runs the search."""

    def on_search_begin(self, study: Study) -> None:
        pass

    def on_trial_begin(self, study: Study, trial: Trial) -> None:
        pass

    def on_trial_end(self, study: Study, trial: Trial, frozen: FrozenTrial) -> None:
        pass

    def on_search_end(self, study: Study) -> None:
        pass
