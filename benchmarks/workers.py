#!/usr/bin/env python3
"""Parallel workers: trials per second with 1, 2, 4, 8 worker processes, hyperknob beside optuna,
on an SQLite file and on PostgreSQL, side by side in one run.

    python3 benchmarks/workers.py [--workers 1,2,4,8] [--storages sqlite,postgres] [--seconds 6]
                                  [--repeats 3] [--warmup 2] [--sleep-ms 50]

Run it with any Python 3.10+: it uses ``benchmarks/.venv`` (optuna and this repository editable,
as the other benchmarks), adds psycopg (PostgreSQL driver) and pytest (imported by the test
suite's PostgreSQL helper) under its own stamp, ``.workers-installed``, and re-executes itself
inside. PostgreSQL: one throwaway server for the whole run, started with the test suite's
``PostgresServer`` (tests/postgres_server.py: initdb into a temporary folder, loopback only,
fsync and synchronous_commit off), a fresh database per measurement; without the server binaries
the PostgreSQL rows are skipped with the reason.

The workload: an objective that draws one float and sleeps ``--sleep-ms`` (50 ms), standing in
for training that waits on a device; so N workers could at best finish N x 1000/50 trials per
second, whatever the number of cores. Each measurement runs in a fresh process (imports done,
study created), which then starts N workers on the same study:
  * hyperknob: ``create_study(storage=url, algorithm="random")`` then
    ``study.optimize(objective, n_workers=N, timeout=...)`` (the library's forked workers;
    N=1 runs in the process itself, as the library does);
  * optuna: ``optuna.create_study(storage=url, sampler=RandomSampler)``, then N forked processes
    each running ``optuna.load_study(...).optimize(objective, timeout=...)`` on its own
    ``RDBStorage`` (optuna's default settings for that URL).
Steady-state throughput: every worker stops starting trials ``warmup + seconds`` after the
workers were started; the trials counted are those whose stored completion time lies in the
window [start + warmup, start + warmup + seconds], divided by ``seconds``. Process start-up and
imports are outside the window (the objective also records when each worker ran its first trial,
and the JSON says whether all had started before the window opened). Efficiency =
throughput(N) / (N x throughput(1)) of the same library and storage. Each (storage, workers,
library) point is measured ``--repeats`` times, round robin, libraries alternating first; the
tables show medians.

Prints one Markdown table per storage and writes benchmarks/results/workers.json.
"""
from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    HERE,
    ROOT,
    children_cpu_s,
    ensure_venv,
    log,
    machine_busy_s,
    machine_info,
    marked_result,
    pip_install,
    thread_vars,
    write_json,
)

TAG = "workers"
VENV = HERE / ".venv"
VENV_PY = VENV / "bin" / "python"
RESULTS = HERE / "results" / "workers.json"
REQUIREMENTS = ["optuna", "psycopg[binary]>=3.1", "pytest"]
STAMP_NAME = ".workers-installed"
MARK = "@@WORKERS-RESULT@@"
LIBRARIES = ("hyperknob", "optuna")
STORAGES = ("sqlite", "postgres")
PACKAGES = ["hyperknob", "optuna", "SQLAlchemy", "psycopg", "psycopg-binary", "numpy"]
CHILD_ENV = {**thread_vars(1), "PYTHONWARNINGS": "ignore"}
GOAL_EFFICIENCY = 0.9

_log = functools.partial(log, TAG)


# --------------------------------------------------------------------------- environment

def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_env() -> None:
    """benchmarks/.venv with optuna, psycopg and pytest, and this repository editable.

    The repository is installed only where the venv lacks it: other benchmarks may be running
    from the same venv, and reinstalling it would pull it from under them for a moment.
    """
    py = ensure_venv(VENV, REQUIREMENTS, STAMP_NAME, TAG, shown=VENV.relative_to(ROOT))
    probe = subprocess.run([str(py), "-c", "import hyperknob; print(hyperknob.__file__)"],
                           capture_output=True, text=True)
    where = Path(probe.stdout.strip() or "/nonexistent").resolve()
    if probe.returncode != 0 or ROOT not in where.parents:
        pip_install(py, "-e", ".", tag=TAG, cwd=ROOT, what=" (this repository, editable)")


# --------------------------------------------------------------------------- the workload

class _Marks:
    """Shared memory (created before the fork) where every worker process records the wall time
    of its first objective call: how we know that all N workers were running."""

    def __init__(self, n: int) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self.first = ctx.Array("d", n, lock=False)
        self.next_slot = ctx.Value("i", 0)  # with a lock
        self._seen: dict[int, bool] = {}

    def mark(self) -> None:
        pid = os.getpid()
        if pid in self._seen:  # the dict is per process after the fork
            return
        self._seen[pid] = True
        now = time.time()
        with self.next_slot.get_lock():
            slot = self.next_slot.value
            self.next_slot.value += 1
        if slot < len(self.first):
            self.first[slot] = now

    def started(self) -> list[float]:
        return [t for t in self.first[: min(self.next_slot.value, len(self.first))] if t > 0]


def run_hyperknob(url: str, n: int, run_s: float, sleep_s: float, marks: _Marks) -> tuple[float, list]:
    import hyperknob as hk

    def objective(hp):
        x = hp.Float("x", -10.0, 10.0)
        marks.mark()
        time.sleep(sleep_s)
        return x * x

    study = hk.create_study(storage=url, project_name="workers_bench", algorithm="random", seed=0)
    t0 = time.time()
    study.optimize(objective, n_workers=n, timeout=run_s, verbose=0)
    trials = study.get_trials()
    done = [(t.datetime_start, t.datetime_complete) for t in trials
            if t.status.value == "COMPLETED" and t.datetime_complete is not None]
    study.storage.close()
    return t0, done


def run_optuna(url: str, n: int, run_s: float, sleep_s: float, marks: _Marks) -> tuple[float, list]:
    import multiprocessing

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = "workers_bench"

    def objective(trial):
        x = trial.suggest_float("x", -10.0, 10.0)
        marks.mark()
        time.sleep(sleep_s)
        return x * x

    def worker(index: int) -> None:
        code = 0
        try:
            study = optuna.load_study(study_name=name, storage=url,
                                      sampler=optuna.samplers.RandomSampler(seed=index))
            study.optimize(objective, timeout=run_s)
        except BaseException:  # noqa: BLE001 - printed; the parent reports the exit code
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)

    storage = optuna.storages.RDBStorage(url)
    optuna.create_study(storage=storage, study_name=name, direction="minimize",
                        sampler=optuna.samplers.RandomSampler(seed=0))
    storage.engine.dispose()  # no connection of this process crosses the fork
    ctx = multiprocessing.get_context("fork")
    t0 = time.time()
    procs = [ctx.Process(target=worker, args=(i,)) for i in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} of {n} optuna workers failed (exit codes {failed})")
    study = optuna.load_study(study_name=name, storage=url)
    done = [(t.datetime_start.timestamp(), t.datetime_complete.timestamp())
            for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))]
    return t0, done


def child_main(lib: str, url: str, n: int, seconds: float, warmup: float, sleep_ms: float) -> None:
    """One measurement in this fresh process; prints one result line."""
    import resource

    marks = _Marks(n)
    run = run_hyperknob if lib == "hyperknob" else run_optuna
    run_s = warmup + seconds
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0, done = run(url, n, run_s, sleep_ms / 1000.0, marks)
    t_end = time.time()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    lo, hi = t0 + warmup, t0 + warmup + seconds
    in_window = [d for d in done if lo <= d[1] < hi]
    started = marks.started()
    cpu_s = (cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
             + kids.ru_utime + kids.ru_stime)
    out = {
        "trials_per_s": len(in_window) / seconds,
        "trials_in_window": len(in_window),
        "trials_total": len(done),
        "workers_started": len(started),
        "all_started_after_s": (max(started) - t0) if len(started) == n else None,
        "all_started_before_window": len(started) == n and max(started) < lo,
        # The objective's own time excluded: what a trial costs around the sleep, per worker.
        "cycle_ms": (n * seconds / len(in_window) * 1e3) if in_window else None,
        "run_s": t_end - t0,
        "cpu_ms_per_trial": cpu_s / len(done) * 1e3 if done else None,
    }
    print(MARK + json.dumps(out), flush=True)


# --------------------------------------------------------------------------- PostgreSQL

def start_postgres():
    """(server, admin_url) of a throwaway server from tests/postgres_server.py, or (None, reason)."""
    spec = importlib.util.spec_from_file_location("_hk_postgres_server", ROOT / "tests" / "postgres_server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    bindir = module.find_server_bin()
    if bindir is None:
        return None, "no PostgreSQL server binaries (initdb, pg_ctl); apt-get install postgresql"
    server = module.PostgresServer(bindir)
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - reported in the table
        server.stop()
        return None, f"the PostgreSQL server did not start: {exc}"
    return server, server.admin_url


def _pg_admin(admin_url: str, statement: str) -> None:
    import psycopg

    url = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True, connect_timeout=30) as conn:
        conn.execute(statement)


# --------------------------------------------------------------------------- driver

def measure(lib: str, storage: str, n: int, args, pg_admin: str | None, tag: str) -> dict:
    """One fresh process on a fresh database; returns its result (or an error)."""
    tmp = tempfile.mkdtemp(prefix="hk-workers-")
    db_name = None
    try:
        if storage == "sqlite":
            url = f"sqlite:///{tmp}/study.db"
        else:
            db_name = f"bench_{lib}_{n}_{tag}"
            _pg_admin(pg_admin, f'CREATE DATABASE "{db_name}"')
            url = pg_admin.rpartition("/")[0] + "/" + db_name
        cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", lib, "--_url", url,
               "--_n", str(n), "--seconds", str(args.seconds), "--warmup", str(args.warmup),
               "--sleep-ms", str(args.sleep_ms)]
        busy0, cpu0, w0 = machine_busy_s(), children_cpu_s(), time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, **CHILD_ENV),
                                  capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {args.timeout:.0f} s"}
        wall = time.perf_counter() - w0
        out = marked_result(proc.stdout, MARK)
        if out is None:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-30:]
            return {"error": f"exit {proc.returncode}", "traceback": "\n".join(tail)}
        # Cores kept busy by everything but this measurement's processes (on PostgreSQL this
        # includes the server, which works for the measurement).
        out["other_cores"] = max(0.0, (machine_busy_s() - busy0 - (children_cpu_s() - cpu0)) / wall)
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if db_name is not None:
            try:
                _pg_admin(pg_admin, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            except Exception as exc:  # noqa: BLE001
                _log(f"could not drop {db_name}: {exc}")


def summarise(raw: dict, workers: list[int]) -> dict:
    """Medians per (storage, library, workers), efficiencies against the same library's 1 worker."""
    summary: dict = {}
    for storage, per_lib in raw.items():
        s_st = summary.setdefault(storage, {})
        for lib, per_n in per_lib.items():
            s_lib = s_st.setdefault(lib, {})
            for n, runs in per_n.items():
                ok = [r for r in runs if "error" not in r]
                s = {"ok_runs": len(ok), "runs": len(runs)}
                if ok:
                    tps = [r["trials_per_s"] for r in ok]
                    s.update(
                        trials_per_s=statistics.median(tps), min=min(tps), max=max(tps),
                        cycle_ms=statistics.median([r["cycle_ms"] for r in ok if r["cycle_ms"]] or [0]),
                        cpu_ms_per_trial=statistics.median(
                            [r["cpu_ms_per_trial"] for r in ok if r["cpu_ms_per_trial"]] or [0]),
                        all_started_before_window=all(r["all_started_before_window"] for r in ok),
                        other_cores=statistics.median([r["other_cores"] for r in ok]),
                    )
                errs = [r for r in runs if "error" in r]
                if errs:
                    s["error"] = errs[0]["error"]
                    s["traceback"] = errs[0].get("traceback")
                s_lib[n] = s
            one = s_lib.get(1, {}).get("trials_per_s")
            for n, s in s_lib.items():
                if one and s.get("trials_per_s") is not None:
                    s["efficiency"] = s["trials_per_s"] / (n * one)
        for n in workers:
            hk = s_st.get("hyperknob", {}).get(n, {}).get("trials_per_s")
            op = s_st.get("optuna", {}).get(n, {}).get("trials_per_s")
            if hk and op:
                s_st.setdefault("ratio", {})[n] = hk / op
    return summary


def _f(v, spec: str) -> str:
    return "–" if v is None else format(v, spec)


def render(summary: dict, workers: list[int], args, skipped: dict, info: dict) -> str:
    ideal = 1000.0 / args.sleep_ms
    lines = [
        f"Throughput with an objective that sleeps {args.sleep_ms:g} ms (at most N x {ideal:g} "
        f"trials/s), steady state over {args.seconds:g} s after a {args.warmup:g} s warm-up, "
        f"median of {args.repeats}; efficiency = trials/s(N) / (N x trials/s(1)) of the same "
        f"library; goal: hyperknob efficiency >= {GOAL_EFFICIENCY} and ahead of optuna.",
    ]
    names = {"sqlite": "SQLite (a file)", "postgres": "PostgreSQL (loopback server)"}
    for storage in summary:
        lines += ["", f"**{names.get(storage, storage)}**", ""]
        lines.append("| workers | hyperknob trials/s | efficiency | optuna trials/s | efficiency "
                     "| hyperknob / optuna | hyperknob ms/trial around the sleep | optuna ms/trial around the sleep |")
        lines.append("|--:|--:|--:|--:|--:|--:|--:|--:|")
        s_st = summary[storage]
        for n in workers:
            hk = s_st.get("hyperknob", {}).get(n, {})
            op = s_st.get("optuna", {}).get(n, {})
            ratio = s_st.get("ratio", {}).get(n)

            def cell(s):
                if "trials_per_s" not in s:
                    return ("error" if s.get("error") else "–"), "–"
                return f"{s['trials_per_s']:.1f}", _f(s.get("efficiency"), ".2f")

            def around(s):
                c = s.get("cycle_ms")
                return "–" if not c else f"{c - args.sleep_ms:.1f}"

            lines.append(f"| {n} | {' | '.join(cell(hk))} | {' | '.join(cell(op))} | "
                         f"{_f(ratio, '.2f') + ('x' if ratio else '')} | {around(hk)} | {around(op)} |")
    for storage, reason in skipped.items():
        lines += ["", f"{names.get(storage, storage)}: skipped ({reason})."]
    lines.append("")
    lines.append("\"ms/trial around the sleep\": N x window / trials - sleep, the time a worker "
                 "spends per trial outside the objective (claiming, writing, waiting for locks).")
    pk = info["packages"]
    lines.append("")
    lines.append(
        f"Machine: {info['cpu_model'] or 'unknown CPU'}, {info['cpu_count']} CPUs, "
        f"{info['platform']}, {info['python_impl']} {info['python']}; other processes kept "
        f"{info['other_cores_median']:.2f} cores busy (median over the measurements, the "
        f"PostgreSQL server included). Versions: "
        + ", ".join(f"{k} {v}" for k, v in pk.items() if v) + ".")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", default="1,2,4,8", help="worker counts (default 1,2,4,8)")
    p.add_argument("--storages", default="sqlite,postgres", help="sqlite,postgres (default both)")
    p.add_argument("--libraries", default="hyperknob,optuna", help=argparse.SUPPRESS)
    p.add_argument("--seconds", type=float, default=6.0, help="measured window per run (default 6)")
    p.add_argument("--warmup", type=float, default=2.0,
                   help="seconds after the workers start before the window opens (default 2)")
    p.add_argument("--repeats", type=int, default=3, help="runs per point; medians (default 3)")
    p.add_argument("--sleep-ms", type=float, default=50.0, help="the objective's sleep (default 50)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per measurement process")
    p.add_argument("--json", type=Path, default=RESULTS, help="where to write the JSON results")
    p.add_argument("--_child", help=argparse.SUPPRESS)
    p.add_argument("--_url", help=argparse.SUPPRESS)
    p.add_argument("--_n", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args._child:
        child_main(args._child, args._url, args._n, args.seconds, args.warmup, args.sleep_ms)
        return 0

    if not in_venv():
        ensure_env()
        os.environ.update(CHILD_ENV)
        os.execv(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve()), *sys.argv[1:]])
    os.environ.update(CHILD_ENV)

    workers = sorted({int(w) for w in args.workers.split(",") if w.strip()})
    if 1 not in workers:
        workers.insert(0, 1)  # efficiencies need one worker's throughput
    storages = [s.strip() for s in args.storages.split(",") if s.strip()]
    libs = [s.strip() for s in args.libraries.split(",") if s.strip()]
    bad = [s for s in storages if s not in STORAGES] + [s for s in libs if s not in LIBRARIES]
    if bad:
        p.error(f"unknown storage or library: {', '.join(bad)}")

    info = machine_info(PACKAGES, CHILD_ENV)
    t_start = time.time()
    server, pg_admin, skipped = None, None, {}
    if "postgres" in storages:
        server, pg_admin = start_postgres()
        if server is None:
            skipped["postgres"] = pg_admin
            _log(f"PostgreSQL skipped: {pg_admin}")
            storages.remove("postgres")
    raw: dict = {s: {lib: {n: [] for n in workers} for lib in libs} for s in storages}
    try:
        for rep in range(args.repeats):
            for storage in storages:
                for n in workers:
                    order = libs if rep % 2 == 0 else libs[::-1]
                    for lib in order:
                        r = measure(lib, storage, n, args, pg_admin, f"{rep}")
                        raw[storage][lib][n].append(r)
                        msg = r.get("error") or (
                            f"{r['trials_per_s']:.1f} trials/s (all started at "
                            f"{_f(r['all_started_after_s'], '.2f')} s), other load "
                            f"{r['other_cores']:.2f} cores")
                        _log(f"repeat {rep + 1}/{args.repeats} {storage} {n} workers {lib}: {msg}")
    finally:
        if server is not None:
            server.stop()

    summary = summarise(raw, workers)
    others = [r["other_cores"] for s in raw.values() for by_lib in s.values() for runs in by_lib.values()
              for r in runs if "other_cores" in r]
    info["other_cores_median"] = statistics.median(others) if others else 0.0
    table = render(summary, workers, args, skipped, info)
    print(table)
    errors = [(st, lib, n, s) for st, per in summary.items() for lib, per_n in per.items()
              if lib != "ratio" for n, s in per_n.items() if "error" in s]
    for st, lib, n, s in errors:
        print(f"\n### {st} {lib} {n} workers failed ({s['error']})\n```\n{s.get('traceback') or ''}\n```")
    write_json(args.json, {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t_start)),
        "duration_s": time.time() - t_start,
        "command": "python3 benchmarks/workers.py " + " ".join(sys.argv[1:]),
        "args": {"workers": workers, "storages": storages, "seconds": args.seconds,
                 "warmup": args.warmup, "repeats": args.repeats, "sleep_ms": args.sleep_ms},
        "goal_efficiency": GOAL_EFFICIENCY,
        "skipped": skipped,
        "machine": info,
        "summary": summary,
        "raw": raw,
        "markdown": table,
    }, TAG, indent=2, default=str, end="\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
