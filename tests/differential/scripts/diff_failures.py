"""Failing trials: retries, the consecutive-failure limit, FailedTrialError, fatal errors, and
results run_trial may not return (missing objective, None, NaN)."""

import importlib
import os

from dt_common import Facts, exc_fact

kt = importlib.import_module(os.environ["KT_MODULE"])  # the one switch line

F = Facts(kt)


def build(hp):
    hp.Int("a", 0, 50)
    hp.Int("b", 0, 50)
    return None


def run_search(behaviour, objective=None, max_trials=10, **tuner_kwargs):
    """Run a RandomSearch whose run_trial is ``behaviour(trial, call_index)``; report what happened."""
    calls = []

    class T(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            calls.append((trial.trial_id, tuple(sorted(trial.hyperparameters.values.items()))))
            return behaviour(trial, len(calls))

    tuner = T(build, objective=objective, max_trials=max_trials, seed=1, directory=F.tmpdir(),
              project_name="f", overwrite=True, **tuner_kwargs)
    raised = None
    try:
        tuner.search(verbose=0)
    except Exception as exc:  # noqa: BLE001
        raised = exc_fact(exc, kt)
    ids = [c[0] for c in calls]
    by_id = {}
    for trial_id, values in calls:
        by_id.setdefault(trial_id, set()).add(values)
    statuses = [str(t.status) for t in tuner.oracle.trials.values()]
    return {
        "raised": raised,
        "run_trial_calls": len(calls),
        "distinct_trials_run": len(set(ids)),
        "runs_per_trial": sorted(ids.count(i) for i in set(ids)),
        "retries_keep_values": all(len(v) == 1 for v in by_id.values()),
        "len_oracle_trials": len(tuner.oracle.trials),
        "status_counts": {s: statuses.count(s) for s in sorted(set(statuses))},
    }


def always_value_error(trial, n):
    raise ValueError("boom")


@F.section
def always_raises_defaults():
    return run_search(always_value_error)


@F.section
def always_raises_with_retries():
    return run_search(always_value_error, max_retries_per_trial=2, max_consecutive_failed_trials=2)


@F.section
def failed_trial_error_is_not_retried():
    def fail(trial, n):
        raise kt.errors.FailedTrialError("too slow")

    return run_search(fail, max_retries_per_trial=3, max_consecutive_failed_trials=2)


@F.section
def flaky_trials_recover_on_retry():
    seen = set()

    def flaky(trial, n):
        if trial.trial_id not in seen:
            seen.add(trial.trial_id)
            raise RuntimeError("first run fails")
        return float(n)

    return run_search(flaky, max_trials=3, max_retries_per_trial=1)


@F.section
def non_consecutive_failures_do_not_stop():
    def alternate(trial, n):
        if n % 2 == 1:
            raise kt.errors.FailedTrialError("odd call")
        return float(n)

    return run_search(alternate, max_trials=6, max_consecutive_failed_trials=2)


@F.section
def best_hps_skip_failed_trials():
    calls = []

    class T(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            calls.append(trial.trial_id)
            if len(calls) % 2 == 1:
                raise kt.errors.FailedTrialError("odd")
            return float(trial.hyperparameters.values["a"])

    tuner = T(build, max_trials=6, seed=4, directory=F.tmpdir(), project_name="f", overwrite=True)
    tuner.search(verbose=0)
    best = tuner.oracle.get_best_trials(3)
    completed = sorted(t.score for t in tuner.oracle.trials.values() if str(t.status) == "COMPLETED")
    return {
        "best_statuses": [str(t.status) for t in best],
        "best_scores_are_completed_minima": [t.score for t in best] == completed[:3],
        "padding_with_failed": [str(t.status) for t in tuner.oracle.get_best_trials(5)],
    }


@F.section
def dict_without_objective_metric():
    return run_search(lambda trial, n: {"loss": 1.0}, objective="val_loss", max_retries_per_trial=2)


@F.section
def dict_without_default_objective():
    return run_search(lambda trial, n: {"loss": 1.0}, objective=None)


@F.section
def dict_with_default_objective_key():
    return run_search(lambda trial, n: {"default_objective": float(n), "other": 2.0}, objective=None, max_trials=2)


@F.section
def returns_none():
    return run_search(lambda trial, n: None, max_retries_per_trial=2)


@F.section
def returns_string():
    return run_search(lambda trial, n: "0.5", max_retries_per_trial=2)


@F.section
def raises_fatal_error():
    def fatal(trial, n):
        raise kt.errors.FatalValueError("stop now")

    return run_search(fatal, max_retries_per_trial=2)


@F.section
def returns_nan():
    return run_search(lambda trial, n: float("nan"), max_trials=6)


@F.section
def returns_list_of_results_averaged():
    calls = []

    class T(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            calls.append(1)
            a = float(trial.hyperparameters.values["a"])
            return [{"val_loss": a, "x": 1.0}, {"val_loss": a + 2.0, "x": 3.0}]

    tuner = T(build, objective="val_loss", max_trials=3, seed=2, directory=F.tmpdir(), project_name="f", overwrite=True)
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    return {
        "scores_are_means": all(t.score == t.hyperparameters.values["a"] + 1.0 for t in trials),
        "x_mean": sorted({t.metrics.get_last_value("x") for t in trials}),
    }


F.dump()
