#!/usr/bin/env python3
"""Warm start against a cold start and against the manual route (add_trials), side by side.

    python3 benchmarks/transfer.py [--seeds 10] [--evals 64] [--source-evals 64] [--only a,b]
                                   [--algorithms tpe[,gp]] [--arms a,b]

Run it with any Python 3.10+: it uses ``benchmarks/.venv`` with suite.py's requirements and stamp
(optuna, scikit-learn, this repository editable), re-executes itself inside and runs on one thread
(OMP/MKL/OPENBLAS_NUM_THREADS=1), in one process, pair after pair.

Each pair is a source task and a target task. For each pair and seed the source study runs once:
hyperknob random search, ``--source-evals`` evaluations, its seed derived from the run's seed. On
the target, each arm then runs ``--evals`` evaluations with that seed:

  cold          hyperknob (``--algorithms``: "tpe", or "gp") with no warm start;
  warm          the same with ``warm_start=[source]`` (the source guides, it is not in the study);
  hk_add        the same, cold, after ``study.add_trials(source.trials)`` (results copied in);
  optuna_add    optuna's manual equivalent: TPESampler(multivariate=True, seed) (GPSampler(seed)
                for "gp") after ``study.add_trials`` of the source's trials as optuna FrozenTrials
                (``optuna.trial.create_trial``; a source value outside the target's range is
                rejected by optuna, so that trial is left out);
  optuna_cold   optuna's sampler with nothing added (the reference for optuna's own sampler).

Only the target evaluations an arm runs count (a copied-in source result is never its best). Per
pair, over seeds: the median number of evaluations an arm needs before its best-so-far reaches the
cold arm's final best (same seed; ``--evals + 1`` meaning never), as a fraction of ``--evals``;
the share of seeds where the arm ends at least as good as cold; the median final best of every
arm; and the seed noise, the median absolute deviation over seeds of cold's final best.

Goals (printed with the tables): with a related source, warm reaches cold's final best within a
third of the evaluations on the median related pair, and ends at least as good as cold on >= 80%
of the related pairs' seeds; with an unrelated or adversarial source, warm's median final best is
never worse than cold's by more than the seed noise.

Prints Markdown tables and writes benchmarks/results/transfer.json.
"""
from __future__ import annotations

import argparse
import functools
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from _common import HERE, ROOT, TORCH, chosen, ensure_venv, log, machine_info, thread_vars, write_json
from suite import REQUIREMENTS, STAMP_NAME, VENV, VENV_PY, in_venv  # suite.py's venv (torch: optuna's GPSampler)

TAG = "transfer"
RESULTS = HERE / "results" / "transfer.json"
CHILD_ENV = {**thread_vars(1), "PYTHONWARNINGS": "ignore", "CUDA_VISIBLE_DEVICES": ""}
PACKAGES = ["hyperknob", "optuna", "scikit-learn", "numpy", "scipy", "torch"]

ARMS = {
    "cold": "hyperknob, cold",
    "warm": "hyperknob warm_start=[source]",
    "hk_add": "hyperknob add_trials(source)",
    "optuna_add": "optuna add_trials(source)",
    "optuna_cold": "optuna, cold",
}
ALGORITHMS = {"tpe": "hyperknob TPE / optuna TPESampler(multivariate=True)",
              "gp": "hyperknob GP / optuna GPSampler"}
KINDS = ("related", "unrelated", "adversarial")

_log = functools.partial(log, TAG)


# --------------------------------------------------------------------------- spaces

@dataclass(frozen=True)
class Param:
    """One hyperparameter: kind "float", "int" or "choice"."""

    kind: str
    name: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    choices: tuple = ()

    def contains(self, value) -> bool:
        if self.kind == "choice":
            return value in self.choices
        return value is not None and self.low <= value <= self.high


def fl(name: str, low: float, high: float, log: bool = False) -> Param:
    return Param("float", name, low, high, log)


def it(name: str, low: int, high: int, log: bool = False) -> Param:
    return Param("int", name, low, high, log)


def hk_values(hp, space: tuple[Param, ...]) -> dict:
    """Declares ``space`` on hyperknob's ``hp`` and returns the values of this trial."""
    out = {}
    for p in space:
        sampling = "log" if p.log else "linear"
        if p.kind == "float":
            out[p.name] = hp.Float(p.name, p.low, p.high, sampling=sampling)
        elif p.kind == "int":
            out[p.name] = hp.Int(p.name, int(p.low), int(p.high), sampling=sampling)
        else:
            out[p.name] = hp.Choice(p.name, list(p.choices))
    return out


def optuna_distributions(space: tuple[Param, ...]) -> dict:
    import optuna.distributions as d

    out = {}
    for p in space:
        if p.kind == "float":
            out[p.name] = d.FloatDistribution(p.low, p.high, log=p.log)
        elif p.kind == "int":
            out[p.name] = d.IntDistribution(int(p.low), int(p.high), log=p.log)
        else:
            out[p.name] = d.CategoricalDistribution(list(p.choices))
    return out


def optuna_values(trial, space: tuple[Param, ...]) -> dict:
    out = {}
    for p in space:
        if p.kind == "float":
            out[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log)
        elif p.kind == "int":
            out[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
        else:
            out[p.name] = trial.suggest_categorical(p.name, list(p.choices))
    return out


# --------------------------------------------------------------------------- tasks

@dataclass(frozen=True)
class Task:
    """A loss to minimise over ``space``."""

    label: str
    space: tuple[Param, ...]
    loss: Callable[[dict], float]


@dataclass(frozen=True)
class Pair:
    kind: str  # related, unrelated, adversarial
    what: str  # the case
    source: Task
    target: Task


@functools.cache
def dataset(name: str, fraction: float = 1.0):
    """A scikit-learn data set (``fraction`` < 1: a stratified subsample, fixed)."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    if fraction < 1.0:
        X, _, y, _ = train_test_split(X, y, train_size=fraction, stratify=y, random_state=0)
    return X, y


def cv_error(make_estimator: Callable[[dict], object], data: str, fraction: float = 1.0,
             sign: float = 1.0) -> Callable[[dict], float]:
    """1 - mean 3-fold CV accuracy of ``make_estimator(params)`` (times ``sign``)."""

    def loss(params: dict) -> float:
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        X, y = dataset(data, fraction)
        cv = StratifiedKFold(3, shuffle=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acc = cross_val_score(make_estimator(params), X, y, cv=cv).mean()
        return sign * (1.0 - float(acc))

    return loss


def svc(params: dict):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return make_pipeline(StandardScaler(), SVC(C=params["C"], gamma=params["gamma"]))


def gboost(params: dict):
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(n_estimators=10, random_state=0, **params)


def branin_unit(u) -> float:
    """Branin on the unit square (minimum 0.397887 at three points)."""
    x1, x2 = 15.0 * u[0] - 5.0, 15.0 * u[1]
    b, c, t = 5.1 / (4 * math.pi ** 2), 5.0 / math.pi, 1.0 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6.0) ** 2 + 10.0 * (1 - t) * math.cos(x1) + 10.0


QUAD_CENTRE = (0.35, 0.55, 0.45, 0.6)
QUAD_WEIGHTS = (1.0, 2.0, 4.0, 8.0)


def quad4(u, shift: float = 0.0) -> float:
    return sum(w * (x - c - shift) ** 2 for x, c, w in zip(u, QUAD_CENTRE, QUAD_WEIGHTS, strict=True))


def sines4(u) -> float:
    """A wavy 4-D function with no relation to quad4 (rank correlation about 0 on random points)."""
    return sum(math.sin(9.0 * x + 1.3 * i) for i, x in enumerate(u)) + 0.5 * math.cos(7.0 * u[0] * u[3])


def _unit(dims: int) -> tuple[Param, ...]:
    return tuple(fl(f"x{i}", 0.0, 1.0) for i in range(dims))


def _coords(params: dict, dims: int) -> list[float]:
    return [params[f"x{i}"] for i in range(dims)]


def pairs() -> dict[str, Pair]:
    svc_space = (fl("C", 1e-2, 1e3, log=True), fl("gamma", 1e-5, 1e1, log=True))
    gb_space = (fl("learning_rate", 1e-3, 1.0, log=True), it("max_depth", 1, 5),
                it("min_samples_leaf", 1, 50, log=True))
    gb_old = (fl("learning_rate", 1e-3, 1.0, log=True), it("max_depth", 1, 5))
    gb_new = (fl("learning_rate", 1e-2, 1.0, log=True), it("max_depth", 1, 5), fl("subsample", 0.4, 1.0))
    svc_cancer = Task("SVC, breast_cancer", svc_space, cv_error(svc, "breast_cancer"))
    quad_target = Task("100 * quad4(x - 0.1) + 5", _unit(4), lambda p: 100.0 * quad4(_coords(p, 4), 0.1) + 5.0)
    return {
        "svc_wine_to_cancer": Pair(
            "related", "same model, two data sets",
            Task("SVC, wine", svc_space, cv_error(svc, "wine")), svc_cancer),
        "gb_cancer30_to_cancer": Pair(
            "related", "same model, 30% of the data -> all of it",
            Task("GB(10 trees), 30% of breast_cancer", gb_space, cv_error(gboost, "breast_cancer", 0.3)),
            Task("GB(10 trees), breast_cancer", gb_space, cv_error(gboost, "breast_cancer"))),
        "gb_space_changed": Pair(
            "related", "changed space: + subsample, learning_rate [1e-3, 1] -> [1e-2, 1]",
            Task("GB(10 trees) (learning_rate, max_depth), breast_cancer", gb_old, cv_error(gboost, "breast_cancer")),
            Task("GB(10 trees) (learning_rate, max_depth, subsample), breast_cancer", gb_new,
                 cv_error(gboost, "breast_cancer"))),
        "branin_shifted": Pair(
            "related", "synthetic: shifted by 0.1, scale x10",
            Task("branin(x)", _unit(2), lambda p: branin_unit(_coords(p, 2))),
            Task("10 * branin(x - 0.1) + 5", _unit(2),
                 lambda p: 10.0 * branin_unit([v - 0.1 for v in _coords(p, 2)]) + 5.0)),
        "quad4_shifted": Pair(
            "related", "synthetic: 4-D quadratic shifted by 0.1, scale x100",
            Task("quad4(x)", _unit(4), lambda p: quad4(_coords(p, 4))), quad_target),
        "unrelated_to_quad4": Pair(
            "unrelated", "synthetic: a different function as the source",
            Task("sines4(x)", _unit(4), lambda p: sines4(_coords(p, 4))), quad_target),
        "negated_quad4": Pair(
            "adversarial", "synthetic: the negated target as the source",
            Task("-(100 * quad4(x - 0.1) + 5)", _unit(4), lambda p: -quad_target.loss(p)), quad_target),
        "negated_svc_cancer": Pair(
            "adversarial", "the negated target as the source (SVC accuracy maximised as a loss)",
            Task("-(SVC error), breast_cancer", svc_space, cv_error(svc, "breast_cancer", sign=-1.0)), svc_cancer),
    }


# --------------------------------------------------------------------------- one seed of one pair

@dataclass
class Recorder:
    """The losses of the evaluations a study actually ran, in order, and their cost."""

    loss: Callable[[dict], float]
    values: list = field(default_factory=list)
    max_eval_s: float = 0.0
    eval_s: float = 0.0

    def __call__(self, params: dict) -> float:
        t0 = time.perf_counter()
        v = self.loss(params)
        dt = time.perf_counter() - t0
        self.eval_s += dt
        self.max_eval_s = max(self.max_eval_s, dt)
        self.values.append(v)
        return v


def hk_objective(task: Task, rec: Recorder):
    return lambda hp: rec(hk_values(hp, task.space))


def run_source(task: Task, seed: int, n: int, tmp: str, name: str):
    import hyperknob as hk

    study = hk.create_study(tmp, name, storage=":memory:", algorithm="random", seed=seed)
    rec = Recorder(task.loss)
    study.optimize(hk_objective(task, rec), n_trials=n, verbose=0)
    return study, rec


def optuna_sampler(algorithm: str, seed: int):
    import optuna

    if algorithm == "tpe":
        return optuna.samplers.TPESampler(multivariate=True, seed=seed)
    return optuna.samplers.GPSampler(seed=seed)


def as_optuna_trials(source_trials, space: tuple[Param, ...]) -> tuple[list, int]:
    """The source's completed trials as optuna FrozenTrials on the target's space; a trial with a
    value outside the target's range (optuna would reject it) is left out: (trials, left out)."""
    import optuna

    dists = optuna_distributions(space)
    by_name = {p.name: p for p in space}
    out, skipped = [], 0
    for t in source_trials:
        if t.score is None or not math.isfinite(float(t.score)):
            continue
        params = {k: v for k, v in t.values.items() if k in by_name}
        if not all(by_name[k].contains(v) for k, v in params.items()):
            skipped += 1
            continue
        out.append(optuna.trial.create_trial(params=params, distributions={k: dists[k] for k in params},
                                             value=float(t.score)))
    return out, skipped


def run_arm(arm: str, algorithm: str, target: Task, source, seed: int, evals: int, tmp: str, name: str) -> dict:
    rec = Recorder(target.loss)
    extra: dict = {}
    t0 = time.perf_counter()
    if arm in ("cold", "warm", "hk_add"):
        import hyperknob as hk

        kw = {"warm_start": [source]} if arm == "warm" else {}
        study = hk.create_study(tmp, name, storage=":memory:", algorithm=algorithm, seed=seed, **kw)
        if arm == "hk_add":
            extra["added"] = len(study.add_trials(source.trials))
        study.optimize(hk_objective(target, rec), n_trials=evals, verbose=0)
        if arm == "warm" and study.warm_start is not None and study.warm_start.summaries:
            extra["final_weight"] = study.warm_start.summaries[0].weight
    else:
        import optuna

        study = optuna.create_study(direction="minimize", sampler=optuna_sampler(algorithm, seed))
        if arm == "optuna_add":
            trials, skipped = as_optuna_trials(source.trials, target.space)
            study.add_trials(trials)
            extra.update(added=len(trials), left_out=skipped)
        study.optimize(lambda trial: rec(optuna_values(trial, target.space)), n_trials=evals)
    wall = time.perf_counter() - t0
    return {"values": rec.values, "wall_s": wall, "eval_s": rec.eval_s, "max_eval_s": rec.max_eval_s, **extra}


def _tol(v: float) -> float:
    return 1e-9 * max(1.0, abs(v))


def evals_to_reach(values: list, target: float, cap: int) -> int:
    """1-based index of the first evaluation whose best-so-far reaches ``target``; ``cap`` if none."""
    best = math.inf
    for i, v in enumerate(values):
        best = min(best, v)
        if best <= target + _tol(target):
            return i + 1
    return cap


def run_seed(pair: Pair, algorithm: str, arms: list[str], seed: int, args, tmp: str, tag: str) -> dict:
    source, src_rec = run_source(pair.source, 10_000 + seed, args.source_evals, tmp, f"{tag}-src")
    out = {"source": {"best": min(src_rec.values), "max_eval_s": src_rec.max_eval_s, "eval_s": src_rec.eval_s},
           "arms": {}}
    for arm in arms:
        out["arms"][arm] = run_arm(arm, algorithm, pair.target, source, seed, args.evals, tmp, f"{tag}-{arm}")
    cold_best = min(out["arms"]["cold"]["values"])
    for r in out["arms"].values():
        r["final"] = min(r["values"])
        r["evals_to_cold"] = evals_to_reach(r["values"], cold_best, args.evals + 1)
        r["at_least_cold"] = r["final"] <= cold_best + _tol(cold_best)
    return out


# --------------------------------------------------------------------------- summary and tables

def mad(xs: list[float]) -> float:
    m = statistics.median(xs)
    return statistics.median(abs(x - m) for x in xs)


def checkpoints(evals: int) -> list[int]:
    """The evaluation counts the anytime table reads off: 8, 16, 32 ... up to ``evals``."""
    out, n = [], 8
    while n < evals:
        out.append(n)
        n *= 2
    return [*out, evals]


def summarise(raw: dict, arms: list[str], evals: int) -> dict:
    summary: dict = {}
    for pname, by_alg in raw.items():
        for algorithm, seeds in by_alg["seeds"].items():
            cold = [s["arms"]["cold"]["final"] for s in seeds]
            s_out = {"kind": by_alg["kind"], "noise": mad(cold), "arms": {}}
            for arm in arms:
                runs = [s["arms"][arm] for s in seeds]
                finals = [r["final"] for r in runs]
                reach = [r["evals_to_cold"] for r in runs]
                row = {
                    "median_final": statistics.median(finals),
                    "median_evals_to_cold": statistics.median(reach),
                    "fraction_to_cold": statistics.median(reach) / evals,
                    "reached": sum(r <= evals for r in reach),
                    "at_least_cold": sum(r["at_least_cold"] for r in runs),
                    "seeds": len(runs),
                    "worse_than_cold_by": statistics.median(finals) - statistics.median(cold),
                    "max_eval_s": max(r["max_eval_s"] for r in runs),
                    "median_best_after": {n: statistics.median(min(r["values"][:n]) for r in runs)
                                          for n in checkpoints(evals)},
                }
                if arm == "warm":
                    weights = [r["final_weight"] for r in runs if r.get("final_weight") is not None]
                    row["median_final_weight"] = statistics.median(weights) if weights else None
                if arm == "optuna_add":
                    row["left_out"] = statistics.median(r.get("left_out", 0) for r in runs)
                s_out["arms"][arm] = row
            summary.setdefault(pname, {})[algorithm] = s_out
    return summary


def goals(summary: dict, algorithm: str) -> dict:
    """The issue's goals for the warm arm, checked on this run."""
    related = [s[algorithm] for s in summary.values() if algorithm in s and s[algorithm]["kind"] == "related"]
    other = {p: s[algorithm] for p, s in summary.items() if algorithm in s and s[algorithm]["kind"] != "related"}
    out: dict = {}
    if related:
        fractions = [s["arms"]["warm"]["fraction_to_cold"] for s in related]
        ok = sum(s["arms"]["warm"]["at_least_cold"] for s in related)
        n = sum(s["arms"]["warm"]["seeds"] for s in related)
        out["median_pair_fraction"] = statistics.median(fractions)
        out["fraction_met"] = out["median_pair_fraction"] <= 1.0 / 3.0
        out["at_least_cold_share"] = ok / n
        out["at_least_cold_met"] = ok / n >= 0.8
        out["pairs_below_80"] = [p for p, s in summary.items() if algorithm in s and s[algorithm]["kind"] == "related"
                                 and s[algorithm]["arms"]["warm"]["at_least_cold"] < 0.8 * s[algorithm]["arms"]["warm"]["seeds"]]
    if other:
        out["not_worse"] = {p: {"worse_by": s["arms"]["warm"]["worse_than_cold_by"], "noise": s["noise"],
                                "met": s["arms"]["warm"]["worse_than_cold_by"] <= s["noise"] + _tol(s["noise"])}
                            for p, s in other.items()}
        out["not_worse_met"] = all(v["met"] for v in out["not_worse"].values())
    return out


def _g(v: float) -> str:
    return f"{v:.4g}"


def render(summary: dict, pair_defs: dict, arms: list[str], algorithms: list[str], args, info: dict,
           duration_s: float) -> str:
    lines = []
    vs = [a for a in arms if a != "cold"]
    for algorithm in algorithms:
        lines.append(f"### {ALGORITHMS[algorithm]}: {args.seeds} seeds, {args.evals} evaluations per arm, "
                     f"source: {args.source_evals} random-search evaluations")
        lines.append("")
        lines.append("Evaluations to reach cold's final best (median over seeds, as a fraction of "
                     f"{args.evals}; > 1: never) · seeds ending at least as good as cold:")
        lines.append("")
        lines.append("| pair | kind | " + " | ".join(ARMS[a] for a in vs) + " |")
        lines.append("|---|---|" + "--:|" * len(vs))
        for pname, by_alg in summary.items():
            s = by_alg.get(algorithm)
            if s is None:
                continue
            cells = []
            for a in vs:
                r = s["arms"][a]
                frac = r["fraction_to_cold"]
                shown = f">1 ({r['reached']}/{r['seeds']} reached)" if frac > 1 else f"{frac:.2f}"
                cells.append(f"{shown} · {r['at_least_cold']}/{r['seeds']}")
            lines.append(f"| {pname} | {s['kind']} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("Median final best (loss, lower is better) and seed noise (median absolute deviation of "
                     "cold's final best over seeds):")
        lines.append("")
        lines.append("| pair | " + " | ".join(ARMS[a] for a in arms) + " | seed noise | warm's final source weight |")
        lines.append("|---|" + "--:|" * (len(arms) + 2))
        for pname, by_alg in summary.items():
            s = by_alg.get(algorithm)
            if s is None:
                continue
            w = s["arms"].get("warm", {}).get("median_final_weight")
            lines.append(f"| {pname} | " + " | ".join(_g(s["arms"][a]["median_final"]) for a in arms)
                         + f" | {_g(s['noise'])} | {'–' if w is None else f'{w:.2f}'} |")
        lines.append("")
        if "warm" in arms:
            marks = checkpoints(args.evals)
            lines.append("Median best so far after n evaluations, cold / warm (the early lead the final-best "
                         "columns hide):")
            lines.append("")
            lines.append("| pair | " + " | ".join(f"n = {n}" for n in marks) + " |")
            lines.append("|---|" + "--:|" * len(marks))
            for pname, by_alg in summary.items():
                s = by_alg.get(algorithm)
                if s is None:
                    continue
                cold, warm = s["arms"]["cold"]["median_best_after"], s["arms"]["warm"]["median_best_after"]
                lines.append(f"| {pname} | " + " | ".join(f"{_g(cold[n])} / {_g(warm[n])}" for n in marks) + " |")
            lines.append("")
        g = goals(summary, algorithm) if "warm" in arms else {}
        lines.append("Goals (warm arm):")
        lines.append("")
        if "median_pair_fraction" in g:
            lines.append(f"- related sources, warm reaches cold's {args.evals}-evaluation best within a third of the "
                         f"evaluations on the median pair: median pair {g['median_pair_fraction']:.2f} of "
                         f"{args.evals} -> {'met' if g['fraction_met'] else 'NOT met'}")
            below = ", ".join(g["pairs_below_80"]) or "none"
            lines.append(f"- related sources, warm ends at least as good as cold on >= 80% of seeds: "
                         f"{100 * g['at_least_cold_share']:.0f}% of the related pairs' seeds -> "
                         f"{'met' if g['at_least_cold_met'] else 'NOT met'} (pairs below 80%: {below})")
        if "not_worse" in g:
            parts = [f"{p} worse by {_g(v['worse_by'])} (noise {_g(v['noise'])}) {'ok' if v['met'] else 'NOT ok'}"
                     for p, v in g["not_worse"].items()]
            lines.append("- unrelated / adversarial sources, warm's median final best never worse than cold's by more "
                         f"than the seed noise: {'met' if g['not_worse_met'] else 'NOT met'} ({'; '.join(parts)})")
        lines.append("")
    lines.append("Pairs (source -> target):")
    lines.append("")
    for pname in summary:
        p = pair_defs[pname]
        lines.append(f"- `{pname}` ({p.what}): {p.source.label} -> {p.target.label}")
    lines.append("")
    max_eval = max(r["max_eval_s"] for by_alg in summary.values() for s in by_alg.values() for r in s["arms"].values())
    pk = info["packages"]
    git = info["hyperknob_git"]
    lines.append(f"Machine: {info['cpu_model'] or 'unknown CPU'}, {info['cpu_count']} CPUs "
                 f"({info['cpus_usable']} usable), CPython {info['python']}, one thread, one process; "
                 f"wall time {duration_s / 60:.1f} min; slowest target evaluation {max_eval:.2f} s.")
    lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in pk.items() if v is not None)
                 + (f" (hyperknob at {git.get('commit')}{', src modified' if git.get('dirty_src') else ''})"
                    if git.get("commit") else "") + ".")
    return "\n".join(lines)


# --------------------------------------------------------------------------- driver

def report_again(path: Path) -> int:
    """Summarises and prints an earlier run's raw results (standard library only: no venv needed)."""
    import json

    payload = json.loads(path.read_text())
    a = payload["args"]
    args = argparse.Namespace(seeds=len(a["seeds"]), evals=a["evals"], source_evals=a["source_evals"])
    summary = summarise(payload["raw"], a["arms"], a["evals"])
    table = render(summary, pairs(), a["arms"], a["algorithms"], args, payload["machine"], payload["duration_s"])
    print(table)
    payload.update(summary=summary, markdown=table,
                   goals={g: goals(summary, g) for g in a["algorithms"]} if "warm" in a["arms"] else {})
    write_json(path, payload, TAG, indent=1, default=str, end="\n")
    return 0




def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--evals", type=int, default=64, help="target evaluations per arm (default 64)")
    p.add_argument("--source-evals", type=int, default=64, help="random-search evaluations of the source (default 64)")
    p.add_argument("--only", default="", help="comma-separated pairs (default all): " + ", ".join(pairs()))
    p.add_argument("--algorithms", default="tpe", help="tpe and/or gp, comma-separated (default tpe)")
    p.add_argument("--arms", default=",".join(ARMS), help="comma-separated arms (cold always runs): " + ", ".join(ARMS))
    p.add_argument("--json", type=Path, default=RESULTS, help="where to write the JSON results")
    p.add_argument("--no-venv", action="store_true", help="run in this Python as it is")
    p.add_argument("--from-json", type=Path,
                   help="evaluate nothing: summarise and print the raw results of an earlier run's JSON again "
                        "(and rewrite its summary and tables)")
    args = p.parse_args(argv)
    if args.from_json:
        return report_again(args.from_json)

    if not in_venv() and not args.no_venv:
        ensure_venv(VENV, REQUIREMENTS, STAMP_NAME, TAG, pin_first=TORCH, this_repo=True,
                    shown=VENV.relative_to(ROOT))
        os.environ.update(CHILD_ENV)
        os.execv(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve()), *sys.argv[1:]])
    os.environ.update(CHILD_ENV)
    warnings.filterwarnings("ignore")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    defs = pairs()
    names = chosen(args.only, defs, "pair") if args.only else list(defs)
    algorithms = chosen(args.algorithms, ALGORITHMS, "algorithm")
    arms = ["cold", *[a for a in chosen(args.arms, ARMS, "arm") if a != "cold"]]
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    info = machine_info(PACKAGES, CHILD_ENV)
    _log(f"{len(names)} pairs x {len(algorithms)} algorithms x {len(seeds)} seeds; arms {', '.join(arms)}")

    t_start = time.time()
    raw: dict = {}
    tmp = tempfile.mkdtemp(prefix="hk-transfer-")
    try:
        for pname in names:
            pair = defs[pname]
            raw[pname] = {"kind": pair.kind, "what": pair.what, "source": pair.source.label,
                          "target": pair.target.label, "seeds": {}}
            for algorithm in algorithms:
                t0 = time.perf_counter()
                runs = []
                for seed in seeds:
                    r = run_seed(pair, algorithm, arms, seed, args, tmp, f"{pname}-{algorithm}-{seed}")
                    r["seed"] = seed
                    runs.append(r)
                    a = r["arms"]
                    _log(f"{pname} {algorithm} seed {seed}: " + "  ".join(
                        f"{arm} {_g(a[arm]['final'])}" + (f" ({a[arm]['evals_to_cold']})" if arm != "cold" else "")
                        for arm in arms) + (f"  weight {a['warm'].get('final_weight', float('nan')):.2f}"
                                            if "warm" in a else ""))
                raw[pname]["seeds"][algorithm] = runs
                _log(f"{pname} {algorithm}: {time.perf_counter() - t0:.0f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    duration = time.time() - t_start
    summary = summarise(raw, arms, args.evals)
    table = render(summary, defs, arms, algorithms, args, info, duration)
    print(table)
    write_json(args.json, {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t_start)),
        "command": "python3 benchmarks/transfer.py " + " ".join(sys.argv[1:]),
        "duration_s": duration,
        "args": {"seeds": seeds, "evals": args.evals, "source_evals": args.source_evals, "pairs": names,
                 "algorithms": algorithms, "arms": arms},
        "labels": ARMS,
        "machine": info,
        "summary": summary,
        "goals": {a: goals(summary, a) for a in algorithms} if "warm" in arms else {},
        "raw": raw,
        "markdown": table,
    }, TAG, indent=1, default=str, end="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
