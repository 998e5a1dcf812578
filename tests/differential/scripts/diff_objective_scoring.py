"""How a trial's score is computed: History objects (per-epoch metrics, best epoch), list objectives
(sum of 'min' metrics minus sum of 'max' metrics) and dict returns with a list objective."""

import importlib
import os

from dt_common import Facts, exc_fact
from keras.callbacks import History  # a real History, built by hand: nothing is trained

kt = importlib.import_module(os.environ["KT_MODULE"])  # the one switch line

F = Facts(kt)


def build(hp):
    hp.Int("a", 0, 9)
    hp.Int("b", 0, 9)
    return None


def history(metrics):
    h = History()
    h.history = {k: list(v) for k, v in metrics.items()}
    return h


def run(metrics_fn, objective, expected_fn, max_trials=6, wrap=history):
    class T(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            return wrap(metrics_fn(trial.hyperparameters.values))

    tuner = T(build, objective=objective, max_trials=max_trials, seed=4, directory=F.tmpdir(),
              project_name="o", overwrite=True)
    try:
        tuner.search(verbose=0)
    except Exception as exc:  # noqa: BLE001
        return {"raised": exc_fact(exc, kt)}
    trials = list(tuner.oracle.trials.values())
    expected = {t.trial_id: expected_fn(metrics_fn(t.hyperparameters.values)) for t in trials}
    best = tuner.oracle.get_best_trials(len(trials))
    direction = str(tuner.oracle.objective.direction)
    best_scores = [t.score for t in best]
    return {
        "raised": None,
        "objective_name": tuner.oracle.objective.name,
        "direction": direction,
        "scores_as_expected": all(abs(t.score - expected[t.trial_id][0]) < 1e-9 for t in trials),
        "best_steps_as_expected": [t.best_step for t in trials] == [expected[t.trial_id][1] for t in trials],
        "best_sorted": best_scores == sorted(best_scores, reverse=direction == "max"),
        "statuses": sorted({str(t.status) for t in trials}),
    }


def two_metrics(v):
    return {"m1": [v["a"] + 3.0, v["a"] + 1.0, v["a"] + 2.0], "m2": [v["b"] * 1.0, v["b"] + 0.5, v["b"] + 4.0]}


def best_of(series, minimise=True):
    pick = min if minimise else max
    value = pick(series)
    return value, series.index(value)


@F.section
def history_single_min():
    return run(lambda v: {"val_loss": [v["a"] + 3.0, v["a"] + 1.0, v["a"] + 2.0], "loss": [9.0, 8.0, 7.0]},
               "val_loss", lambda m: best_of(m["val_loss"]))


@F.section
def history_single_max():
    return run(lambda v: {"val_accuracy": [0.1 * v["a"], 0.1 * v["a"] + 0.3, 0.1 * v["a"] + 0.2]},
               "val_accuracy", lambda m: best_of(m["val_accuracy"], minimise=False))


@F.section
def history_list_objective_min_minus_max():
    def expected(m):
        per_epoch = [m["m1"][e] - m["m2"][e] for e in range(3)]
        return best_of(per_epoch)

    return run(two_metrics, [kt.Objective("m1", "min"), kt.Objective("m2", "max")], expected)


@F.section
def history_list_of_names():
    def metrics(v):
        return {"val_loss": [v["a"] + 2.0, v["a"] + 1.0], "val_accuracy": [v["b"] * 0.1, v["b"] * 0.1 + 0.05]}

    def expected(m):
        return best_of([m["val_loss"][e] - m["val_accuracy"][e] for e in range(2)])

    return run(metrics, ["val_loss", "val_accuracy"], expected)


@F.section
def history_missing_objective_metric():
    return run(lambda v: {"loss": [1.0, 0.5]}, "val_loss", lambda m: (None, None))


@F.section
def dict_with_list_objective():
    def expected(m):
        return m["m1"][0] - m["m2"][0], 0

    return run(two_metrics, [kt.Objective("m1", "min"), kt.Objective("m2", "max")], expected,
               wrap=lambda m: {k: v[0] for k, v in m.items()})


@F.section
def dict_with_single_objective():
    return run(two_metrics, kt.Objective("m2", "max"), lambda m: (m["m2"][0], 0),
               wrap=lambda m: {k: v[0] for k, v in m.items()})


F.dump()
