"""GridSearch: every configuration of the grid once, defaults first, stops when done, a second
search() runs nothing new; conditional parameters; max_trials caps the grid."""

import importlib
import itertools
import os

from dt_common import Facts

kt = importlib.import_module(os.environ["KT_MODULE"])  # the one switch line

F = Facts(kt)


def build(hp):
    hp.Int("i", 1, 3)
    hp.Choice("c", ["a", "b"])
    hp.Boolean("flag")
    hp.Float("f", 0.0, 1.0, step=0.5)
    return None


GRID = [
    {"i": i, "c": c, "flag": flag, "f": f}
    for i, c, flag, f in itertools.product([1, 2, 3], ["a", "b"], [False, True], [0.0, 0.5, 1.0])
]


def key(values):
    return tuple(sorted((k, round(v, 9) if isinstance(v, float) else v) for k, v in values.items()))


class GridTuner(kt.GridSearch):
    seen = []

    def run_trial(self, trial, *args, **kwargs):
        values = dict(trial.hyperparameters.values)
        type(self).seen.append(values)
        return float(values["i"]) + (0.5 if values["flag"] else 0.0) + values["f"]


@F.section
def full_grid_visited_once():
    GridTuner.seen = []
    tuner = GridTuner(build, directory=F.tmpdir(), project_name="g", overwrite=True)
    remaining_before = tuner.remaining_trials
    tuner.search(verbose=0)
    first_pass = list(GridTuner.seen)
    n_trials_after_first = len(tuner.oracle.trials)
    tuner.search(verbose=0)  # the same tuner object: nothing left to run
    keys = [key(v) for v in first_pass]
    return {
        "max_trials_default": tuner.oracle.max_trials,
        "remaining_before": remaining_before,
        "remaining_after": tuner.remaining_trials,
        "n_runs": len(first_pass),
        "n_distinct": len(set(keys)),
        "visited_equals_grid": set(keys) == {key(v) for v in GRID},
        "first_trial_is_defaults": first_pass[0] == {"i": 1, "c": "a", "flag": False, "f": 0.0},
        "n_trials_after_first_search": n_trials_after_first,
        "second_search_new_runs": len(GridTuner.seen) - len(first_pass),
        "n_trials_after_second_search": len(tuner.oracle.trials),
        "float_values_are_floats": all(isinstance(v["f"], float) for v in first_pass),
        "best": key(tuner.get_best_hyperparameters(1)[0].values),
    }


@F.section
def visit_order():
    GridTuner.seen = []
    tuner = GridTuner(build, directory=F.tmpdir(), project_name="g", overwrite=True)
    tuner.search(verbose=0)
    return [key(v) for v in GridTuner.seen]


@F.section
def max_trials_caps_grid():
    GridTuner.seen = []
    tuner = GridTuner(build, max_trials=5, directory=F.tmpdir(), project_name="g", overwrite=True)
    tuner.search(verbose=0)
    return {
        "n_runs": len(GridTuner.seen),
        "n_distinct": len({key(v) for v in GridTuner.seen}),
        "remaining_after": tuner.remaining_trials,
        "first_is_defaults": GridTuner.seen[0] == {"i": 1, "c": "a", "flag": False, "f": 0.0},
    }


def cond_build(hp):
    model = hp.Choice("model", ["lin", "tree"])
    with hp.conditional_scope("model", ["tree"]):
        depth = hp.Int("depth", 1, 3)
    if model == "tree":
        assert depth is not None
    hp.Boolean("scale")
    return None


@F.section
def conditional_grid():
    GridTuner.seen = []

    class CondTuner(GridTuner):
        def run_trial(self, trial, *args, **kwargs):
            values = dict(trial.hyperparameters.values)
            GridTuner.seen.append(values)
            return float(values.get("depth") or 0)

    tuner = CondTuner(cond_build, directory=F.tmpdir(), project_name="g", overwrite=True)
    tuner.search(verbose=0)
    keys = [key(v) for v in GridTuner.seen]
    expected = {key({"model": "lin", "scale": s}) for s in (False, True)} | {
        key({"model": "tree", "depth": d, "scale": s}) for d in (1, 2, 3) for s in (False, True)
    }
    return {
        "n_runs": len(keys),
        "n_distinct": len(set(keys)),
        "visited_equals_expected": set(keys) == expected,
        "visited": sorted(keys),
        "lin_trials_have_no_depth": all("depth" not in v for v in GridTuner.seen if v["model"] == "lin"),
    }


def log_build(hp):
    hp.Int("batch", 2, 32, step=2, sampling="log")
    hp.Choice("opt", ["adam", "sgd"], default="sgd")


@F.section
def log_step_grid_and_choice_default_first():
    GridTuner.seen = []

    class LogTuner(GridTuner):
        def run_trial(self, trial, *args, **kwargs):
            GridTuner.seen.append(dict(trial.hyperparameters.values))
            return 1.0

    tuner = LogTuner(log_build, directory=F.tmpdir(), project_name="g", overwrite=True)
    tuner.search(verbose=0)
    return {
        "n_runs": len(GridTuner.seen),
        "visited": sorted(key(v) for v in GridTuner.seen),
        "first": key(GridTuner.seen[0]),
    }


def continuous_build(hp):
    hp.Float("lr", 0.0, 1.0)


@F.section
def continuous_float_grid():
    GridTuner.seen = []

    class ContTuner(GridTuner):
        def run_trial(self, trial, *args, **kwargs):
            GridTuner.seen.append(dict(trial.hyperparameters.values))
            return trial.hyperparameters.values["lr"]

    tuner = ContTuner(continuous_build, directory=F.tmpdir(), project_name="g", overwrite=True)
    tuner.search(verbose=0)
    values = [v["lr"] for v in GridTuner.seen]
    return {
        "n_runs": len(values),
        "first": values[0],
        "sorted_values": sorted(round(v, 9) for v in values),
    }


F.dump()
