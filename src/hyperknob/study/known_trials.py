"""Trials the user already knows: configurations to run next (``enqueue_trial``) and results
measured elsewhere (``add_trial``). KerasTuner starts every search from zero; these let a search
start from a known-good configuration, from the build function's defaults, or from results a
colleague measured.

The queue lives in the study's stored configuration (``config["queue"]``), so every worker of
the study sees it. An entry is taken by the claim that inserts the trial carrying its id in
``user_attrs["enqueued"]``: one transaction, so two workers never run the same entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from hyperknob._types import FrozenTrial
from hyperknob.samplers.base import TrialsView
from hyperknob.space.search_space import values_by_walking
from hyperknob.storage import Proposal
from hyperknob.storage.base import dumps

if TYPE_CHECKING:
    from hyperknob.study.study import Study
    from hyperknob.study.trial import Trial
    from hyperknob.study.warm_start import WarmStart

__all__ = ["ADDED", "KnownTrials", "is_defaults_trial", "queued_proposal"]

ENQUEUED = "enqueued"  # user_attrs key: the queue entry a trial ran
ADDED = "added"  # user_attrs key: the trial was measured outside the study (add_trial)
DEFAULTS = "defaults"  # the id of the queue entry of the build function's defaults


def _checked_params(params: Mapping[str, Any], what: str) -> dict[str, Any]:
    if not isinstance(params, Mapping):
        raise TypeError(f"{what} takes a dict of hyperparameter values, received {type(params).__name__}.")
    values = dict(params)
    for name, value in values.items():
        if not isinstance(name, str):
            raise TypeError(f"{what}: hyperparameter names are strings, received {name!r}.")
        try:
            dumps(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"{what}: {name}={value!r} ({type(value).__name__}) cannot be stored; values are numbers, strings "
                "and booleans."
            ) from None
    return values


def _matches(values: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
    return all(name in values and values[name] == params[name] for name in params)


def _taken(trials: Sequence[FrozenTrial]) -> set[str]:
    return {str(t.user_attrs[ENQUEUED]) for t in trials if t.user_attrs and ENQUEUED in t.user_attrs}


def queued_proposal(
    study: Study, trials: Sequence[FrozenTrial], config: Mapping[str, Any], view: TrialsView, rng: np.random.Generator
) -> Proposal | None:
    """The next queue entry nobody has taken, as a proposal (None: the queue is empty). A partial
    entry's other parameters come from the study's sampler; a defaults entry takes every known
    parameter's default (and a parameter first declared in the trial takes its default too)."""
    queue = config.get("queue") or []
    ids = {e["id"] for e in queue}
    if not queue or ids <= study._queue_taken:
        return None  # (remembered: a long study does not look through its trials at every claim)
    taken = _taken(trials)
    study._queue_taken = frozenset(ids & taken)
    entry = next((e for e in queue if e["id"] not in taken), None)
    if entry is None:
        return None
    space = study._space.definitions
    if entry.get("defaults"):
        values = values_by_walking(space, lambda hp: hp.default) if space else {}
    else:
        rest: Any = study.sampler.propose(space, view, rng) if space else {}
        values = {**(rest if isinstance(rest, dict) else {}), **entry["values"]}
    return Proposal(values=values, user_attrs={**entry.get("user_attrs", {}), ENQUEUED: entry["id"]})


def is_defaults_trial(user_attrs: Mapping[str, Any]) -> bool:
    """Whether a trial runs the queued defaults (``enqueue_defaults``)."""
    return user_attrs.get(ENQUEUED) == DEFAULTS


class KnownTrials:
    """The ``Study`` methods for configurations and results known before the search."""

    warm_start: WarmStart | None = None  # earlier studies the algorithm learns from (study/warm_start.py)
    _queue_taken: frozenset[str] = frozenset()  # queue entries known to have run (taken entries stay taken)

    def enqueue_trial(
        self,
        params: Mapping[str, Any],
        *,
        skip_if_exists: bool = False,
        user_attrs: Mapping[str, Any] | None = None,
    ) -> None:
        """Run ``params`` as one of the next trials, before anything the algorithm proposes.

        ``params`` may be partial: the parameters it leaves out are proposed as usual. With
        ``skip_if_exists=True`` nothing is queued when a trial (or a queued entry) already has
        these values. Every worker of the study sees the queue; each entry runs once.
        """
        study = cast("Study", self)
        values = _checked_params(params, "enqueue_trial")
        attrs = _checked_params(user_attrs or {}, "enqueue_trial(user_attrs=)")
        if skip_if_exists and any(_matches(t.values, values) for t in study.get_trials()):
            return
        entry = {"id": uuid.uuid4().hex[:12], "values": values, "user_attrs": attrs}

        def add(config: dict[str, Any]) -> dict[str, Any]:
            queue = list(config.get("queue") or [])
            if skip_if_exists and any(not e.get("defaults") and e["values"] == values for e in queue):
                return config
            return {**config, "queue": [*queue, entry]}

        study.storage.update_study_config(study.study_id, add)

    def enqueue_defaults(self) -> None:
        """Queue the configuration the build function's ``default=`` values describe (once per
        study: queuing it again does nothing)."""
        study = cast("Study", self)

        def add(config: dict[str, Any]) -> dict[str, Any]:
            queue = list(config.get("queue") or [])
            if any(e.get("defaults") for e in queue):
                return config
            return {**config, "queue": [*queue, {"id": DEFAULTS, "values": {}, "defaults": True}]}

        study.storage.update_study_config(study.study_id, add)

    def queued_trials(self) -> list[dict[str, Any]]:
        """The queued configurations no trial has taken yet, in the order they will run."""
        study = cast("Study", self)
        config = study.storage.load_study(study.name)
        queue = (config.config if config is not None else {}).get("queue") or []
        taken = _taken(study.get_trials())
        return [dict(e["values"]) if not e.get("defaults") else {"<defaults>": True} for e in queue
                if e["id"] not in taken]

    def add_trial(
        self,
        params: Mapping[str, Any],
        value: float | Mapping[str, float],
        *,
        user_attrs: Mapping[str, Any] | None = None,
    ) -> FrozenTrial:
        """Record a result measured outside the study: a completed trial with these values and
        this objective value (or dict of metrics, as an objective returns). It counts as one of
        the study's trials, may be its best, and informs the model-based algorithms."""
        study = cast("Study", self)
        values = _checked_params(params, "add_trial")
        attrs = {**_checked_params(user_attrs or {}, "add_trial(user_attrs=)"), ADDED: True}
        proposal = Proposal(values=values, user_attrs=attrs)
        frozen = study.storage.insert_trial(study.study_id, proposal, worker=study.worker)
        trial: Trial = study._live_trial(frozen)
        return study.tell(trial, value)

    def add_trials(self, trials: Iterable[FrozenTrial | tuple[Mapping[str, Any], Any]]) -> list[FrozenTrial]:
        """``add_trial`` for each of ``trials``: ``(params, value)`` pairs, or completed trials of
        another study (their values and score)."""
        study = cast("Study", self)
        added = []
        for item in trials:
            if isinstance(item, FrozenTrial):
                if item.score is None:
                    continue
                added.append(study.add_trial(item.values, item.score))
            else:
                params, value = item
                added.append(study.add_trial(params, value))
        return added
