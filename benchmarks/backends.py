#!/usr/bin/env python3
"""Which Keras 3 backend trains the KerasTuner "hello world" model fastest on this CPU?

    python3 benchmarks/backends.py [--repeats 3] [--backends torch,jax,tensorflow]
                                   [--threads 1,2] [--loads idle,busy] [--venv-root /tmp/backends]

Run it with any Python 3.10+. Each backend gets its own venv under ``--venv-root``
(``/tmp/backends/<name>``: keras + scikit-learn + the backend; torch is pinned to a CPU
``torch==2.13.0``), created when missing. Every measurement runs in a fresh subprocess of that
venv, so ``import keras`` is measured cold-ish (page cache warm) and nothing leaks between cases.

The model is the KerasTuner hello world: Input(64) -> Dense(units, relu) -> Dropout(0.2) ->
Dense(10, softmax), Adam, sparse_categorical_crossentropy, accuracy, trained on scikit-learn's
load_digits (1797x64, /16, 80/20 split), batch_size 32, 5 epochs, for units in {32, 256, 512}.

Measured per case (backend x intra-op threads x machine load):
  * ``import keras`` (which imports the backend),
  * first epoch (includes tracing/compilation), steady epoch (median of epochs 2..5),
  * ``model.evaluate`` on the validation split: first call (includes its own tracing) and a
    second, warm call,
  * process CPU time / wall time during fit (shows whether the thread setting took effect),
  * peak RSS of the child,
  * "other procs cores": CPU used by everything else on the machine during the case (from
    /proc/stat, minus the child and the burner), because the machine is shared.

Thread settings: OMP/MKL/OPENBLAS_NUM_THREADS=N always; torch.set_num_threads(N) and
set_num_interop_threads(N); tf.config.threading intra/inter op = N; for jax,
XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" for N=1 and
"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=N" otherwise.
"busy" runs the case while a ``python -c 'while True: pass'`` burns one core (killed afterwards).

Before each case the script waits (``--wait-idle``, default 60 s) until other processes use
less than 0.35 cores, then runs the case anyway. Cases run round-robin (every case once per repeat) so that drift on a shared machine hits every
case alike; tables show the median over repeats. Prints Markdown tables and writes
benchmarks/results/backends.json.
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
import time
from pathlib import Path

from _common import (
    HERE,
    TORCH,
    background_cores,
    child_env,
    children_cpu_s,
    cpu_model,
    ensure_venv,
    log,
    machine_busy_s,
    marked_result,
    median_of,
    set_threads,
    wait_for_quiet,
    write_json,
)

TAG = "backends"
RESULTS = HERE / "results" / "backends.json"
MARK = "@@BACKENDS-RESULT@@"
UNITS = (32, 256, 512)
EPOCHS = 5
BATCH = 32

REQUIREMENTS = {
    "torch": [TORCH, "keras", "scikit-learn"],
    "jax": ["jax", "jaxlib", "keras", "scikit-learn"],
    "tensorflow": ["tensorflow-cpu", "keras", "scikit-learn"],
}
VERSION_OF = {"torch": "torch", "jax": "jax", "tensorflow": "tensorflow"}

_log = functools.partial(log, TAG)


# --------------------------------------------------------------------------- environments

def backend_venv(root: Path, backend: str) -> Path:
    """The backend's venv, ``root/backend``: created when missing; returns its python."""
    return ensure_venv(root / backend, REQUIREMENTS[backend], ".backends-installed", TAG,
                       pin_first=TORCH if backend == "torch" else None,  # torch first, pinned
                       what=f" for {backend}")


# --------------------------------------------------------------------------- child

def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def child_main(backend: str, threads: int) -> None:
    import resource

    t0 = time.perf_counter()
    import keras  # imports the backend too

    import_s = time.perf_counter() - t0
    versions = set_threads(backend, threads)
    if backend == "jax":
        import jax

        versions["jax_devices"] = [str(d) for d in jax.devices()]
    versions["keras"] = keras.__version__
    import numpy as np
    import sklearn
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    versions["numpy"] = np.__version__
    versions["scikit-learn"] = sklearn.__version__
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    y = y.astype("int32")
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.2, random_state=0)

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._t)

    per_units = {}
    for units in UNITS:
        keras.utils.set_random_seed(0)
        t_build = time.perf_counter()
        model = keras.Sequential([
            keras.Input(shape=(64,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        build_s = time.perf_counter() - t_build
        timer = EpochTimer()
        c0, w0 = _cpu_s(), time.perf_counter()
        model.fit(x_tr, y_tr, batch_size=BATCH, epochs=EPOCHS, verbose=0, callbacks=[timer])
        fit_s = time.perf_counter() - w0
        fit_cpu = _cpu_s() - c0
        t_ev = time.perf_counter()
        _, acc = model.evaluate(x_va, y_va, batch_size=BATCH, verbose=0)
        eval_s = time.perf_counter() - t_ev
        t_ev = time.perf_counter()
        model.evaluate(x_va, y_va, batch_size=BATCH, verbose=0)
        eval2_s = time.perf_counter() - t_ev
        per_units[str(units)] = {
            "build_s": build_s,
            "fit_s": fit_s,
            "fit_cpu_per_wall": fit_cpu / fit_s if fit_s > 0 else None,
            "first_epoch_s": timer.times[0],
            "steady_epoch_s": statistics.median(timer.times[1:]),
            "epoch_s": timer.times,
            "evaluate_s": eval_s,
            "evaluate_warm_s": eval2_s,
            "val_accuracy": float(acc),
        }
    ru = resource.getrusage(resource.RUSAGE_SELF)
    rss_kb = ru.ru_maxrss
    out = {"child_cpu_s": ru.ru_utime + ru.ru_stime, "import_s": import_s, "units": per_units, "peak_rss_mb": rss_kb / 1024.0,
           "versions": versions}
    print(MARK + json.dumps(out), flush=True)


# --------------------------------------------------------------------------- parent

def _pid_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_case(py: Path, backend: str, threads: int, load: str, timeout: float,
             wait_idle_s: float = 0.0) -> dict:
    bg_before = wait_for_quiet(wait_idle_s) if wait_idle_s > 0 else background_cores(0.5)
    burner = None
    if load == "busy":
        burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)  # let it get going
    load_before = os.getloadavg()[0]
    burner_cpu = 0.0
    try:
        if burner is not None:
            burner_cpu = -_pid_cpu_s(burner.pid)
        cpu0 = children_cpu_s()
        busy0 = machine_busy_s()
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(py), str(Path(__file__).resolve()), "--child", backend, "--threads", str(threads)],
            env=child_env(backend, threads), capture_output=True, text=True, timeout=timeout,
            cwd="/tmp")
        wall = time.perf_counter() - t0
        busy = machine_busy_s() - busy0
        child_cpu = children_cpu_s() - cpu0  # the burner is not reaped yet
        if burner is not None:
            burner_cpu += _pid_cpu_s(burner.pid)
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()
    res = marked_result(proc.stdout, MARK)
    if res is not None:
        res["process_wall_s"] = wall
        res["loadavg_1m_before"] = load_before
        res["background_cores_before"] = bg_before
        # Cores used by everything except this case's child and our burner, during the case.
        res["background_cores"] = max(0.0, (busy - child_cpu - burner_cpu) / wall)
        res["child_process_cpu_s"] = child_cpu
        res["burner_cores"] = burner_cpu / wall
        return res
    sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
    raise RuntimeError(f"case {backend}/{threads}t/{load} failed (exit {proc.returncode})")


def summarise(runs: list[dict]) -> dict:
    """Median over repeats of every scalar we report."""
    med = statistics.median
    out = {k: median_of(runs, k) for k in ("import_s", "peak_rss_mb", "process_wall_s",
                                            "background_cores", "burner_cores")}
    out["units"] = {}
    for u in map(str, UNITS):
        keys = ("fit_s", "first_epoch_s", "steady_epoch_s", "evaluate_s", "evaluate_warm_s",
                "fit_cpu_per_wall", "val_accuracy")
        per_run = [r["units"][u] for r in runs]
        out["units"][u] = {k: median_of(per_run, k) for k in keys}
    # One "trial-like" figure: fit + evaluate summed over the three model sizes.
    out["train_eval_total_s"] = med(
        sum(r["units"][u]["fit_s"] + r["units"][u]["evaluate_s"] for u in map(str, UNITS))
        for r in runs)
    out["steady_epoch_sum_s"] = med(
        sum(r["units"][u]["steady_epoch_s"] for u in map(str, UNITS)) for r in runs)
    return out


def fmt3(vals, scale=1.0, digits=2) -> str:
    return " / ".join(f"{v * scale:.{digits}f}" for v in vals)


def markdown(summary: dict, order: list[tuple]) -> str:
    lines = []
    lines.append("Per case, median over repeats; `a / b / c` = units 32 / 256 / 512.")
    lines.append("")
    lines.append("| backend | threads | load | import keras s | first epoch s | steady epoch ms "
                 "| evaluate ms | warm evaluate ms | fit+eval total s | CPU/wall in fit | peak RSS MB | other procs cores |")
    lines.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key in order:
        s = summary.get(key)
        if s is None:
            continue
        b, t, load = key
        us = [s["units"][str(u)] for u in UNITS]
        lines.append(
            f"| {b} | {t} | {load} | {s['import_s']:.2f} "
            f"| {fmt3([x['first_epoch_s'] for x in us])} "
            f"| {fmt3([x['steady_epoch_s'] for x in us], 1000, 0)} "
            f"| {fmt3([x['evaluate_s'] for x in us], 1000, 0)} "
            f"| {fmt3([x['evaluate_warm_s'] for x in us], 1000, 0)} "
            f"| {s['train_eval_total_s']:.2f} "
            f"| {fmt3([x['fit_cpu_per_wall'] for x in us], 1, 2)} "
            f"| {s['peak_rss_mb']:.0f} | {s['background_cores']:.2f} |")
    # Ratios: per load, each case's fit+eval total and steady-epoch sum vs the fastest case.
    lines.append("")
    lines.append("Ratios to the fastest case under the same load (1.00 = fastest; "
                 "\"steady\" = sum of the three steady-epoch medians; \"total\" = fit+eval "
                 "total; \"+import\" adds import keras).")
    lines.append("")
    lines.append("| backend | threads | load | steady x | total x | total+import x |")
    lines.append("|---|---:|---|---:|---:|---:|")
    loads = sorted({k[2] for k in order}, key=lambda load: (load != "idle", load))
    for load in loads:
        keys = [k for k in order if k[2] == load and k in summary]
        if not keys:
            continue
        best_steady = min(summary[k]["steady_epoch_sum_s"] for k in keys)
        best_total = min(summary[k]["train_eval_total_s"] for k in keys)
        best_imp = min(summary[k]["train_eval_total_s"] + summary[k]["import_s"] for k in keys)
        for k in keys:
            s = summary[k]
            lines.append(f"| {k[0]} | {k[1]} | {load} "
                         f"| {s['steady_epoch_sum_s'] / best_steady:.2f} "
                         f"| {s['train_eval_total_s'] / best_total:.2f} "
                         f"| {(s['train_eval_total_s'] + s['import_s']) / best_imp:.2f} |")
    return "\n".join(lines)


def recommend(summary: dict) -> str:
    """Best (backend, threads) by geometric mean of fit+eval total over the loads measured."""
    import math

    combos = sorted({(k[0], k[1]) for k in summary})
    loads = sorted({k[2] for k in summary})
    scores = {}
    for c in combos:
        vals = [summary[(c[0], c[1], load)]["train_eval_total_s"] for load in loads
                if (c[0], c[1], load) in summary]
        if len(vals) == len(loads):
            scores[c] = math.exp(sum(map(math.log, vals)) / len(vals))
    if not scores:
        return "no complete case"
    ranked = sorted(scores.items(), key=lambda kv: kv[1])
    best, best_v = ranked[0]
    parts = [f"{b} {t}t: {v:.2f}s ({v / best_v:.2f}x)" for (b, t), v in ranked]
    return (f"Fastest overall (geometric mean of fit+eval total over loads {', '.join(loads)}): "
            f"**{best[0]} with {best[1]} thread(s)**. Ranking: " + "; ".join(parts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--child", choices=sorted(REQUIREMENTS), help=argparse.SUPPRESS)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--backends", default="torch,jax,tensorflow")
    ap.add_argument("--loads", default="idle,busy")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--venv-root", default="/tmp/backends")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--wait-idle", type=float, default=60,
                    help="before each case wait up to this many seconds for other processes to "
                         "use < 0.35 cores (0: don't wait)")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()
    if args.child:
        child_main(args.child, int(args.threads))
        return

    backends = [b for b in args.backends.split(",") if b]
    threads = [int(t) for t in args.threads.split(",") if t]
    loads = [x for x in args.loads.split(",") if x]
    root = Path(args.venv_root)
    pys = {b: backend_venv(root, b) for b in backends}

    order = [(b, t, load) for load in loads for b in backends for t in threads]
    runs: dict[tuple, list] = {k: [] for k in order}
    for rep in range(args.repeats):
        for key in order:
            b, t, load = key
            _log(f"repeat {rep + 1}/{args.repeats}: {b} threads={t} load={load}")
            try:
                runs[key].append(run_case(pys[b], b, t, load, args.timeout, args.wait_idle))
            except Exception as exc:  # keep going; the table shows what ran
                _log(f"  FAILED: {exc}")
    summary = {k: summarise(v) for k, v in runs.items() if v}
    table = markdown(summary, order)
    rec = recommend(summary)
    print(table)
    print()
    print(rec)

    versions = {}
    for k, v in runs.items():
        if v:
            versions[k[0]] = v[0]["versions"]
    cpu = cpu_model() or ""
    payload = {
        "meta": {"python": platform.python_version(), "cpu": cpu, "nproc": os.cpu_count(),
                 "repeats": args.repeats, "units": UNITS, "epochs": EPOCHS, "batch_size": BATCH,
                 "versions": versions, "date": time.strftime("%Y-%m-%d %H:%M:%S")},
        "summary": [{"backend": k[0], "threads": k[1], "load": k[2], **summary[k]}
                    for k in order if k in summary],
        "runs": [{"backend": k[0], "threads": k[1], "load": k[2], "runs": v}
                 for k, v in runs.items()],
        "markdown": table,
        "recommendation": rec,
    }
    write_json(Path(args.out), payload, TAG)


if __name__ == "__main__":
    main()
