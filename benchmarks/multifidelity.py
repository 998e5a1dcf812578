#!/usr/bin/env python3
"""Multi-fidelity benchmark: hyperknob's Hyperband, ASHA (random, TPE or GP proposals, or a GP
budget model), BOHB and random search with median pruning against keras-tuner's Hyperband and
optuna's TPESampler with its HyperbandPruner, side by side, on learning-curve problems where the
budget is epochs.

    python3 benchmarks/multifidelity.py [--seeds 5] [--first-seed 0]
                                        [--problems digits,mnist1d,mnist1d_hello,synthetic]
                                        [--optimizers a,b] [--timeout 3600]
                                        [--reuse OLD.json[,OLD2.json] [--reuse-optimizers a,b]]

Run it with any Python 3.10+: like suite.py it uses ``benchmarks/.venv`` (keras-tuner 1.4.8, six,
optuna, keras, torch==2.13.0, scikit-learn, this repository editable), adding mnist1d to it (its
own stamp, ``.multifidelity-installed``), and re-executes itself inside. Every (optimiser,
problem) pair runs in a fresh subprocess, one after the other, on one thread
(OMP/MKL/OPENBLAS_NUM_THREADS=1, KERAS_BACKEND=torch, torch set to 1 thread), looping over the
seeds. Problems: see benchmarks/_multifidelity_problems.py (digits: the KerasTuner hello world;
mnist1d: a 1-4 layer variant on MNIST-1D, generated locally; mnist1d_hello: the hello world on
MNIST-1D; synthetic: formula learning curves, the hyperknob schedulers driven by
``hyperknob.testing.simulation.simulate`` on an injected clock, keras-tuner's HyperbandOracle and
optuna driven by hand with ask/tell on the same curves).

Budget. keras-tuner's ``Hyperband(max_epochs=20, factor=3, hyperband_iterations=1)`` runs first
on each problem and defines the reference: its median number of epochs trained (E) and its median
final best validation accuracy (S); its oracle gets seed ``kt_seed(s)``, spread apart because its
consecutive seeds share their random draws. hyperknob Hyperband and BOHB run the same bracket
schedule (so the same epochs); ASHA (max_epochs=20, factor=3), random search + MedianPruner(
n_startup_trials=5, n_warmup_steps=2, 20 epochs per trial) and optuna TPE + HyperbandPruner(1, 20,
3) (20 epochs per trial) stop when E epochs have been trained: no new trial starts and the
running one stops at the E-th epoch. Epochs are counted as trained (a promotion counts only its
new epochs), by a Keras callback that also records every epoch's validation accuracy; the best
validation score "reached" after n epochs is the best of the first n per-epoch validation
accuracies (every library keeps its best epoch's weights).

Reported per problem and optimiser, median and interquartile range over seeds of: the best
validation accuracy after 25%, 50% and 100% of E epochs; the epochs needed to reach S; the final
best; the epochs trained; the wall time of the search (simulated seconds for the synthetic
problem, where an epoch costs 0.5 + 1.5 * units/512 s). Prints Markdown tables and writes
benchmarks/results/multifidelity.json.

This file is the command (the venv, one child per pair, reused runs, the JSON); the rows and the
budget they share are in _multifidelity_rows.py, what a child runs (every library's search side
by side) in _multifidelity_runners.py, the summary and its tables in _multifidelity_report.py.
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import HERE, ROOT, TORCH, background_cores, chosen, cpu_model, ensure_venv, log, thread_vars, write_json
from _multifidelity_report import markdown, summarise
from _multifidelity_rows import FACTOR, MARK, MAX_EPOCHS, OPTIMIZERS, REFERENCE
from _multifidelity_runners import child_main

TAG = "multifidelity"
VENV = HERE / ".venv"
VENV_PY = VENV / "bin" / "python"
RESULTS = HERE / "results" / "multifidelity.json"
# suite.py's requirements plus mnist1d (a separate stamp, so the other scripts' stamps stay valid)
REQUIREMENTS = ["keras-tuner==1.4.8", "six", "optuna", "keras", TORCH, "scikit-learn", "mnist1d"]
STAMP_NAME = ".multifidelity-installed"

CHILD_ENV = {
    "KERAS_BACKEND": "torch",
    **thread_vars(1),
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONWARNINGS": "ignore",
    "CUDA_VISIBLE_DEVICES": "",
}

DEFAULT_PROBLEMS = ["digits", "mnist1d", "mnist1d_hello", "synthetic"]

_log = functools.partial(log, TAG)


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


# --------------------------------------------------------------------------- parent

def run_child(opt: str, problem: str, seeds: list[int], budget: int, timeout: float) -> dict:
    cmd = [str(VENV_PY), str(Path(__file__).resolve()), "--child", opt, problem,
           "--seeds-list", ",".join(map(str, seeds)), "--budget", str(budget)]
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
            _log(f"  {opt}/{problem} seed {s}: {r['error']}\n{r.get('traceback', '')}")
    ok = [r for r in runs.values() if "error" not in r]
    extra = ""
    if ok:
        extra = (f", epochs {statistics.median(r['epochs'] for r in ok):.0f}, best "
                 f"{statistics.median(max(r['vals']) for r in ok):.4f}")
    _log(f"  {opt:16s} {problem:9s} {len(ok)}/{len(seeds)} seeds in "
         f"{time.perf_counter() - t0:.1f}s{extra}")
    return runs


def reused_runs(path: str, names: str, problems: list[str], seeds: list[int]) -> dict:
    """{problem: {optimiser: {seed: run}}} of ``names`` from earlier outputs (comma-separated
    paths; each run from the first file that has it), for exactly these seeds (a run is a pure
    function of its seed and the libraries, so an unchanged optimiser need not be trained again).
    Exits if no file has one of them."""
    raws = [json.loads(Path(p).read_text())["raw"] for p in path.split(",")]
    out: dict = {}
    for pname in problems:
        for o in chosen(names, OPTIMIZERS, "optimizer"):
            runs = {}
            for s in seeds:
                found = [r[pname][o][str(s)] for r in raws if str(s) in r.get(pname, {}).get(o, {})]
                if not found:
                    sys.exit(f"--reuse {path}: no {o} run of {pname} for seed {s}")
                runs[s] = found[0]
            out.setdefault(pname, {})[o] = runs
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    ap.add_argument("--first-seed", type=int, default=0,
                    help="start the seeds here: --first-seed 5 --seeds 5 runs seeds 5..9")
    ap.add_argument("--problems", default=",".join(DEFAULT_PROBLEMS))
    ap.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    ap.add_argument("--timeout", type=float, default=5400.0,
                    help="seconds allowed per (optimiser, problem) child")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--reuse", metavar="JSON[,JSON]",
                    help="take the runs of --reuse-optimizers from these earlier outputs (the first "
                         "that has them; same problems and seeds) instead of running them again")
    ap.add_argument("--reuse-optimizers", default=REFERENCE,
                    help="which optimisers --reuse takes (default: the reference, keras-tuner's "
                         "Hyperband, which no hyperknob change can move)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--seeds-list", help=argparse.SUPPRESS)
    ap.add_argument("--budget", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        child_main(args.child[0], args.child[1], [int(s) for s in args.seeds_list.split(",")],
                   args.budget)
        return
    if not in_venv():
        ensure_venv(VENV, REQUIREMENTS, STAMP_NAME, TAG, pin_first=TORCH, this_repo=True,
                    shown=VENV.relative_to(ROOT))
        os.execv(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve()), *sys.argv[1:]])

    from _multifidelity_problems import PROBLEMS
    from hyperknob.schedulers import hyperband_table

    problems = chosen(args.problems, PROBLEMS, "problem")
    optimizers = chosen(args.optimizers, OPTIMIZERS, "optimizer")
    optimizers = [o for o in OPTIMIZERS if o in optimizers]  # the reference first
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    # Epochs of one Hyperband iteration when every trial trains all its epochs: the budget when
    # keras-tuner's Hyperband is not run.
    table_epochs = sum(size * (ep - prev) for bracket in hyperband_table(MAX_EPOCHS, FACTOR)
                       for (size, ep), prev in zip(bracket, [0] + [e for _, e in bracket], strict=False))
    bg = background_cores(2.0)
    _log(f"{len(problems)} problems x {len(optimizers)} optimisers x {len(seeds)} seeds; "
         f"Hyperband table epochs {table_epochs}; other processes use {bg:.2f} cores")

    raw: dict = {}
    budgets: dict = {}
    reused = reused_runs(args.reuse, args.reuse_optimizers, problems, seeds) if args.reuse else {}
    t0 = time.perf_counter()
    for pname in problems:
        budget = table_epochs
        for o in optimizers:
            runs = reused.get(pname, {}).get(o)
            if runs is not None:
                _log(f"  {o:16s} {pname:9s} {len(runs)} seeds reused from {args.reuse}")
            if o == REFERENCE:
                raw.setdefault(pname, {})[o] = (runs if runs is not None else
                                                run_child(o, pname, seeds, budget, args.timeout))
                ok = [r["epochs"] for r in raw[pname][o].values() if "error" not in r]
                if ok:
                    budget = int(round(statistics.median(ok)))
                _log(f"  budget for {pname}: {budget} epochs")
                continue
            raw.setdefault(pname, {})[o] = (runs if runs is not None else
                                            run_child(o, pname, seeds, budget, args.timeout))
        budgets[pname] = budget
    summary = summarise(raw, problems, optimizers, budgets)
    table = markdown(summary, optimizers)
    print(table)

    import importlib.metadata as md

    versions = {}
    for pkg in ("hyperknob", "keras-tuner", "keras", "torch", "optuna", "scikit-learn", "numpy",
                "mnist1d"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass

    def clean(x):  # JSON has no infinity
        if isinstance(x, float) and math.isinf(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x

    payload = {
        "command": "python3 benchmarks/multifidelity.py " + " ".join(sys.argv[1:]),
        "reused": {"from": args.reuse, "optimizers": sorted({o for d in reused.values() for o in d})}
        if args.reuse else None,
        "seeds": seeds, "problems": problems, "max_epochs": MAX_EPOCHS, "factor": FACTOR,
        "optimizers": {o: OPTIMIZERS[o] for o in optimizers},
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "threads": 1,
                    "other_processes_cores_at_start": bg},
        "versions": versions, "elapsed_s": time.perf_counter() - t0,
        "summary": clean(summary), "table_markdown": table,
        "raw": {p: {o: {str(s): clean({k: (v if k != "times" else [round(t, 3) for t in v])
                                        for k, v in r.items()})
                        for s, r in runs.items()} for o, runs in d.items()}
                for p, d in raw.items()},
    }
    write_json(Path(args.out), payload, TAG)


if __name__ == "__main__":
    main()
