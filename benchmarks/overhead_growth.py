#!/usr/bin/env python3
"""How the per-trial cost grows with the study: hyperknob vs optuna, SQLite, in one run.

    python benchmarks/overhead_growth.py [--random-marks 100,1000,10000,100000]
        [--tpe-marks 100,1000,10000] [--window 200] [--budget 900] [--only a,b]

The companion of overhead.py (same venv, benchmarks/.venv, made when missing). Each case grows
one study on a SQLite file with a near-zero-cost objective over overhead.py's 5-parameter space,
and at each mark times a window of ``--window`` trials: per-trial cost there = the window's wall
time / its trials, everything included (the proposal, the claim, the objective, the write). The
process's resident memory is read at each mark. A case stops when it has used ``--budget``
seconds; its later marks are shown as "–". Cases run one after another in fresh processes, each
with one BLAS thread. issue #22's goals: random within 1.2x of trial 100's cost at 100,000
trials, TPE within 2x at 10,000.

Prints a Markdown table and writes benchmarks/results/overhead_growth.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import HERE, ROOT, log, machine_info, marked_result, write_json
from overhead import CHILD_ENV, CHOICES, PACKAGES, VENV_PY, declare, ensure_env, in_venv, score

TAG = "overhead-growth"
RESULTS = HERE / "results" / "overhead_growth.json"
MARK = "@@GROWTH@@"
CASES = {  # key -> (label, library, algorithm, which marks)
    "hk_random": ("hyperknob random (SQLite)", "hyperknob", "random", "random"),
    "optuna_random": ("optuna RandomSampler (SQLite)", "optuna", "random", "random"),
    "hk_tpe": ("hyperknob TPE (SQLite)", "hyperknob", "tpe", "tpe"),
    "optuna_tpe": ("optuna TPESampler multivariate (SQLite)", "optuna", "tpe", "tpe"),
}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _runner(library: str, algorithm: str, tmpdir: str):
    """``run(n, timeout)``: up to n more trials of one growing study; how many ran."""
    if library == "hyperknob":
        import hyperknob

        study = hyperknob.create_study(directory=tmpdir, project_name="p", algorithm=algorithm, seed=0)

        def objective(hp):
            return score(*declare(hp))

        def run_hk(n: int, timeout: float) -> int:
            before = len(study.trials)
            study.optimize(objective, n_trials=n, timeout=max(timeout, 1.0), verbose=0)
            return len(study.trials) - before

        return run_hk
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = (optuna.samplers.RandomSampler(seed=0) if algorithm == "random"
               else optuna.samplers.TPESampler(seed=0, multivariate=True))
    study = optuna.create_study(storage=f"sqlite:///{tmpdir}/optuna.db", study_name="p", sampler=sampler)

    def objective(trial):
        return score(trial.suggest_int("a", 1, 100), trial.suggest_float("b", 1e-4, 1e-1, log=True),
                     trial.suggest_categorical("c", CHOICES), trial.suggest_categorical("d", [False, True]),
                     trial.suggest_float("e", 0.0, 1.0))

    def run_optuna(n: int, timeout: float) -> int:
        before = len(study.trials)
        study.optimize(objective, n_trials=n, timeout=max(timeout, 1.0))
        return len(study.trials) - before

    return run_optuna


def child_main(case: str, marks: list[int], window: int, budget: float) -> None:
    import shutil
    import tempfile

    _, library, algorithm, _ = CASES[case]
    tmpdir = tempfile.mkdtemp(prefix="hk-growth-")
    start = time.perf_counter()
    points = []
    try:
        run = _runner(library, algorithm, tmpdir)
        done = 0
        for mark in marks:
            size = min(window, mark)
            left = budget - (time.perf_counter() - start)
            if mark - size > done and run(mark - size - done, left) < mark - size - done:
                break  # out of time before this mark
            t0 = time.perf_counter()
            run(size, 10 * budget)
            per_trial_ms = (time.perf_counter() - t0) / size * 1e3
            done = mark
            points.append({"trials": mark, "per_trial_ms": per_trial_ms, "rss_mb": _rss_mb(),
                           "elapsed_s": time.perf_counter() - start})
            print(f"{case}: {per_trial_ms:.2f} ms/trial at {mark}", file=sys.stderr, flush=True)
            if time.perf_counter() - start > budget:
                break
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    print(MARK + json.dumps({"points": points}), flush=True)


def spawn(case: str, marks: list[int], args) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", case, "--marks", ",".join(map(str, marks)),
           "--window", str(args.window), "--budget", str(args.budget)]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, **CHILD_ENV), capture_output=True, text=True,
                              timeout=args.budget * 2 + 600)
    except subprocess.TimeoutExpired:
        return {"error": "timed out", "points": []}
    out = marked_result(proc.stdout, MARK)
    if out is None:
        return {"error": f"exit {proc.returncode}", "points": [], "traceback": proc.stderr[-3000:]}
    return out


def render(results: dict, marks_of: dict) -> str:
    lines = []
    for kind in ("random", "tpe"):
        marks = marks_of[kind]
        cases = [c for c in results if CASES[c][3] == kind]
        if not cases:
            continue
        head = " | ".join(f"{m:,}" for m in marks)
        lines += [f"\nPer-trial cost (ms) by study size, {kind}; in brackets: x trial {marks[0]}'s; last: MB at the end",
                  "", f"| case | {head} | memory |", "|---|" + "--:|" * (len(marks) + 1)]
        for case in cases:
            by_mark = {p["trials"]: p for p in results[case]["points"]}
            base = by_mark.get(marks[0], {}).get("per_trial_ms")
            cells = []
            for m in marks:
                p = by_mark.get(m)
                cells.append("–" if p is None else f"{p['per_trial_ms']:.2f} ({p['per_trial_ms'] / base:.2f}x)")
            last = results[case]["points"][-1]["rss_mb"] if results[case]["points"] else None
            memory = "–" if last is None else f"{last:.0f}"
            lines.append(f"| {CASES[case][0]} | " + " | ".join(cells) + f" | {memory} |")
    return "\n".join(lines)


def _marks(text: str) -> list[int]:
    return sorted({int(x) for x in text.split(",") if x.strip()})


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--random-marks", default="100,1000,10000,100000")
    p.add_argument("--tpe-marks", default="100,1000,10000")
    p.add_argument("--window", type=int, default=200, help="trials timed at each mark (default 200)")
    p.add_argument("--budget", type=float, default=900.0, help="seconds a case may run (default 900)")
    p.add_argument("--only", default="", help="comma-separated cases: " + ", ".join(CASES))
    p.add_argument("--json", type=Path, default=RESULTS)
    p.add_argument("--_child", help=argparse.SUPPRESS)
    p.add_argument("--marks", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._child:
        child_main(args._child, _marks(args.marks), args.window, args.budget)
        return 0
    ensure_env()
    if not in_venv():
        os.execv(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve()), *sys.argv[1:]])
    wanted = [c for c in args.only.split(",") if c] or list(CASES)
    marks_of = {"random": _marks(args.random_marks), "tpe": _marks(args.tpe_marks)}
    t_start = time.time()
    results = {}
    for case in wanted:
        log(TAG, f"{case} ...")
        results[case] = spawn(case, marks_of[CASES[case][3]], args)
        if "error" in results[case]:
            log(TAG, f"{case} failed: {results[case]['error']}\n{results[case].get('traceback', '')}")
    table = render(results, marks_of)
    print(table)
    write_json(args.json, {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t_start)),
                           "duration_s": time.time() - t_start, "args": vars(args),
                           "machine": machine_info(PACKAGES, CHILD_ENV), "results": results, "markdown": table},
               TAG, indent=2, default=str, end="\n")
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
