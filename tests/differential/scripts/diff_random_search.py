"""RandomSearch over a BaseTuner-style run_trial: trial counts, ids, best-trial ordering, argument
passing, exhaustion of a small space, remaining_trials and the printed summaries."""

import importlib
import os
import re

from dt_common import Facts, quiet_call

kt = importlib.import_module(os.environ["KT_MODULE"])  # the one switch line

F = Facts(kt)

C_INDEX = {"x": 0, "y": 1, "z": 2}


def build(hp):
    hp.Int("a", 0, 9)
    hp.Int("b", 0, 9)
    hp.Choice("c", ["x", "y", "z"])
    return None


def score_of(values):
    return (values["a"] - 4) ** 2 + values["b"] * 0.5 + C_INDEX[values["c"]] * 0.25


class FloatTuner(kt.RandomSearch):
    calls = []
    objects = []

    def run_trial(self, trial, *args, **kwargs):
        hp = trial.hyperparameters
        type(self).calls.append({"args": list(args), "kwargs": {k: kwargs[k] for k in sorted(kwargs)},
                                 "trial_id_type": type(trial.trial_id).__name__})
        type(self).objects.append(kwargs.get("extra"))
        return score_of(hp.values)


@F.section
def max_trials_and_ids():
    FloatTuner.calls = []
    FloatTuner.objects = []
    tuner = FloatTuner(build, max_trials=6, seed=3, directory=F.tmpdir(), project_name="p", overwrite=True)
    before = tuner.remaining_trials
    extra = {"k": [1, 2]}
    tuner.search(11, "two", verbose=0, extra=extra)
    n_calls_first = len(FloatTuner.calls)
    tuner.search(verbose=0)  # max_trials already reached: nothing more runs
    trials = list(tuner.oracle.trials.values())
    configs = [tuple(sorted(t.hyperparameters.values.items())) for t in trials]
    in_range = all(0 <= t.hyperparameters.values["a"] <= 9 and 0 <= t.hyperparameters.values["b"] <= 9
                   and t.hyperparameters.values["c"] in C_INDEX for t in trials)
    return {
        "run_trial_calls": n_calls_first,
        "second_search_new_calls": len(FloatTuner.calls) - n_calls_first,
        "kwargs_object_passed_unchanged": FloatTuner.objects[0] is extra,
        "len_oracle_trials": len(tuner.oracle.trials),
        "trial_ids_are_str": all(isinstance(k, str) for k in tuner.oracle.trials),
        "trial_ids_distinct": len(set(tuner.oracle.trials)) == len(tuner.oracle.trials),
        "trial_id_attr_matches_key": all(k == t.trial_id for k, t in tuner.oracle.trials.items()),
        "configs_distinct": len(set(configs)) == len(configs),
        "values_in_range": in_range,
        "value_keys": sorted({k for t in trials for k in t.hyperparameters.values}),
        "statuses": sorted({str(t.status) for t in trials}),
        "remaining_before": before,
        "remaining_after": tuner.remaining_trials,
        "args_seen": FloatTuner.calls[0]["args"],
        "kwargs_seen": FloatTuner.calls[0]["kwargs"],
        "trial_id_type_in_run_trial": FloatTuner.calls[0]["trial_id_type"],
    }


@F.section
def best_ordering_float_minimised():
    FloatTuner.calls = []
    tuner = FloatTuner(build, max_trials=8, seed=5, directory=F.tmpdir(), project_name="p", overwrite=True)
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    evaluated = sorted(score_of(t.hyperparameters.values) for t in trials)
    best_hps = tuner.get_best_hyperparameters(3)
    best_trials = tuner.oracle.get_best_trials(3)
    return {
        "objective": [tuner.oracle.objective.name, str(tuner.oracle.objective.direction)],
        "n_best_hps": len(best_hps),
        "best_is_true_min": score_of(best_hps[0].values) == evaluated[0],
        "best3_scores_sorted": [score_of(h.values) for h in best_hps] == evaluated[:3],
        "best_trials_scores_match": [t.score for t in best_trials] == evaluated[:3],
        "score_equals_returned_float": all(t.score == score_of(t.hyperparameters.values) for t in trials),
        "hp_type": type(best_hps[0]).__name__,
        "best_hp_get": [best_hps[0].get(n) == best_hps[0].values[n] for n in ("a", "b", "c")],
        "default_get_best_len": len(tuner.get_best_hyperparameters()),
        "ask_more_than_run": len(tuner.get_best_hyperparameters(50)),
    }


class DictTuner(kt.RandomSearch):
    def run_trial(self, trial, *args, **kwargs):
        v = trial.hyperparameters.values
        return {"score": -score_of(v), "aux": float(v["a"])}


@F.section
def best_ordering_dict_maximised():
    tuner = DictTuner(build, objective=kt.Objective("score", "max"), max_trials=8, seed=7,
                      directory=F.tmpdir(), project_name="p", overwrite=True)
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    evaluated = sorted((-score_of(t.hyperparameters.values) for t in trials), reverse=True)
    best_trials = tuner.oracle.get_best_trials(4)
    first = best_trials[0]
    return {
        "best_scores_desc": [t.score for t in best_trials] == evaluated[:4],
        "best_hp_is_true_max": -score_of(tuner.get_best_hyperparameters(1)[0].values) == evaluated[0],
        "aux_metric_recorded": first.metrics.get_last_value("aux") == float(first.hyperparameters.values["a"]),
        "aux_exists": first.metrics.exists("aux"),
        "score_metric_best_value": first.metrics.get_best_value("score") == first.score,
    }


class SmallTuner(kt.RandomSearch):
    def run_trial(self, trial, *args, **kwargs):
        return float(len(trial.hyperparameters.values["c"]))


def small_build(hp):
    hp.Choice("c", ["p", "qq", "rrr"])


@F.section
def exhausted_space_stops_early():
    tuner = SmallTuner(small_build, max_trials=10, seed=1, directory=F.tmpdir(), project_name="p", overwrite=True)
    tuner.search(verbose=0)
    values = sorted(t.hyperparameters.values["c"] for t in tuner.oracle.trials.values())
    completed = sorted(t.hyperparameters.values["c"] for t in tuner.oracle.trials.values() if str(t.status) == "COMPLETED")
    return {"n_trials": len(values), "values": values, "completed_values": completed}


def _normalise(text, tmp):
    """Keep the line structure; blank out ids, values and scores (the random draws differ)."""
    out = []
    for line in text.replace(tmp, "<DIR>").splitlines():
        line = re.sub(r"^Trial \S+ summary$", "Trial <ID> summary", line)
        line = re.sub(r"^Score: .*$", "Score: <S>", line)
        line = re.sub(r"^(\w+): .*$", r"\1: <V>", line)
        out.append(line)
    return out


@F.section
def results_summary_text():
    tmp = F.tmpdir()
    tuner = FloatTuner(build, max_trials=4, seed=11, directory=tmp, project_name="proj", overwrite=True)
    tuner.search(verbose=0)
    _, out = quiet_call(tuner.results_summary, num_trials=2)
    lines = _normalise(out, tmp)
    best = tuner.oracle.get_best_trials(2)
    return {
        "lines": lines,
        "n_trial_blocks": sum(1 for line in lines if line == "Trial <ID> summary"),
        "n_score_lines": sum(1 for line in lines if line.startswith("Score: ")),
        "score_lines_are_best_scores": [line for line in out.splitlines() if line.startswith("Score: ")]
        == [f"Score: {t.score}" for t in best],
        "scores_ascending": [t.score for t in best] == sorted(t.score for t in best),
    }


@F.section
def search_space_summary_text():
    tuner = FloatTuner(build, max_trials=1, directory=F.tmpdir(), project_name="p", overwrite=True)
    _, out = quiet_call(tuner.search_space_summary)
    lines = out.splitlines()
    return {
        "first_two": lines[:2],
        "name_lines": [line for line in lines if re.match(r"^[\w/]+ \(\w+\)$", line)],
    }


@F.section
def search_verbose_zero_is_quiet():
    tuner = FloatTuner(build, max_trials=2, seed=2, directory=F.tmpdir(), project_name="p", overwrite=True)
    _, out = quiet_call(tuner.search, verbose=0)
    return {"stdout_empty": out.strip() == ""}


F.dump()
