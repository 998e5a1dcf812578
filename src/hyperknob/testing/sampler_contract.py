"""The sampler contract as a pytest suite: subclass ``SamplerContract`` and provide ``make_sampler``.

What the study relies on from every sampler, whatever its algorithm: a proposal holds a value
inside its domain for every active parameter and none for an inactive one; it is a pure function
of (space, trials, rng), so the same inputs give the same proposal in any process; it never
changes the trials it is shown; it keeps proposing with running trials in the view and past its
start-up; and a finite space whose every configuration has finished is reported as exhausted
(``None``), never looped over.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.samplers.base import IDLE, Sampler, TrialsView
from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.space.parameters import HyperParameter
from hyperknob.space.search_space import config_key

__all__ = ["SamplerContract", "mixed_space", "run_sequentially"]


def mixed_space(conditional: bool = True) -> list[HyperParameter]:
    """Every kind of parameter a user declares: log float, stepped int, choice, boolean, fixed, and
    (with ``conditional``) a parameter active under one choice only."""
    hp = HyperParameters()
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    hp.Int("units", 32, 512, step=32)
    hp.Float("dropout", 0.0, 0.5)
    hp.Boolean("batchnorm")
    hp.Fixed("epochs", 5)
    hp.Choice("kind", ["a", "b"])
    if conditional:
        with hp.conditional_scope("kind", ["b"]):
            hp.Int("shift", 0, 3)
    return hp.space


def _loss(space: Sequence[HyperParameter], values: dict[str, Any]) -> float:
    """A smooth test loss with its optimum inside the box: each value's distance from 0.3 on the
    unit scale."""
    return sum((hp.to_unit(values[hp.name]) - 0.3) ** 2 for hp in space if hp.name in values)


def _trial(number: int, values: dict[str, Any], score: float | None, status: TrialStatus) -> FrozenTrial:
    return FrozenTrial(study_id=1, number=number, trial_id=str(number), status=status, values=values, score=score)


def run_sequentially(
    sampler: Sampler, space: Sequence[HyperParameter], n: int, seed: int = 0
) -> list[FrozenTrial]:
    """``n`` proposals, each evaluated on a smooth test loss and recorded COMPLETED before the next."""
    trials: list[FrozenTrial] = []
    for number in range(n):
        values = sampler.propose(space, TrialsView(trials, number, "min"), np.random.default_rng([seed, number]))
        if values is None or values == IDLE:
            break
        trials.append(_trial(number, dict(values), _loss(space, values), TrialStatus.COMPLETED))
    return trials


class SamplerContract:
    """Subclass in a test module and define ``make_sampler``; pytest runs every ``test_*`` below."""

    #: trials each check runs: enough to pass the start-up of the model-based samplers
    trials = 16

    def make_sampler(self) -> Sampler:
        raise NotImplementedError

    def test_every_proposal_is_inside_the_space_and_holds_exactly_the_active_parameters(self) -> None:
        space = mixed_space()
        trials = run_sequentially(self.make_sampler(), space, self.trials)
        assert len(trials) == self.trials
        for trial in trials:
            active = {hp.name for hp in space if hp.is_active(trial.values)}
            assert set(trial.values) == active, (trial.values, active)
            for hp in space:
                if hp.name in trial.values:
                    assert hp.contains(trial.values[hp.name]), (hp, trial.values[hp.name])

    def test_the_same_trials_and_seed_give_the_same_proposal(self) -> None:
        space = mixed_space()
        history = run_sequentially(self.make_sampler(), space, self.trials - 1)
        view = TrialsView(history, len(history), "min")
        first = self.make_sampler().propose(space, view, np.random.default_rng(7))
        again = self.make_sampler().propose(space, TrialsView(history, len(history), "min"), np.random.default_rng(7))
        assert first == again

    def test_the_trials_shown_are_never_changed(self) -> None:
        space = mixed_space()
        history = run_sequentially(self.make_sampler(), space, self.trials - 1)
        before = copy.deepcopy(history)
        self.make_sampler().propose(space, TrialsView(history, len(history), "min"), np.random.default_rng(1))
        assert history == before

    def test_it_proposes_with_running_and_failed_trials_in_the_view(self) -> None:
        space = mixed_space(conditional=False)
        history = run_sequentially(self.make_sampler(), space, self.trials - 2)
        running = _trial(len(history), dict(history[-1].values), None, TrialStatus.RUNNING)
        failed = _trial(len(history) + 1, dict(history[0].values), None, TrialStatus.FAILED)
        trials = [*history, running, failed]
        values = self.make_sampler().propose(space, TrialsView(trials, len(trials), "min"), np.random.default_rng(2))
        assert isinstance(values, dict) and all(hp.contains(values[hp.name]) for hp in space)

    def test_an_empty_space_gives_an_empty_proposal(self) -> None:
        assert self.make_sampler().propose([], TrialsView([], 0, "min"), np.random.default_rng(0)) == {}

    def test_a_finite_space_ends_exhausted_after_each_configuration_ran_once(self) -> None:
        hp = HyperParameters()
        hp.Choice("optimizer", ["adam", "sgd"])
        hp.Boolean("batchnorm")
        space = hp.space  # 4 configurations
        trials = run_sequentially(self.make_sampler(), space, 10)
        keys = [config_key(t.values) for t in trials]
        assert len(keys) == 4 and len(set(keys)) == 4, keys
