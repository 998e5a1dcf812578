#!/usr/bin/env python3
"""Optimiser quality benchmark: hyperknob's GP, TPE and random search against keras-tuner's
BayesianOptimization and RandomSearch and optuna's TPESampler and GPSampler, side by side.

    python3 benchmarks/suite.py [--seeds 10] [--budgets 50,100] [--problems a,b] [--optimizers a,b]
                                [--timeout 1800]
    python3 benchmarks/suite.py --half dev       # the wide benchmark's development half
    python3 benchmarks/suite.py --half heldout   # ... and its held-out half (report this one)

``--half`` selects the wide benchmark (benchmarks/_wide_problems.py: 25 scikit-learn problems split
once into a development and a held-out half; the development half also holds the 8 problems above,
on which the earlier defaults were chosen). Defaults are chosen on ``dev`` only.

Run it with any Python 3.10+: like overhead.py it uses ``benchmarks/.venv`` (keras-tuner 1.4.8,
optuna, keras, torch==2.13.0, this repository editable), adding scikit-learn to it (its own stamp,
``.suite-installed``), and re-executes itself inside (``--no-venv``: in the running Python as it
is). Every (optimiser, problem) pair runs in a fresh subprocess, one after the other (``--jobs N``:
N at once, for machines with many cores), on one thread (OMP/MKL/OPENBLAS_NUM_THREADS=1, torch
set to 1 thread), looping over the seeds; each seed runs the largest budget once and the smaller
budgets are read off the same run's first trials (best-so-far after n trials, suggestion time
up to trial n).

Reported per problem and optimiser: median and interquartile range (25th-75th percentile) over
seeds of the simple regret (best value found - known optimum; for the scikit-learn problems the
best value is 1 - CV score and the optimum is the best value any optimiser found in this run),
and the mean suggestion time per trial: (wall time of the search - time inside the objective) /
trials. Prints Markdown tables and writes benchmarks/results/suite.json.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import HERE, ROOT, TORCH, chosen, cpu_model, ensure_venv, log, thread_vars, write_json

TAG = "suite"
VENV = HERE / ".venv"
VENV_PY = VENV / "bin" / "python"
RESULTS = HERE / "results" / "suite.json"
# overhead.py's requirements plus scikit-learn (a separate stamp, so overhead.py's stays valid)
REQUIREMENTS = ["keras-tuner==1.4.8", "six", "optuna", "keras", TORCH, "scikit-learn"]
STAMP_NAME = ".suite-installed"
MARK = "@@SUITE-RESULT@@"

CHILD_ENV = {
    "KERAS_BACKEND": "torch",
    **thread_vars(1),
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONWARNINGS": "ignore",
    "CUDA_VISIBLE_DEVICES": "",
}

# key -> label ; order is the table's order.
OPTIMIZERS = {
    "hk_auto": "hyperknob auto",
    "hk_gp": "hyperknob GP",
    "hk_tpe": "hyperknob TPE",
    "hk_random": "hyperknob random",
    "kt_bo": "keras-tuner BayesianOptimization",
    "kt_random": "keras-tuner RandomSearch",
    "optuna_tpe": "optuna TPESampler",
    "optuna_gp": "optuna GPSampler",
}
RANDOM_BASELINES = ("hk_random", "kt_random")
DEFAULT_PROBLEMS = ["branin", "hartmann6", "ackley10", "mixed", "svc_digits", "rf_wine",
                    "gb_breast_cancer", "enet_diabetes"]

_log = functools.partial(log, TAG)


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


# --------------------------------------------------------------------------- child: one search

class Recorder:
    """Wraps the problem's objective: records each value and the time spent inside it."""

    def __init__(self, fn):
        self.fn = fn
        self.values: list[float] = []
        self.obj_s: list[float] = []
        self.end_s: list[float] = []  # end of each evaluation, relative to t0
        self.t0 = 0.0

    def start(self) -> None:
        self.t0 = time.perf_counter()

    def __call__(self, config: dict) -> float:
        a = time.perf_counter()
        v = float(self.fn(config))
        b = time.perf_counter()
        self.values.append(v)
        self.obj_s.append(b - a)
        self.end_s.append(b - self.t0)
        return v


def declare_kt_style(hp, space) -> dict:
    """Declares ``space`` on a KerasTuner-shaped HyperParameters; returns the active values."""
    from _suite_problems import split

    out = {}
    for spec in space:
        (kind, name, *rest), cond = split(spec)
        kw = {"parent_name": cond[0], "parent_values": cond[1]} if cond else {}
        if kind == "float":
            lo, hi, logscale = rest
            v = hp.Float(name, lo, hi, sampling="log" if logscale else "linear", **kw)
        elif kind == "int":
            lo, hi = rest
            v = hp.Int(name, lo, hi, **kw)
        else:
            v = hp.Choice(name, rest[0], **kw)
        if not cond or out.get(cond[0]) in cond[1]:
            out[name] = v
    return out


def suggest_optuna(trial, space) -> dict:
    from _suite_problems import split

    out = {}
    for spec in space:
        (kind, name, *rest), cond = split(spec)
        if cond and out.get(cond[0]) not in cond[1]:
            continue
        if kind == "float":
            lo, hi, logscale = rest
            out[name] = trial.suggest_float(name, lo, hi, log=logscale)
        elif kind == "int":
            lo, hi = rest
            out[name] = trial.suggest_int(name, lo, hi)
        else:
            out[name] = trial.suggest_categorical(name, rest[0])
    return out


def search_once(opt: str, problem, seed: int, n_trials: int, tmpdir: str) -> dict:
    rec = Recorder(problem.fn)
    space = problem.space
    if opt.startswith("hk_"):
        import hyperknob

        algorithm = {"hk_auto": "auto", "hk_gp": "gp", "hk_tpe": "tpe", "hk_random": "random"}[opt]
        hps = hyperknob.HyperParameters()
        declare_kt_style(hps, space)

        def objective(hp):
            return rec(declare_kt_style(hp, space))

        study = hyperknob.create_study(storage=":memory:", algorithm=algorithm, seed=seed,
                                       hyperparameters=hps, project_name=f"s{seed}")
        rec.start()
        study.optimize(objective, n_trials=n_trials, verbose=0)
    elif opt.startswith("kt_"):
        import keras_tuner

        base = {"kt_bo": keras_tuner.BayesianOptimization,
                "kt_random": keras_tuner.RandomSearch}[opt]
        hps = keras_tuner.HyperParameters()
        declare_kt_style(hps, space)

        class Tuner(base):
            def run_trial(self, trial, *args, **kwargs):
                return rec(declare_kt_style(trial.hyperparameters, space))

        tuner = Tuner(hypermodel=None, objective=None, max_trials=n_trials, seed=seed,
                      hyperparameters=hps, directory=tmpdir, project_name=f"s{seed}",
                      overwrite=True)
        rec.start()
        tuner.search(verbose=0)
    else:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        sampler = {"optuna_tpe": optuna.samplers.TPESampler,
                   "optuna_gp": optuna.samplers.GPSampler}[opt](seed=seed)
        study = optuna.create_study(direction="minimize", sampler=sampler)
        rec.start()
        study.optimize(lambda t: rec(suggest_optuna(t, space)), n_trials=n_trials)
    wall = time.perf_counter() - rec.t0
    return {"values": rec.values, "obj_s": rec.obj_s, "end_s": rec.end_s, "wall_s": wall}


def child_main(opt: str, problem_name: str, seeds: list[int], n_trials: int) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    if opt.startswith("kt_") or opt == "optuna_gp":
        import torch

        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    from _suite_problems import PROBLEMS

    problem = PROBLEMS[problem_name]
    runs = {}
    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix="hk-suite-") as tmp:
            try:
                runs[seed] = search_once(opt, problem, seed, n_trials, tmp)
            except BaseException as e:  # report, keep the other seeds
                runs[seed] = {"error": f"{type(e).__name__}: {e}"[:500]}
        print(MARK + json.dumps({"seed": seed, **runs[seed]}), flush=True)


# --------------------------------------------------------------------------- parent

def run_child(opt: str, problem: str, seeds: list[int], n_trials: int, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", opt, problem,
           "--seeds-list", ",".join(map(str, seeds)), "--trials", str(n_trials)]
    env = {**os.environ, **CHILD_ENV}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                              cwd=HERE)
        stdout, stderr, rc = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:
        stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        stderr, rc = "timeout", -1
    runs = {}
    for line in stdout.splitlines():
        if line.startswith(MARK):
            r = json.loads(line[len(MARK):])
            runs[r.pop("seed")] = r
    if rc != 0:
        _log(f"  {opt}/{problem}: exit {rc}; {stderr[-1500:]}")
    for s, r in runs.items():
        if "error" in r:
            _log(f"  {opt}/{problem} seed {s}: {r['error']}")
    _log(f"  {opt:11s} {problem:17s} {len(runs)}/{len(seeds)} seeds in "
         f"{time.perf_counter() - t0:.1f}s")
    return runs


def quantile(vals: list[float], q: float) -> float:
    s = sorted(vals)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summarise(raw: dict, problems: list[str], optimizers: list[str], budgets: list[int]) -> dict:
    """raw[problem][opt][seed] -> per (problem, budget, opt): regret stats and suggestion time."""
    from _suite_problems import PROBLEMS

    out = {}
    for pname in problems:
        prob = PROBLEMS[pname]
        ref = prob.optimum
        if ref is None:  # best value any optimiser found (at any budget, any seed)
            found = [min(r["values"]) for o in optimizers
                     for r in raw.get(pname, {}).get(o, {}).values() if r.get("values")]
            ref = min(found) if found else None
        out[pname] = {"optimum": ref, "known_optimum": prob.optimum is not None, "budgets": {}}
        for b in budgets:
            rows = {}
            for o in optimizers:
                regrets, sugg, short = [], [], 0
                for r in raw.get(pname, {}).get(o, {}).values():
                    vals = r.get("values")
                    if not vals:
                        continue
                    n = min(b, len(vals))
                    short += n < b
                    regrets.append(max(0.0, min(vals[:n]) - ref))
                    sugg.append((r["end_s"][n - 1] - sum(r["obj_s"][:n])) / n)
                if not regrets:
                    continue
                rows[o] = {
                    "median": statistics.median(regrets),
                    "q25": quantile(regrets, 0.25), "q75": quantile(regrets, 0.75),
                    "regrets": regrets, "seeds": len(regrets), "short_runs": short,
                    "suggest_s": statistics.mean(sugg),
                }
            out[pname]["budgets"][b] = rows
    return out


def fmt(v: float) -> str:
    if v == 0:
        return "0"
    return f"{v:.2e}" if abs(v) < 1e-2 or abs(v) >= 1e3 else f"{v:.3f}"


def markdown(summary: dict, optimizers: list[str], budgets: list[int]) -> str:
    from _suite_problems import PROBLEMS

    lines = []
    for b in budgets:
        lines += [f"\n### Budget {b} trials\n",
                  "| problem | optimiser | median regret | IQR (25%-75%) | seeds | suggest s/trial |",
                  "|---|---|---|---|---|---|"]
        wins: dict = {}
        for pname, s in summary.items():
            rows = s["budgets"].get(b, {})
            if not rows:
                continue
            best = min(r["median"] for r in rows.values())
            for o in optimizers:
                if o not in rows:
                    continue
                r = rows[o]
                mark = "**" if r["median"] == best else ""
                if mark:
                    wins[o] = wins.get(o, 0) + 1
                short = f" ({r['short_runs']} short)" if r["short_runs"] else ""
                lines.append(f"| {pname} | {OPTIMIZERS[o]} | {mark}{fmt(r['median'])}{mark} | "
                             f"{fmt(r['q25'])} - {fmt(r['q75'])} | {r['seeds']}{short} | "
                             f"{r['suggest_s'] * 1000:.1f} ms |")
        lines.append("")
        lines.append("Mean rank of the median regret over problems (1 = best; ties share):")
        ranks: dict = {o: [] for o in optimizers}
        for s in summary.values():
            rows = s["budgets"].get(b, {})
            for o in rows:
                ranks[o].append(1 + sum(rows[p]["median"] < rows[o]["median"] for p in rows))
        for o in sorted(optimizers, key=lambda o: statistics.mean(ranks[o]) if ranks[o] else 99):
            if ranks[o]:
                lines.append(f"- {OPTIMIZERS[o]}: mean rank {statistics.mean(ranks[o]):.2f}, "
                             f"best median on {wins.get(o, 0)}/{len(ranks[o])} problems")
    lines += normalised_table(summary, optimizers, budgets)
    lines.append("\nProblems: " + "; ".join(f"{p} = {PROBLEMS[p].note}" for p in summary))
    return "\n".join(lines)


def normalised_table(summary: dict, optimizers: list[str], budgets: list[int]) -> list[str]:
    """One scale for every problem, so that a mean over problems means something: the median
    regret divided by random search's median regret at the same budget (0 = the best value seen
    in the run, 1 = random search). Problems where random search's median is already the best
    seen are left out (nothing to normalise by)."""
    baseline = next((o for o in RANDOM_BASELINES if o in optimizers), None)
    if baseline is None:
        return []
    lines = [f"\n### Normalised regret (median regret / {OPTIMIZERS[baseline]}'s median; 0 = best seen, 1 = random)\n",
             "| optimiser | " + " | ".join(f"mean at {b}" for b in budgets) + " | "
             + " | ".join(f"problems worse than random at {b}" for b in budgets) + " |",
             "|---|" + "--:|" * (2 * len(budgets))]
    for o in optimizers:
        means, worse = [], []
        for b in budgets:
            scores, behind = [], 0
            for s in summary.values():
                rows = s["budgets"].get(b, {})
                if o not in rows or baseline not in rows or rows[baseline]["median"] <= 0:
                    continue
                score = rows[o]["median"] / rows[baseline]["median"]
                scores.append(score)
                behind += score > 1.0
            means.append(f"{statistics.mean(scores):.3f} ({len(scores)})" if scores else "-")
            worse.append(str(behind) if scores else "-")
        lines.append(f"| {OPTIMIZERS[o]} | " + " | ".join(means) + " | " + " | ".join(worse) + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    ap.add_argument("--first-seed", type=int, default=0,
                    help="start the seeds here instead (more seeds for a run already made; "
                         "benchmarks/compare_runs.py merges files that share a label)")
    ap.add_argument("--budgets", default="50,100", help="comma-separated trial budgets")
    ap.add_argument("--problems", default=",".join(DEFAULT_PROBLEMS))
    ap.add_argument("--half", choices=["dev", "heldout"],
                    help="the wide benchmark's development or held-out half (replaces --problems)")
    ap.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    ap.add_argument("--timeout", type=float, default=3600.0,
                    help="seconds allowed per (optimiser, problem) child")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--jobs", type=int, default=1,
                    help="(optimiser, problem) pairs run at once, each in its own one-thread "
                         "process (default 1; on a machine with many cores, cores - 2)")
    ap.add_argument("--no-venv", action="store_true",
                    help="run in this Python as it is (it must have the requirements and this "
                         "repository importable) instead of benchmarks/.venv")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--seeds-list", help=argparse.SUPPRESS)
    ap.add_argument("--trials", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        child_main(args.child[0], args.child[1], [int(s) for s in args.seeds_list.split(",")],
                   args.trials)
        return
    if not in_venv() and not args.no_venv:
        ensure_venv(VENV, REQUIREMENTS, STAMP_NAME, TAG, pin_first=TORCH, this_repo=True,
                    shown=VENV.relative_to(ROOT))
        os.execv(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve()), *sys.argv[1:]])

    from _suite_problems import PROBLEMS

    if args.half:
        from _wide_problems import HALVES

        wide = [p for p, half in HALVES.items() if half == args.half]
        problems = (DEFAULT_PROBLEMS + wide) if args.half == "dev" else wide
    else:
        problems = chosen(args.problems, PROBLEMS, "problem")
    optimizers = chosen(args.optimizers, OPTIMIZERS, "optimizer")
    budgets = sorted({int(b) for b in args.budgets.split(",") if b})
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    _log(f"{len(problems)} problems x {len(optimizers)} optimisers x {len(seeds)} seeds, "
         f"budgets {budgets} (largest run once, smaller read off its first trials)")

    raw: dict = {}
    t0 = time.perf_counter()
    pairs = [(p, o) for p in problems for o in optimizers]
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = pool.map(lambda po: run_child(po[1], po[0], seeds, max(budgets), args.timeout),
                           pairs)
        for (pname, o), runs in zip(pairs, results, strict=True):
            raw.setdefault(pname, {})[o] = runs
    summary = summarise(raw, problems, optimizers, budgets)
    table = markdown(summary, optimizers, budgets)
    print(table)

    import importlib.metadata as md

    versions = {}
    for pkg in ("hyperknob", "keras-tuner", "keras", "torch", "optuna", "scikit-learn", "numpy",
                "scipy"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    payload = {
        "command": "python3 benchmarks/suite.py " + " ".join(sys.argv[1:]),
        "seeds": seeds, "budgets": budgets, "problems": problems,
        "optimizers": {o: OPTIMIZERS[o] for o in optimizers},
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
                    "threads": 1, "jobs": args.jobs},
        "versions": versions, "elapsed_s": time.perf_counter() - t0,
        "summary": summary, "table_markdown": table,
        "raw": {p: {o: {str(s): {k: v for k, v in r.items() if k != "end_s"}
                        for s, r in runs.items()} for o, runs in d.items()}
                for p, d in raw.items()},
    }
    write_json(Path(args.out), payload, TAG)


if __name__ == "__main__":
    main()
