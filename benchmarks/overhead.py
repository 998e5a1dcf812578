#!/usr/bin/env python3
"""Per-trial overhead of the tuning loop: hyperknob vs keras-tuner vs optuna, in one run.

    python benchmarks/overhead.py [--trials 200] [--repeats 3] [--import-repeats 5] [--only a,b]

Run it with any Python 3.10+: it creates ``benchmarks/.venv`` when missing (keras-tuner 1.4.8,
six, optuna, keras, torch==2.13.0 and an editable install of this repository), re-executes
itself inside that venv, and runs every measurement in a fresh subprocess so that imports and
memory do not leak between cases. Cases run round-robin (one of each per repeat) so that drift
on a shared machine hits every case alike; the table shows the median over repeats.

Measured:
  1. a near-zero-cost objective over a 5-parameter space for ``--trials`` trials, through
     keras-tuner's RandomSearch (run_trial override), hyperknob's KerasTuner-shaped RandomSearch
     (the identical code), hyperknob's create_study/optimize (SQLite and in-memory) and optuna's
     RandomSampler (in-memory and SQLite). Per-trial overhead = wall time of search()/optimize()
     divided by the number of trials; construction of the tuner/study is reported separately.
  2. import cost (wall time of the import statement and peak RSS of the child) of hyperknob,
     keras_tuner and optuna, each in a fresh interpreter, next to a bare interpreter.

Prints Markdown tables (for the README) and writes benchmarks/results/overhead.json.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import HERE, ROOT, TORCH, ensure_venv, log, machine_info, marked_result, median_of, thread_vars, write_json

TAG = "overhead"
VENV = HERE / ".venv"
VENV_PY = VENV / "bin" / "python"
RESULTS = HERE / "results" / "overhead.json"
REQUIREMENTS = ["keras-tuner==1.4.8", "six", "optuna", "keras", TORCH]
STAMP_NAME = ".overhead-installed"
MARK = "@@OVERHEAD-RESULT@@"

CHILD_ENV = {
    "KERAS_BACKEND": "torch",
    **thread_vars(1),
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONWARNINGS": "ignore",
}

# key -> (label, library) ; order is the table's order.
TRIAL_CASES = {
    "kerastuner": ("keras-tuner RandomSearch (run_trial)", "keras_tuner"),
    "hk_tuner": ("hyperknob RandomSearch (same script, SQLite)", "hyperknob"),
    "hk_study_sqlite": ("hyperknob create_study/optimize (SQLite, default)", "hyperknob"),
    "hk_study_memory": ("hyperknob create_study/optimize (:memory:)", "hyperknob"),
    "optuna_memory": ("optuna RandomSampler (in-memory)", "optuna"),
    "optuna_sqlite": ("optuna RandomSampler (SQLite)", "optuna"),
}
REFERENCE = "hk_study_sqlite"
IMPORT_CASES = {
    "bare": ("python (bare interpreter)", None),
    "import_hyperknob": ("import hyperknob", "hyperknob"),
    "import_keras_tuner": ("import keras_tuner", "keras_tuner"),
    "import_optuna": ("import optuna", "optuna"),
}
PACKAGES = ["hyperknob", "keras-tuner", "keras", "torch", "optuna", "numpy", "scipy",
            "SQLAlchemy", "six"]


# --------------------------------------------------------------------------- environment

_log = functools.partial(log, TAG)


def ensure_env() -> None:
    """Create benchmarks/.venv when missing; (re)install when the stamp is stale."""
    ensure_venv(VENV, REQUIREMENTS, STAMP_NAME, TAG, pin_first=TORCH, this_repo=True,
                shown=VENV.relative_to(ROOT))


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


# --------------------------------------------------------------------------- workload

CHOICES = ["relu", "tanh", "gelu", "selu"]


def score(a, b, c, d, e) -> float:
    """The near-zero-cost objective (minimised)."""
    import math

    return ((a - 50) ** 2 / 2500.0 + abs(math.log10(b) + 2.5) + 0.1 * CHOICES.index(c)
            + (0.05 if d else 0.0) + (e - 0.3) ** 2)


def declare(hp):
    """Declares the 5-parameter space on a KerasTuner-style HyperParameters object."""
    return (
        hp.Int("a", 1, 100),
        hp.Float("b", 1e-4, 1e-1, sampling="log"),
        hp.Choice("c", CHOICES),
        hp.Boolean("d"),
        hp.Float("e", 0.0, 1.0),
    )


def kt_shaped_search(kt, tmpdir: str, trials: int) -> dict:
    """The KerasTuner-shaped script, run unchanged against keras_tuner and hyperknob."""

    def build(hp):
        declare(hp)
        return None  # run_trial below never builds a model

    class Tuner(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            return score(hp.get("a"), hp.get("b"), hp.get("c"), hp.get("d"), hp.get("e"))

    t0 = time.perf_counter()
    tuner = Tuner(hypermodel=build, objective=None, max_trials=trials, seed=0,
                  directory=tmpdir, project_name="p", overwrite=True)
    t1 = time.perf_counter()
    tuner.search(verbose=0)
    t2 = time.perf_counter()
    n_done = None
    try:
        n_done = len(tuner.oracle.trials)
    except Exception:
        pass
    return {"setup_s": t1 - t0, "search_s": t2 - t1, "n_done": n_done}


def _count_trials(study):
    for attr in ("trials", "get_trials"):
        obj = getattr(study, attr, None)
        try:
            obj = obj() if callable(obj) else obj
            if obj is not None:
                return len(obj)
        except Exception:
            continue
    return None


def run_case(case: str, trials: int, tmpdir: str) -> dict:
    if case == "kerastuner":
        import keras_tuner

        return kt_shaped_search(keras_tuner, tmpdir, trials)
    if case == "hk_tuner":
        import hyperknob

        return kt_shaped_search(hyperknob, tmpdir, trials)
    if case in ("hk_study_sqlite", "hk_study_memory"):
        import hyperknob

        def objective(hp):
            return score(*declare(hp))

        extra = {"storage": ":memory:"} if case == "hk_study_memory" else {}
        t0 = time.perf_counter()
        study = hyperknob.create_study(directory=tmpdir, project_name="p", algorithm="random",
                                       seed=0, **extra)
        t1 = time.perf_counter()
        study.optimize(objective, n_trials=trials, verbose=0)
        t2 = time.perf_counter()
        return {"setup_s": t1 - t0, "search_s": t2 - t1, "n_done": _count_trials(study)}
    if case in ("optuna_memory", "optuna_sqlite"):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        optuna.logging.disable_default_handler()

        def objective(trial):
            return score(
                trial.suggest_int("a", 1, 100),
                trial.suggest_float("b", 1e-4, 1e-1, log=True),
                trial.suggest_categorical("c", CHOICES),
                trial.suggest_categorical("d", [False, True]),
                trial.suggest_float("e", 0.0, 1.0),
            )

        storage = f"sqlite:///{tmpdir}/optuna.db" if case == "optuna_sqlite" else None
        t0 = time.perf_counter()
        study = optuna.create_study(storage=storage, study_name="p", direction="minimize",
                                    sampler=optuna.samplers.RandomSampler(seed=0))
        t1 = time.perf_counter()
        study.optimize(objective, n_trials=trials)
        t2 = time.perf_counter()
        return {"setup_s": t1 - t0, "search_s": t2 - t1, "n_done": len(study.trials)}
    raise SystemExit(f"unknown case {case!r}")


def child_main(case: str, trials: int) -> None:
    """Runs one tuning loop in this (fresh) interpreter and prints one result line."""
    import resource
    import shutil
    import tempfile

    tmpdir = tempfile.mkdtemp(prefix="hk-overhead-")
    try:
        out = run_case(case, trials, tmpdir)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    out["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    sys.stdout.flush()
    print(MARK + json.dumps(out), flush=True)


# --------------------------------------------------------------------------- driver

# Import probes run as `python -c` so nothing but time/resource is imported before the timer.
IMPORT_PROBE = (
    "import time, resource, json\n"
    "t0 = time.perf_counter()\n"
    "{stmt}\n"
    "t1 = time.perf_counter()\n"
    "print({mark!r} + json.dumps({{'import_s': t1 - t0, "
    "'maxrss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}), flush=True)\n"
)


def spawn(case: str, trials: int, timeout: float) -> dict:
    env = dict(os.environ, **CHILD_ENV)
    if case in IMPORT_CASES:
        module = IMPORT_CASES[case][1]
        stmt = f"import {module}" if module else "pass"
        cmd = [sys.executable, "-c", IMPORT_PROBE.format(stmt=stmt, mark=MARK)]
    else:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", case,
               "--trials", str(trials)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    out = marked_result(proc.stdout, MARK)
    if out is not None:
        out["process_s"] = wall
        return out
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-40:]
    return {"error": f"exit {proc.returncode}", "traceback": "\n".join(tail)}


def summarise(raw: dict, trials: int) -> dict:
    summary = {}
    for case, runs in raw.items():
        ok = [r for r in runs if "error" not in r]
        s = {"ok_runs": len(ok), "runs": len(runs)}
        if ok:
            if case in TRIAL_CASES:
                per = [r["search_s"] / trials * 1e3 for r in ok]
                s.update(per_trial_ms=statistics.median(per), per_trial_ms_min=min(per),
                         per_trial_ms_max=max(per), search_s=median_of(ok, "search_s"),
                         setup_ms=median_of(ok, "setup_s") * 1e3, n_done=median_of(ok, "n_done"))
            else:
                imp = [r["import_s"] * 1e3 for r in ok]
                s.update(import_ms=statistics.median(imp), import_ms_min=min(imp),
                         import_ms_max=max(imp))
            s["maxrss_mib"] = median_of(ok, "maxrss_kb") / 1024
        errs = [r for r in runs if "error" in r]
        if errs:
            s["error"] = errs[0]["error"]
            s["traceback"] = errs[0].get("traceback")
        summary[case] = s
    ref = summary.get(REFERENCE, {}).get("per_trial_ms")
    for case in TRIAL_CASES:
        if case in summary and ref and summary[case].get("per_trial_ms") is not None:
            summary[case]["ratio_to_reference"] = summary[case]["per_trial_ms"] / ref
    return summary


def _fmt(v, spec: str, dash: str = "–") -> str:
    return dash if v is None else format(v, spec)


def _ms(v: float) -> str:
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def render_imports(summary: dict, args) -> list:
    lines = [""]
    bare = summary.get("bare", {}).get("maxrss_mib")
    lines.append(f"Import cost: fresh interpreter per run, median of {args.import_repeats} "
                 f"(after one discarded warm-up run that fills the bytecode cache).")
    lines.append("")
    lines.append("| Import | wall (ms) | range (ms) | peak RSS (MiB) | RSS over bare python (MiB) |")
    lines.append("|---|--:|--:|--:|--:|")
    for case, (label, _) in IMPORT_CASES.items():
        if case not in summary:
            continue
        s = summary[case]
        if "import_ms" not in s:
            lines.append(f"| `{label}` | error | | | |")
            continue
        delta = None if bare is None else s["maxrss_mib"] - bare
        lbl = label if case == "bare" else f"`{label}`"
        lines.append(f"| {lbl} | {_ms(s['import_ms'])} | {_ms(s['import_ms_min'])}–"
                     f"{_ms(s['import_ms_max'])} | {s['maxrss_mib']:.0f} | {_fmt(delta, '.0f')} |")
    return lines


def render(summary: dict, info: dict, args) -> str:
    lines = []
    lines.append(f"Per-trial overhead: near-zero-cost objective, 5 parameters, {args.trials} trials, "
                 f"median of {args.repeats} fresh processes "
                 f"(ratio = per-trial time / hyperknob create_study with default SQLite storage).")
    lines.append("")
    lines.append("| Tuning loop | ms / trial | range (ms) | × hyperknob SQLite | setup (ms) "
                 "| trials run | peak RSS (MiB) |")
    lines.append("|---|--:|--:|--:|--:|--:|--:|")
    for case, (label, _) in TRIAL_CASES.items():
        if case not in summary:
            continue
        s = summary[case]
        if "per_trial_ms" not in s:
            lines.append(f"| {label} | error | | | | | |")
            continue
        rng = f"{s['per_trial_ms_min']:.2f}–{s['per_trial_ms_max']:.2f}"
        ratio = s.get("ratio_to_reference")
        n_done = s.get("n_done")
        lines.append(
            f"| {label} | {s['per_trial_ms']:.2f} | {rng} | "
            f"{_fmt(ratio, '.2f') + ('×' if ratio is not None else '')} | {s['setup_ms']:.1f} | "
            f"{_fmt(n_done, '.0f', '?')} | {s['maxrss_mib']:.0f} |")
    if any(c in summary for c in IMPORT_CASES):
        lines.extend(render_imports(summary, args))
    lines.append("")
    pk = info["packages"]
    git = info["hyperknob_git"]
    lines.append(
        f"Machine: {info['cpu_model'] or 'unknown CPU'}, {info['cpu_count']} CPUs "
        f"({info['cpus_usable']} usable), {info['platform']}, "
        f"{info['python_impl']} {info['python']}, OMP_NUM_THREADS=1, KERAS_BACKEND=torch.")
    lines.append(
        "Versions: " + ", ".join(f"{k} {v}" for k, v in pk.items() if v is not None)
        + (f" (hyperknob at {git.get('commit')}{', src modified' if git.get('dirty_src') else ''})"
           if git.get("commit") else "") + ".")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=200, help="trials per search (default 200)")
    p.add_argument("--repeats", type=int, default=3,
                   help="fresh processes per tuning case; the median is reported (default 3)")
    p.add_argument("--import-repeats", type=int, default=5,
                   help="fresh interpreters per import measurement (default 5)")
    p.add_argument("--only", default="",
                   help="comma-separated case keys to run (default all): "
                        + ", ".join([*TRIAL_CASES, *IMPORT_CASES]))
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per child process")
    p.add_argument("--json", type=Path, default=RESULTS, help="where to write the JSON results")
    p.add_argument("--_child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args._child:
        child_main(args._child, args.trials)
        return 0

    ensure_env()
    if not in_venv():
        os.environ.update(CHILD_ENV)
        os.execv(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve()), *sys.argv[1:]])
    os.environ.update(CHILD_ENV)

    wanted = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in TRIAL_CASES and c not in IMPORT_CASES]
    if unknown:
        p.error(f"unknown case(s): {', '.join(unknown)}")
    trial_cases = [c for c in TRIAL_CASES if not wanted or c in wanted]
    import_cases = [c for c in IMPORT_CASES if not wanted or c in wanted]
    if import_cases and "bare" not in import_cases:
        import_cases.insert(0, "bare")

    info = machine_info(PACKAGES, CHILD_ENV)
    raw: dict[str, list] = {c: [] for c in [*trial_cases, *import_cases]}
    t_start = time.time()

    # Import cost: one discarded warm-up run each (fills __pycache__), then round-robin.
    for case in import_cases:
        spawn(case, args.trials, args.timeout)
    for i in range(args.import_repeats):
        for case in import_cases:
            _log(f"import run {i + 1}/{args.import_repeats}: {case}")
            raw[case].append(spawn(case, args.trials, args.timeout))

    # Tuning loops: round-robin over cases, one fresh process per (case, repeat).
    for i in range(args.repeats):
        for case in trial_cases:
            _log(f"repeat {i + 1}/{args.repeats}: {case}")
            r = spawn(case, args.trials, args.timeout)
            if "error" in r:
                _log(f"  {case} failed: {r['error']}")
            else:
                _log(f"  {r['search_s'] / args.trials * 1e3:.2f} ms/trial")
            raw[case].append(r)

    summary = summarise(raw, args.trials)
    table = render(summary, info, args)
    print(table)
    errors = {c: s for c, s in summary.items() if "error" in s}
    for case, s in errors.items():
        print(f"\n### {case} failed ({s['error']})\n```\n{s.get('traceback') or ''}\n```")

    write_json(args.json, {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t_start)),
        "duration_s": time.time() - t_start,
        "args": {"trials": args.trials, "repeats": args.repeats,
                 "import_repeats": args.import_repeats, "only": wanted},
        "reference": REFERENCE,
        "labels": {k: v[0] for k, v in {**TRIAL_CASES, **IMPORT_CASES}.items()},
        "machine": info,
        "summary": summary,
        "raw": raw,
        "markdown": table,
    }, TAG, indent=2, default=str, end="\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
