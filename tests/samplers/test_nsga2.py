"""NSGAIISampler: better fronts than random search, feasible parents first, valid conditional
configurations, and a population read off the stored trials alone."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from hyperknob._types import FrozenTrial, MetricPoint, TrialStatus
from hyperknob.constraints import CONSTRAINTS_ATTR
from hyperknob.pareto import hypervolume
from hyperknob.samplers import RandomSampler, Sampler, make_sampler
from hyperknob.samplers.base import TrialKeyCache, TrialsView
from hyperknob.samplers.nsga2 import NSGAIISampler
from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.space.parameters import HyperParameter
from hyperknob.space.search_space import config_key

OBJECTIVES = [("f1", "min"), ("f2", "min")]
Evaluate = Callable[[Mapping[str, Any]], tuple[tuple[float, float], list[float] | None]]


def _floats(n: int) -> list[HyperParameter]:
    hp = HyperParameters()
    for i in range(n):
        hp.Float(f"x{i}", 0.0, 1.0)
    return hp.space


def zdt1(values: Mapping[str, Any]) -> tuple[tuple[float, float], None]:
    x = np.array([values[f"x{i}"] for i in range(6)])
    f1 = float(x[0])
    g = 1.0 + 9.0 * float(np.mean(x[1:]))
    return (f1, g * (1.0 - np.sqrt(f1 / g))), None


def _trial(number: int, values: dict[str, Any], f: tuple[float, float], constraints: list[float] | None) -> FrozenTrial:
    return FrozenTrial(
        study_id=1, number=number, trial_id=str(number), status=TrialStatus.COMPLETED, values=values,
        metrics={"f1": (MetricPoint(0, f[0]),), "f2": (MetricPoint(0, f[1]),)}, best_step=0, score=f[0] + f[1],
        user_attrs={} if constraints is None else {CONSTRAINTS_ATTR: constraints},
    )


def search(
    sampler: Sampler, space: Sequence[HyperParameter], evaluate: Evaluate, n: int, seed: int,
    constrained: bool = False,
) -> list[FrozenTrial]:
    """``n`` proposals of a two-objective search, each recorded COMPLETED before the next."""
    trials: list[FrozenTrial] = []
    keys = TrialKeyCache()
    for number in range(n):
        view = TrialsView(trials, number, "min", keys, objectives=OBJECTIVES, constrained=constrained)
        values = sampler.propose(space, view, np.random.default_rng([seed, number]))
        assert isinstance(values, dict)
        f, constraints = evaluate(values)
        trials.append(_trial(number, values, f, constraints))
    return trials


def _hypervolume(trials: Sequence[FrozenTrial]) -> float:
    return hypervolume(np.array([zdt1(t.values)[0] for t in trials]), (1.1, 11.0))


def test_zdt1_hypervolume_beats_random_search() -> None:
    space = _floats(6)
    seeds = range(5)
    nsga = [_hypervolume(search(NSGAIISampler(), space, zdt1, 300, s)) for s in seeds]
    rand = [_hypervolume(search(RandomSampler(), space, zdt1, 300, s)) for s in seeds]
    # Measured: NSGA-II 10.69 to 11.02 (median 10.82), random 9.72 to 10.53 (median 9.99), of at
    # most 11.77. The margin asserted is about half the one seen.
    assert np.median(nsga) > np.median(rand) + 0.4, (nsga, rand)
    assert min(nsga) > np.median(rand), (nsga, rand)


def test_the_first_generation_is_random_search() -> None:
    space = _floats(6)
    a = search(NSGAIISampler(population_size=10), space, zdt1, 10, seed=3)
    b = search(RandomSampler(), space, zdt1, 10, seed=3)
    assert [t.values for t in a] == [t.values for t in b]
    assert NSGAIISampler(population_size=10).startup_trials(space) == 10


def test_children_come_from_the_elite_of_earlier_generations_only() -> None:
    """A trial of the current generation, however good, is no parent yet; the stored trials alone
    decide the proposal, so a fresh sampler (another worker, a resumed study) proposes the same."""
    space = _floats(2)

    def evaluate(values: Mapping[str, Any]) -> tuple[tuple[float, float], None]:
        return (values["x0"], 1.0 - values["x0"] + values["x1"]), None

    history = search(NSGAIISampler(population_size=8), space, evaluate, 12, seed=0)
    view = TrialsView(history, 13, "min", objectives=OBJECTIVES)
    first = NSGAIISampler(population_size=8).propose(space, view, np.random.default_rng(5))
    # A perfect trial of generation 1 (number 12 >= 8) changes nothing for trial 13.
    perfect = _trial(12, {"x0": 0.0, "x1": 0.0}, (0.0, 0.0), None)
    with_perfect = TrialsView([*history, perfect], 13, "min", objectives=OBJECTIVES)
    assert NSGAIISampler(population_size=8).propose(space, with_perfect, np.random.default_rng(5)) == first
    # Once generation 2 begins (trial 16), it is the best parent there is and shapes the children.
    later = TrialsView([*history, perfect], 16, "min", objectives=OBJECTIVES)
    assert NSGAIISampler(population_size=8).propose(space, later, np.random.default_rng(5)) != first


def _feasible_share(constrained: bool, sampler: Sampler, seed: int) -> float:
    """The share of feasible proposals after the first two generations of a search whose
    objectives pull towards x1 = 0 while x1 < 0.5 is infeasible."""
    space = _floats(2)

    def evaluate(values: Mapping[str, Any]) -> tuple[tuple[float, float], list[float]]:
        x0, x1 = values["x0"], values["x1"]
        return (x0, 1.0 - x0 + x1), [0.5 - x1]

    trials = search(sampler, space, evaluate, 100, seed, constrained=constrained)
    return float(np.mean([t.values["x1"] >= 0.5 for t in trials[40:]]))


def test_feasible_parents_are_preferred() -> None:
    constrained = [_feasible_share(True, NSGAIISampler(population_size=20), s) for s in range(3)]
    unconstrained = [_feasible_share(False, NSGAIISampler(population_size=20), s) for s in range(3)]
    rand = [_feasible_share(True, RandomSampler(), s) for s in range(3)]
    # Random search stays near half; ignoring the constraint follows the objectives into the
    # infeasible half; with it, nearly every child of generations 2-4 is feasible.
    assert max(rand) < 0.65, rand
    assert max(unconstrained) < 0.3, unconstrained
    assert min(constrained) > 0.85, constrained


def _conditional_space() -> list[HyperParameter]:
    hp = HyperParameters()
    hp.Choice("kind", ["a", "b", "c"])
    hp.Boolean("flag")
    hp.Fixed("epochs", 3)
    hp.Float("x", 0.0, 1.0)
    with hp.conditional_scope("kind", ["b"]):
        hp.Float("lr", 1e-4, 1e-1, sampling="log")
    with hp.conditional_scope("kind", ["c"]):
        hp.Int("units", 8, 64, step=8)
        hp.Choice("act", ["relu", "tanh"])
    return hp.space


def _conditional_loss(values: Mapping[str, Any]) -> tuple[tuple[float, float], None]:
    """Best with kind 'c', flag on, relu and few units; x trades the two objectives."""
    bad = (values["kind"] != "c") + (not values["flag"]) + (values.get("act") != "relu")
    bad += values.get("units", 64) / 64
    return (values["x"] + bad, 1.0 - values["x"] + bad), None


def test_categorical_and_conditional_parameters_give_valid_configurations() -> None:
    space = _conditional_space()
    trials = search(NSGAIISampler(population_size=10), space, _conditional_loss, 80, seed=1)
    keys = [config_key(t.values) for t in trials]
    assert len(set(keys)) == len(keys)
    for t in trials:
        active = {hp.name for hp in space if hp.is_active(t.values)}
        assert set(t.values) == active, t.values
        assert all(hp.contains(t.values[hp.name]) for hp in space if hp.name in t.values), t.values
    late = [t.values for t in trials[50:]]
    # The choices that pay are inherited: the last generations favour them far above chance (1/3
    # for kind 'c', 1/12 for all three; measured 0.73 and 0.40, random search 0.17 and 0.10).
    assert np.mean([v["kind"] == "c" for v in late]) > 0.6
    assert np.mean([v["kind"] == "c" and v["flag"] and v.get("act") == "relu" for v in late]) > 0.3


def test_a_parameter_newly_active_in_a_child_gets_a_value_and_an_inactive_one_none() -> None:
    space = _conditional_space()
    # Parents: two 'a' trials; mutating kind to 'b' or 'c' activates parameters neither parent has.
    parents = [
        _trial(n, {"kind": "a", "flag": bool(n % 2), "epochs": 3, "x": n / 10}, (n / 10, 1 - n / 10), None)
        for n in range(4)
    ]
    sampler = NSGAIISampler(population_size=4, mutation_prob=1.0)
    seen = set()
    for seed in range(20):
        values = sampler.propose(space, TrialsView(parents, 4, "min", objectives=OBJECTIVES), np.random.default_rng(seed))
        assert isinstance(values, dict) and values["kind"] != "a"  # a mutated choice always changes
        assert set(values) == {hp.name for hp in space if hp.is_active(values)}
        seen.add(values["kind"])
    assert seen == {"b", "c"}


def test_one_objective_is_a_genetic_algorithm() -> None:
    space = _floats(4)

    def run(sampler: Sampler, seed: int) -> float:
        trials: list[FrozenTrial] = []
        for number in range(150):
            values = sampler.propose(space, TrialsView(trials, number, "max"), np.random.default_rng([seed, number]))
            assert isinstance(values, dict)
            score = -sum((values[f"x{i}"] - 0.3) ** 2 for i in range(4))  # maximised
            trials.append(FrozenTrial(study_id=1, number=number, trial_id=str(number),
                                      status=TrialStatus.COMPLETED, values=values, score=score))
        return max(float(t.score) for t in trials)  # type: ignore[arg-type]

    ga = [run(NSGAIISampler(population_size=20), s) for s in range(3)]
    rand = [run(RandomSampler(), s) for s in range(3)]
    # Measured best scores: GA -0.0025 to -0.0127 (median -0.0051), random -0.022 to -0.035; the
    # GA's median distance from the optimum is asserted under 0.3 of random search's.
    assert min(ga) > max(rand), (ga, rand)
    assert np.median(ga) > 0.3 * np.median(rand), (ga, rand)


def test_make_sampler_and_arguments() -> None:
    assert isinstance(make_sampler("nsga2"), NSGAIISampler)
    assert make_sampler("nsga2").name == "nsga2"
    with pytest.raises(ValueError, match="nsga2"):
        make_sampler("nope")
    with pytest.raises(ValueError, match="population_size"):
        NSGAIISampler(population_size=1)
    with pytest.raises(ValueError, match="crossover_prob"):
        NSGAIISampler(crossover_prob=1.5)
    with pytest.raises(ValueError, match="mutation_prob"):
        NSGAIISampler(mutation_prob=-0.1)
