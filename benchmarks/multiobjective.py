#!/usr/bin/env python3
"""Pareto search quality: hyperknob's algorithms against optuna's samplers, side by side (#24).

    python3 benchmarks/multiobjective.py [--seeds 5] [--budget-max 100] [--problems a,b]
                                         [--algorithms a,b] [--time-limit S] [--quick]

``--quick``: 2 seeds, 30 evaluations, 2 problems (zdt1, bnh), a smoke test.

Run it with any Python 3.10+: like transfer.py it uses suite.py's venv, ``benchmarks/.venv``
(optuna, torch for optuna's GPSampler, scikit-learn, this repository editable), re-executes itself
inside (``--no-venv``: in the running Python as it is) and runs on one thread
(OMP/MKL/OPENBLAS_NUM_THREADS=1, torch set to 1 thread), in one process, run after run.

Every (seed, problem, algorithm) runs ``--budget-max`` evaluations once; the smaller mark (half of
it, 50 at the default 100) is read off the same run's first evaluations. Each evaluation is
recorded as it is made (objective values and whether every constraint is met), and the score at n
evaluations is the hypervolume (hyperknob.pareto.hypervolume, the same function for every
library) of the FEASIBLE non-dominated points among the first n evaluations, up to the problem's
reference point. Higher is better.

Algorithms: hyperknob "auto" (the default: the GP with ParEGO at these budgets), "tpe", "nsga2",
"random", each ``create_study(pareto=True, hyperparameters=<declared up front>, seed=seed)``;
optuna ``TPESampler(seed=)``, ``GPSampler(seed=)`` and ``NSGAIISampler(seed=)`` with their
defaults (constraints through ``constraints_func``).

Problems (all inputs in [0, 1] but the scikit-learn one):
  zdt1    ZDT1, 6 variables, 2 objectives, reference (1.1, 11)
  zdt2    ZDT2, 6 variables, 2 objectives, reference (1.1, 11)
  dtlz2   DTLZ2, 6 variables, 3 objectives, reference (1.1, 1.1, 1.1)
  bnh     Binh and Korn (BNH), 2 variables scaled from x1 in [0, 5], x2 in [0, 3] to [0, 1],
          2 objectives, 2 constraints ((x1-5)^2 + x2^2 <= 25, (x1-8)^2 + (x2+3)^2 >= 7.7),
          reference (140, 50)
  tree    DecisionTreeClassifier on load_digits: max_depth 1-20, min_samples_leaf 1-20,
          ccp_alpha 1e-5-1e-1 (log); objectives 1 - 3-fold CV accuracy and the number of leaves
          (fitted on all the data); reference: the worst value any run saw + 10%

Prints a Markdown table (problem x evaluations rows, one column per algorithm: median
hypervolume over seeds and its interquartile range, the best median in bold; then the median
wall time per run) and whether hyperknob's default has the best median on >= 80% of the problems
at both marks; writes benchmarks/results/multiobjective.json after every run (``--time-limit``:
start no new run after S seconds; the table then says how many seeds each cell holds).
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from _common import HERE, ROOT, TORCH, chosen, ensure_venv, log, machine_info, thread_vars, write_json
from suite import REQUIREMENTS, STAMP_NAME, VENV, VENV_PY, in_venv, quantile  # suite.py's venv

TAG = "multiobjective"
RESULTS = HERE / "results" / "multiobjective.json"
CHILD_ENV = {**thread_vars(1), "PYTHONWARNINGS": "ignore", "CUDA_VISIBLE_DEVICES": ""}
PACKAGES = ["hyperknob", "optuna", "torch", "scikit-learn", "numpy", "scipy"]

ALGORITHMS = {
    "hk_auto": "hyperknob auto",
    "hk_tpe": "hyperknob tpe",
    "hk_nsga2": "hyperknob nsga2",
    "hk_random": "hyperknob random",
    "optuna_tpe": "optuna TPE",
    "optuna_gp": "optuna GP",
    "optuna_nsga2": "optuna NSGA-II",
}
DEFAULT = "hk_auto"

_log = functools.partial(log, TAG)


# --------------------------------------------------------------------------- problems

@dataclass(frozen=True)
class Problem:
    name: str
    space: tuple  # (kind, name, low, high, log): kind "float" or "int"
    n_obj: int
    n_con: int
    reference: tuple | None  # None: the worst value seen in the run + 10%
    fn: object  # dict of values -> (objectives tuple, constraints tuple (<= 0: met))


def unit(n: int) -> tuple:
    return tuple(("float", f"x{i}", 0.0, 1.0, False) for i in range(n))


def _zdt(x: dict, square: bool) -> tuple:
    v = [x[f"x{i}"] for i in range(6)]
    g = 1.0 + 9.0 * sum(v[1:]) / 5.0
    f1 = v[0]
    h = 1.0 - (f1 / g) ** 2 if square else 1.0 - math.sqrt(f1 / g)
    return (f1, g * h), ()


def _dtlz2(x: dict) -> tuple:
    v = [x[f"x{i}"] for i in range(6)]
    g = sum((xi - 0.5) ** 2 for xi in v[2:])
    a, b = v[0] * math.pi / 2, v[1] * math.pi / 2
    return ((1 + g) * math.cos(a) * math.cos(b), (1 + g) * math.cos(a) * math.sin(b),
            (1 + g) * math.sin(a)), ()


def _bnh(x: dict) -> tuple:
    x1, x2 = 5.0 * x["x0"], 3.0 * x["x1"]
    f1 = 4 * x1 ** 2 + 4 * x2 ** 2
    f2 = (x1 - 5) ** 2 + (x2 - 5) ** 2
    c1 = (x1 - 5) ** 2 + x2 ** 2 - 25.0
    c2 = 7.7 - ((x1 - 8) ** 2 + (x2 + 3) ** 2)
    return (f1, f2), (c1, c2)


@functools.cache
def _digits():
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def _tree(x: dict) -> tuple:
    from sklearn.model_selection import cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    X, y = _digits()
    model = DecisionTreeClassifier(max_depth=int(x["max_depth"]),
                                   min_samples_leaf=int(x["min_samples_leaf"]),
                                   ccp_alpha=float(x["ccp_alpha"]), random_state=0)
    acc = cross_val_score(model, X, y, cv=3).mean()
    leaves = model.fit(X, y).get_n_leaves()
    return (1.0 - float(acc), float(leaves)), ()


PROBLEMS = {
    "zdt1": Problem("zdt1", unit(6), 2, 0, (1.1, 11.0), lambda x: _zdt(x, False)),
    "zdt2": Problem("zdt2", unit(6), 2, 0, (1.1, 11.0), lambda x: _zdt(x, True)),
    "dtlz2": Problem("dtlz2", unit(6), 3, 0, (1.1, 1.1, 1.1), _dtlz2),
    "bnh": Problem("bnh", unit(2), 2, 2, (140.0, 50.0), _bnh),
    "tree": Problem("tree", (("int", "max_depth", 1, 20, False), ("int", "min_samples_leaf", 1, 20, False),
                             ("float", "ccp_alpha", 1e-5, 1e-1, True)), 2, 0, None, _tree),
}
QUICK_PROBLEMS = ["zdt1", "bnh"]


# --------------------------------------------------------------------------- one search

class Recorder:
    """Wraps a problem: records every evaluation's objectives and feasibility, in order."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.objectives: list[list[float]] = []
        self.feasible: list[bool] = []

    def __call__(self, x: dict) -> tuple:
        objs, cons = self.problem.fn(x)
        self.objectives.append([float(v) for v in objs])
        self.feasible.append(all(c <= 0 for c in cons))
        return objs, cons


def hk_declare(hp, space) -> dict:
    out = {}
    for kind, name, lo, hi, logscale in space:
        sampling = "log" if logscale else "linear"
        if kind == "float":
            out[name] = hp.Float(name, lo, hi, sampling=sampling)
        else:
            out[name] = hp.Int(name, int(lo), int(hi), sampling=sampling)
    return out


def optuna_suggest(trial, space) -> dict:
    out = {}
    for kind, name, lo, hi, logscale in space:
        if kind == "float":
            out[name] = trial.suggest_float(name, lo, hi, log=logscale)
        else:
            out[name] = trial.suggest_int(name, int(lo), int(hi), log=logscale)
    return out


def search_once(algo: str, problem: Problem, seed: int, n: int) -> dict:
    rec = Recorder(problem)
    space = problem.space
    obj_names = [f"f{i + 1}" for i in range(problem.n_obj)]
    con_names = [f"c{i + 1}" for i in range(problem.n_con)]
    t0 = time.perf_counter()
    if algo.startswith("hk_"):
        import hyperknob as kt

        hps = kt.HyperParameters()
        hk_declare(hps, space)

        def objective(hp):
            objs, cons = rec(hk_declare(hp, space))
            return {**dict(zip(obj_names, objs, strict=True)), **dict(zip(con_names, cons, strict=True))}

        study = kt.create_study(
            storage=":memory:", hyperparameters=hps, objective=[kt.Objective(m, "min") for m in obj_names],
            pareto=True, algorithm=algo[3:], seed=seed,
            constraints=[kt.Constraint(c, "<=", 0.0) for c in con_names] or None)
        study.optimize(objective, n_trials=n, verbose=0)
    else:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        kw = {"seed": seed}
        if problem.n_con:
            kw["constraints_func"] = lambda t: t.user_attrs["constraint"]
        sampler = {"optuna_tpe": optuna.samplers.TPESampler, "optuna_gp": optuna.samplers.GPSampler,
                   "optuna_nsga2": optuna.samplers.NSGAIISampler}[algo](**kw)
        study = optuna.create_study(directions=["minimize"] * problem.n_obj, sampler=sampler)

        def objective(trial):
            objs, cons = rec(optuna_suggest(trial, space))
            trial.set_user_attr("constraint", list(cons))
            return tuple(objs)

        study.optimize(objective, n_trials=n)
    return {"objectives": rec.objectives, "feasible": rec.feasible, "wall_s": time.perf_counter() - t0}


# --------------------------------------------------------------------------- summary

def hv_at(run: dict, n: int, reference) -> float:
    from hyperknob.pareto import hypervolume

    pts = [o for o, ok in zip(run["objectives"][:n], run["feasible"][:n], strict=True) if ok]
    return hypervolume(pts, reference) if pts else 0.0


def reference_of(pname: str, runs: dict) -> tuple:
    """The problem's reference point; for "tree" the worst feasible value seen in any run + 10%."""
    ref = PROBLEMS[pname].reference
    if ref is not None:
        return ref
    pts = [o for d in runs.values() for r in d.values() if "objectives" in r
           for o, ok in zip(r["objectives"], r["feasible"], strict=True) if ok]
    return tuple(1.1 * max(p[i] for p in pts) for i in range(len(pts[0])))


def summarise(raw: dict, problems: list[str], algos: list[str], marks: list[int]) -> dict:
    out = {}
    for p in problems:
        runs = raw.get(p, {})
        if not any(runs.get(a) for a in algos):
            continue
        ref = reference_of(p, runs)
        # only the seeds every algorithm finished (a --time-limit cut can end mid-seed)
        ran = [set(s for s, r in runs.get(a, {}).items() if "objectives" in r) for a in algos]
        common = set.intersection(*[s for s in ran if s]) if any(ran) else set()
        rows = {}
        for m in marks:
            rows[m] = {}
            for a in algos:
                hvs = [hv_at(r, m, ref) for s, r in runs.get(a, {}).items() if s in common]
                if hvs:
                    rows[m][a] = {"median": statistics.median(hvs), "q25": quantile(hvs, 0.25),
                                  "q75": quantile(hvs, 0.75), "seeds": len(hvs), "hv": hvs}
        times = {a: statistics.median([runs[a][s]["wall_s"] for s in common])
                 for a in algos if common and all(s in runs.get(a, {}) and "wall_s" in runs[a][s] for s in common)}
        out[p] = {"reference": list(ref), "marks": rows, "time_s": times}
    return out


def fmt(v: float) -> str:
    return f"{v:.1f}" if abs(v) >= 100 else f"{v:.3f}"


def markdown(summary: dict, algos: list[str], marks: list[int], seeds: int) -> str:
    lines = ["| problem | evals | " + " | ".join(ALGORITHMS[a] for a in algos) + " |",
             "|---|--:|" + "---|" * len(algos)]
    wins = {m: 0 for m in marks}
    for p, s in summary.items():
        for m in marks:
            rows = s["marks"][m]
            best = max((r["median"] for r in rows.values()), default=None)
            cells = []
            for a in algos:
                r = rows.get(a)
                if r is None:
                    cells.append("missing")
                    continue
                text = f"{fmt(r['median'])} ({fmt(r['q25'])}-{fmt(r['q75'])})"
                if r["seeds"] < seeds:
                    text += f" [{r['seeds']} seeds]"
                cells.append(f"**{text}**" if r["median"] == best else text)
            if DEFAULT in rows and rows[DEFAULT]["median"] == best:
                wins[m] += 1
            lines.append(f"| {p} | {m} | " + " | ".join(cells) + " |")
        lines.append(f"| {p} | s/run | " + " | ".join(
            f"{s['time_s'][a]:.1f}" if a in s["time_s"] else "-" for a in algos) + " |")
    n = len(summary)
    lines.append("")
    lines.append("Cells: median hypervolume of the feasible non-dominated points after that many "
                 "evaluations, over seeds (interquartile range); bold = the best median; s/run = "
                 f"median wall seconds of one {max(marks)}-evaluation run.")
    lines.append("References: " + "; ".join(
        f"{p} ({', '.join(fmt(v) for v in s['reference'])})" for p, s in summary.items()))
    met = n > 0 and all(wins[m] >= 0.8 * n for m in marks)
    lines.append("")
    lines.append("Goal (hyperknob's default has the best median on >= 80% of the problems at every "
                 "mark): " + ", ".join(f"{wins[m]}/{n} at {m}" for m in marks)
                 + (" -> met" if met else " -> NOT met"))
    return "\n".join(lines)


# --------------------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    ap.add_argument("--budget-max", type=int, default=100,
                    help="evaluations per run (default 100); also scored at half of it")
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--algorithms", default=",".join(ALGORITHMS))
    ap.add_argument("--quick", action="store_true", help="2 seeds, 30 evaluations, zdt1 and bnh")
    ap.add_argument("--time-limit", type=float, default=None,
                    help="start no new run after this many seconds (the table says short cells)")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--no-venv", action="store_true",
                    help="run in this Python as it is instead of benchmarks/.venv")
    args = ap.parse_args(argv)

    if not in_venv() and not args.no_venv:
        ensure_venv(VENV, REQUIREMENTS, STAMP_NAME, TAG, pin_first=TORCH, this_repo=True,
                    shown=VENV.relative_to(ROOT))
        os.environ.update(CHILD_ENV)
        os.execv(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve()), *sys.argv[1:]])
    os.environ.update(CHILD_ENV)
    warnings.filterwarnings("ignore")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass

    if args.quick:
        args.seeds, args.budget_max = 2, 30
        if args.problems == ",".join(PROBLEMS):
            args.problems = ",".join(QUICK_PROBLEMS)
    problems = chosen(args.problems, PROBLEMS, "problem")
    algos = chosen(args.algorithms, ALGORITHMS, "algorithm")
    marks = sorted({args.budget_max // 2, args.budget_max})
    seeds = list(range(args.seeds))
    info = machine_info(PACKAGES, CHILD_ENV)
    _log(f"{len(problems)} problems x {len(algos)} algorithms x {len(seeds)} seeds, "
         f"{args.budget_max} evaluations a run, scored at {marks}")

    raw: dict = {p: {a: {} for a in algos} for p in problems}
    t_start = time.perf_counter()
    stopped = False
    for seed in seeds:  # seed outermost: a --time-limit cut leaves every cell with some seeds
        for p in problems:
            for a in algos:
                if args.time_limit is not None and time.perf_counter() - t_start > args.time_limit:
                    stopped = True
                    break
                try:
                    r = search_once(a, PROBLEMS[p], seed, args.budget_max)
                except Exception as e:  # e.g. optuna's GPSampler without torch: report, go on
                    r = {"error": f"{type(e).__name__}: {e}"[:400]}
                    _log(f"{p} {a} seed {seed}: {r['error']}")
                raw[p][a][str(seed)] = r
                if "wall_s" in r:
                    _log(f"seed {seed} {p:6s} {a:13s} {r['wall_s']:6.1f}s")
                out = Path(args.out)  # saved after every run, quietly
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(json.dumps({"args": vars(args), "raw": raw, "machine": info}))
            if stopped:
                break
        if stopped:
            break
    if stopped:
        _log(f"--time-limit {args.time_limit}s reached: no new runs started")

    summary = summarise(raw, problems, algos, marks)
    table = markdown(summary, algos, marks, len(seeds))
    print(table)
    errors = {f"{p}/{a}/{s}": r["error"] for p, d in raw.items() for a, rs in d.items()
              for s, r in rs.items() if "error" in r}
    if errors:
        print("\nErrors: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    write_json(Path(args.out), {
        "command": "python3 benchmarks/multiobjective.py " + " ".join(sys.argv[1:]),
        "args": vars(args), "seeds": seeds, "marks": marks, "machine": info,
        "elapsed_s": time.perf_counter() - t_start, "stopped_early": stopped,
        "summary": summary, "table_markdown": table, "errors": errors, "raw": raw}, TAG)
    return 0


if __name__ == "__main__":
    sys.exit(main())
