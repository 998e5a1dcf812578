"""The documented extension points: a BaseTuner/Tuner with an explicit oracle, a run_trial that
declares its own hyperparameters (black-box use), and a custom Oracle.populate_space."""

import importlib
import os

from dt_common import Facts

kt = importlib.import_module(os.environ["KT_MODULE"])  # the one switch line

F = Facts(kt)

# KerasTuner's public path is kt.engine.base_tuner.BaseTuner (diff_api_surface checks the paths);
# fall back so that a missing path does not hide the behaviour checked here.
try:
    BaseTuner = kt.engine.base_tuner.BaseTuner
except AttributeError:
    BaseTuner = kt.BaseTuner


def build(hp):
    hp.Int("i", 0, 2)
    hp.Choice("c", ["u", "v"])
    return None


@F.section
def base_tuner_with_grid_oracle():
    seen = []

    class T(BaseTuner):
        def run_trial(self, trial, *args, **kwargs):
            seen.append(tuple(sorted(trial.hyperparameters.values.items())))
            return {"loss": float(trial.hyperparameters.values["i"])}

    oracle = kt.oracles.GridSearchOracle(objective="loss")
    tuner = T(oracle=oracle, hypermodel=build, directory=F.tmpdir(), project_name="b", overwrite=True)
    tuner.search(verbose=0)
    return {
        "n_runs": len(seen),
        "distinct": len(set(seen)),
        "first": seen[0],
        "best_i": tuner.get_best_hyperparameters(1)[0].values["i"],
        "oracle_is_tuner_oracle": tuner.oracle is oracle,
    }


@F.section
def tuner_with_random_oracle_no_hypermodel():
    seen = []

    class T(kt.Tuner):
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            x = hp.Float("x", -2.0, 2.0)
            seen.append(x)
            return x * x + 2 * x + 1

    oracle = kt.oracles.RandomSearchOracle(objective=kt.Objective("score", "min"), max_trials=5, seed=9)

    class T2(T):
        def run_trial(self, trial, *args, **kwargs):
            return {"score": super().run_trial(trial, *args, **kwargs)}

    tuner = T2(oracle=oracle, directory=F.tmpdir(), project_name="t", overwrite=True)
    space_before = [p.name for p in tuner.oracle.get_space().space]
    tuner.search(verbose=0)
    space_after = [p.name for p in tuner.oracle.get_space().space]
    best = tuner.get_best_hyperparameters(1)[0].values["x"]
    return {
        "n_runs": len(seen),
        "first_is_default": seen[0] == -2.0,
        "later_values_vary": len(set(seen[1:])) == len(seen) - 1,
        "later_in_range": all(-2.0 <= x <= 2.0 for x in seen),
        "space_before": space_before,
        "space_after": space_after,
        "best_is_min": best == min(seen, key=lambda x: x * x + 2 * x + 1),
    }


@F.section
def black_box_random_search_docstring_example():
    calls = []

    class MyTuner(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            x = hp.Float("x", -2.0, 2.0)
            calls.append(x)
            return x * x + 2 * x + 1

    tuner = MyTuner(max_trials=6, seed=2, directory=F.tmpdir(), project_name="bb", overwrite=True)
    tuner.search(verbose=0)
    return {
        "n_runs": len(calls),
        "first_is_default": calls[0] == -2.0,
        "distinct": len(set(calls)),
        "best_score_is_min": tuner.oracle.get_best_trials(1)[0].score == min(x * x + 2 * x + 1 for x in calls),
    }


@F.section
def black_box_grid_search():
    calls = []

    class MyTuner(kt.GridSearch):
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            a = hp.Choice("a", [3, 1, 2])
            b = hp.Boolean("b")
            calls.append((a, b))
            return float(a)

    tuner = MyTuner(directory=F.tmpdir(), project_name="bg", overwrite=True)
    tuner.search(verbose=0)
    return {"first": calls[0], "n_runs": len(calls), "visited": sorted(set(calls))}


@F.section
def tuner_requires_hypermodel_or_run_trial():
    oracle = kt.oracles.RandomSearchOracle(max_trials=1)
    try:
        kt.Tuner(oracle=oracle, directory=F.tmpdir(), overwrite=True)
    except Exception as exc:  # noqa: BLE001
        return {"value_error": isinstance(exc, ValueError)}
    return {"value_error": None}


@F.section
def base_tuner_rejects_non_oracle():
    class T(BaseTuner):
        def run_trial(self, trial, *args, **kwargs):
            return 0.0

    try:
        T(oracle="random", hypermodel=build, directory=F.tmpdir(), overwrite=True)
    except Exception as exc:  # noqa: BLE001
        return {"value_error": isinstance(exc, ValueError)}
    return {"value_error": None}


@F.section
def unknown_tuner_kwarg_rejected():
    try:
        kt.RandomSearch(build, max_trials=1, directory=F.tmpdir(), overwrite=True, not_an_argument=1)
    except Exception as exc:  # noqa: BLE001
        return {"value_error": isinstance(exc, ValueError)}
    return {"value_error": None}


class ListOracle(kt.Oracle):
    """Proposes x = 0, 1, 2, ... then stops; records what it sees."""

    log = []

    def populate_space(self, trial_id):
        n = len(self.trials)
        ListOracle.log.append({"trial_id_type": type(trial_id).__name__, "n_trials_seen": n})
        if n >= 4:
            return {"status": "STOPPED", "values": None}
        return {"status": "RUNNING", "values": {"x": n * 10}}


@F.section
def custom_oracle_populate_space():
    ListOracle.log = []
    seen = []

    class T(BaseTuner):
        def run_trial(self, trial, *args, **kwargs):
            seen.append(dict(trial.hyperparameters.values))
            return float(-trial.hyperparameters.values["x"])

    def build_x(hp):
        hp.Int("x", 0, 100)

    oracle = ListOracle(max_trials=10)
    tuner = T(oracle=oracle, hypermodel=build_x, directory=F.tmpdir(), project_name="c", overwrite=True)
    tuner.search(verbose=0)
    return {
        "seen": seen,
        "populate_calls": len(ListOracle.log),
        "n_trials_seen": [e["n_trials_seen"] for e in ListOracle.log],
        "trial_id_types": sorted({e["trial_id_type"] for e in ListOracle.log}),
        "best_x": tuner.get_best_hyperparameters(1)[0].values["x"],
        "remaining": tuner.remaining_trials,
    }


@F.section
def hooks_are_called():
    events = []

    class T(kt.RandomSearch):
        def on_search_begin(self):
            events.append("search_begin")
            super().on_search_begin()

        def on_trial_begin(self, trial):
            events.append("trial_begin")
            super().on_trial_begin(trial)

        def on_trial_end(self, trial):
            events.append("trial_end")
            super().on_trial_end(trial)

        def on_search_end(self):
            events.append("search_end")
            super().on_search_end()

        def run_trial(self, trial, *args, **kwargs):
            events.append("run")
            return 1.0

    tuner = T(build, max_trials=2, seed=1, directory=F.tmpdir(), project_name="h", overwrite=True)
    tuner.search(verbose=0)
    return events


F.dump()
