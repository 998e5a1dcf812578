"""Simulated asynchronous workers on an injected clock, for testing and benchmarking schedules.

Samplers, schedulers and pruners are pure functions of the trials, so they can be driven through
thousands of simulated trials in milliseconds: each of ``n_workers`` workers asks for a trial,
"trains" it one epoch at a time (an epoch of configuration ``values`` takes ``epoch_time(values)``
simulated seconds and yields ``curve(values, epochs_trained)``, lower is better), and reports every
epoch, where the pruner may stop it. Nothing sleeps and no storage is involved.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from hyperknob._types import FrozenTrial, MetricPoint, TrialStatus
from hyperknob.objective import Objective
from hyperknob.samplers import Sampler, TrialsView
from hyperknob.samplers.base import IDLE, TrialKeyCache
from hyperknob.schedulers.base import EPOCHS, INITIAL_EPOCH
from hyperknob.schedulers.pruners import Pruner, objective_curve
from hyperknob.space.parameters import HyperParameter
from hyperknob.storage.base import trial_id_for

__all__ = ["Simulation", "simulate"]

_NAME = "loss"
_OBJECTIVE = Objective(_NAME, "min")


@dataclasses.dataclass
class Simulation:
    """What a simulated search did."""

    trials: list[FrozenTrial]
    idle_time: float  # summed over workers: simulated seconds a worker waited with nothing to run
    wall_time: float  # simulated seconds until the last worker stopped
    epochs: int  # epochs trained, over all trials
    # (simulated time, epochs trained so far, best final value so far) at each trial's end
    progress: list[tuple[float, int, float]]
    idle_while_work: int  # times a worker was told to wait although a new trial could have started

    def best(self) -> float:
        scores = [t.score for t in self.trials if t.status == TrialStatus.COMPLETED and t.score is not None]
        return min(scores) if scores else math.inf


@dataclasses.dataclass
class _Run:
    number: int
    values: dict[str, Any]
    epoch: int  # next epoch to train
    last: int  # train until this epoch (exclusive)
    points: list[MetricPoint]
    start: float


def simulate(
    algorithm: Sampler,
    space: Sequence[HyperParameter],
    curve: Callable[[Mapping[str, Any], int], float],
    *,
    n_workers: int = 1,
    max_trials: int | None = None,
    max_epochs: int | None = None,
    max_time: float | None = None,
    epoch_time: Callable[[Mapping[str, Any]], float] = lambda values: 1.0,
    pruner: Pruner | None = None,
    seed: int = 0,
) -> Simulation:
    """Run ``algorithm`` with ``n_workers`` simulated workers until it stops, ``max_trials`` trials
    have started, or the clock passes ``max_time``.

    A trial trains from ``tuner/initial_epoch`` to ``tuner/epochs`` when the algorithm schedules
    epochs, else to ``max_epochs`` (required then). Its score is its best epoch's value, as a study
    scores a trial.
    """
    trials: dict[int, FrozenTrial] = {}
    runs: dict[int, _Run] = {}
    events: list[tuple[float, int, int]] = []  # (time, sequence, worker) when a worker is free or an epoch ends
    waiting: list[int] = []  # workers told IDLE, woken at the next event
    working: dict[int, int] = {}  # worker -> trial number
    sequence = 0
    for worker in range(n_workers):
        heapq.heappush(events, (0.0, sequence, worker))
        sequence += 1
    idle_time, idle_while_work, now, epochs_done = 0.0, 0, 0.0, 0
    idle_since: dict[int, float] = {}
    progress: list[tuple[float, int, float]] = []
    best = math.inf
    stopped: set[int] = set()

    keys = TrialKeyCache()  # the simulated study's, as a Study keeps one

    def view(number: int) -> TrialsView:
        return TrialsView([trials[n] for n in sorted(trials)], number, "min", keys)

    def finish(run: _Run, status: TrialStatus) -> None:
        nonlocal best
        # Scored as a study scores a trial: its best reported step.
        best_point = min(run.points, key=lambda p: (p.value, p.step)) if run.points else None
        score = best_point.value if best_point else None
        trials[run.number] = dataclasses.replace(
            trials[run.number], status=status, metrics={_NAME: tuple(run.points)}, score=score,
            best_step=best_point.step if best_point else None, datetime_complete=now,
        )
        if status == TrialStatus.COMPLETED and score is not None:
            best = min(best, score)
        progress.append((now, epochs_done, best))

    while events:
        now, _, worker = heapq.heappop(events)
        if max_time is not None and now > max_time:
            break
        number = working.get(worker)
        if number is not None:
            run = runs[number]
            value = float(curve(run.values, run.epoch + 1))
            run.points.append(MetricPoint(run.epoch, value))
            trials[number] = dataclasses.replace(trials[number], metrics={_NAME: tuple(run.points)}, heartbeat=now)
            run.epoch += 1
            epochs_done += 1
            pruned = pruner is not None and _pruned(pruner, run, trials)
            if run.epoch < run.last and not pruned:
                heapq.heappush(events, (now + epoch_time(run.values), sequence, worker))
                sequence += 1
                continue
            finish(run, TrialStatus.STOPPED if pruned else TrialStatus.COMPLETED)
            del working[worker]
            # A trial ended: every waiting worker asks again now.
            for other in waiting:
                idle_time += now - idle_since.pop(other)
                heapq.heappush(events, (now, sequence, other))
                sequence += 1
            waiting.clear()
        if max_trials is not None and len(trials) >= max_trials:
            stopped.add(worker)
            continue
        number = len(trials)
        values = algorithm.propose(space, view(number), np.random.default_rng([seed, number]))
        if values is None:
            stopped.add(worker)
            continue
        if values == IDLE:
            if _could_start(algorithm, space, view(number), seed):
                idle_while_work += 1
            waiting.append(worker)
            idle_since[worker] = now
            continue
        values = dict(values)  # type: ignore[arg-type]
        first = int(values.get(INITIAL_EPOCH, 0))
        last = int(values[EPOCHS]) if EPOCHS in values else max_epochs
        if last is None:
            raise ValueError("simulate() needs max_epochs= for an algorithm that does not schedule epochs.")
        trials[number] = FrozenTrial(
            study_id=0, number=number, trial_id=trial_id_for(number, max_trials), status=TrialStatus.RUNNING,
            values=values, worker=str(worker), datetime_start=now, heartbeat=now,
        )
        runs[number] = _Run(number, values, first, last, [], now)
        working[worker] = number
        heapq.heappush(events, (now + epoch_time(values), sequence, worker))
        sequence += 1
    for since in idle_since.values():
        idle_time += now - since
    return Simulation(
        trials=[trials[n] for n in sorted(trials)], idle_time=idle_time, wall_time=now, epochs=epochs_done,
        progress=progress, idle_while_work=idle_while_work,
    )


def _pruned(pruner: Pruner, run: _Run, trials: Mapping[int, FrozenTrial]) -> bool:
    mine = objective_curve({_NAME: run.points}, _OBJECTIVE)
    others = [(t.status, objective_curve(t.metrics, _OBJECTIVE)) for n, t in trials.items() if n != run.number]
    return pruner.should_prune(run.points[-1].step, mine, others)


def _could_start(algorithm: Sampler, space: Sequence[HyperParameter], view: TrialsView, seed: int) -> bool:
    """Whether the inner sampler had a new configuration to give (so waiting was the schedule's choice)."""
    inner = getattr(algorithm, "sampler", None)
    if inner is None:
        return False
    values = inner.propose(space, view, np.random.default_rng([seed, view.number, 1]))
    return values is not None and values != IDLE
