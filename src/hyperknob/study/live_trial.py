"""A claimed trial, made ready to run: the step between the storage's record and the user's code."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.space.parameters import HyperParameter
from hyperknob.study.known_trials import is_defaults_trial
from hyperknob.study.trial import Trial

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = ["live_trial"]


def live_trial(study: Study, frozen: FrozenTrial) -> Trial:
    """The running ``Trial`` for a claimed record: its values, the study's space, and what a
    parameter first declared during the trial gets (a value, and a place in the stored space)."""
    hps = study._space.new_hyperparameters()
    hps.values = dict(frozen.values)
    if not study.settings.allow_new_entries:
        hps._frozen_names = frozenset(p.name for p in study._space.definitions)
    if study.settings.tune_new_entries:
        # A parameter the study already knows but the proposal left out (its parent's value was
        # changed by user code, say) is drawn by the sampler; one the study has never seen
        # takes its default, KerasTuner's rule for a first definition, and is tuned from then on.
        known = {p.name for p in study._space.definitions}
        # Built on first use: most trials never suggest here (a generator costs tens of µs).
        rng = functools.cache(functools.partial(study._rng, frozen.number, stream=1))
        if is_defaults_trial(frozen.user_attrs):  # enqueue_defaults: every parameter takes its default
            known = set()
        hps._suggest = lambda hp: study.sampler.suggest(hp, rng()) if hp.name in known else hp.default
        # Stored at once: a trial cut off mid-run still leaves the study knowing its space.
        def store(hp: HyperParameter) -> None:
            study.update_space([hp])

        hps._on_new = store
    trial = Trial(hps, trial_id=frozen.trial_id, status=TrialStatus.RUNNING)
    trial.number = frozen.number
    trial.run_count = frozen.run_count
    trial.metrics.register(study.objective.name, study.objective.direction)
    trial._study = study
    trial._worker = frozen.worker
    trial.user_attrs.update(frozen.user_attrs)  # what the claim stored (the queue entry it runs)
    chosen = study._chosen_algorithm.pop(frozen.number, None)
    if chosen is not None:
        trial.user_attrs.setdefault("algorithm", chosen)
    return trial
