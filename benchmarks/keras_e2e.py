#!/usr/bin/env python3
"""End to end: the KerasTuner hello-world search under keras-tuner and under hyperknob.

    python3 benchmarks/keras_e2e.py [--repeats 3] [--backend torch|jax|tensorflow]
                                    [--only keras_tuner,hyperknob] [--threads 1]

Run it with any Python 3.10+: it creates ``benchmarks/.venv-keras`` when missing (keras-tuner
1.4.8, six, keras, scikit-learn, torch==2.13.0 and an editable install of this repository; jax or
tensorflow-cpu are added when ``--backend`` asks for them) and runs every search in a fresh
subprocess of that venv, one library after the other per repeat (round-robin), so both see the
same drift of a shared machine. The table shows the median over repeats.

The search is the same script for both libraries, only ``kt`` differs:

    kt.RandomSearch(build_model, objective="val_accuracy", max_trials=10, seed=1,
                    directory=<fresh tmp dir>, overwrite=True)
    tuner.search(x_train, y_train, epochs=5, validation_data=(x_val, y_val),
                 callbacks=[keras.callbacks.EarlyStopping(patience=2)], verbose=0)

build_model declares units = hp.Int(16..512 step 16), dropout = hp.Float(0..0.5 step 0.1) and
learning_rate = hp.Float(1e-4..1e-2, log) for Input(64) -> Dense(units, relu) ->
Dropout(dropout) -> Dense(10, softmax), Adam(learning_rate), sparse_categorical_crossentropy,
accuracy; data: scikit-learn's load_digits (1797x64, /16, 80/20 split, random_state=0).

Measured in the child (one intra-op thread by default: OMP/MKL/OPENBLAS_NUM_THREADS and the
backend's own setting):
  * wall time of ``tuner.search()``,
  * time inside ``keras.Model.fit`` (a shim installed on keras.Model before the tuner is built
    accumulates perf_counter around each call; nested calls count once),
  * of which time inside the tuner's own Keras callbacks (callbacks passed to fit whose class
    comes from keras_tuner or hyperknob, timed by wrapping their ``on_*`` hooks),
  * outside-fit share = (search wall - fit) / search wall: the tuner's own work between fits
    (building and compiling models, bookkeeping, storage) plus what it does around fit,
  * import time of the library, tuner construction time, trials completed, best val_accuracy,
    and the child's peak RSS,
  * "other procs cores": CPU used by everything else on the machine while the child ran (from
    /proc/stat minus the child's rusage); before each run the script waits (``--wait-idle``,
    default 30 s) for other processes to use < 0.35 cores, then runs anyway.

Prints a Markdown table and writes benchmarks/results/keras_e2e.json.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import platform
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
    TORCH,
    child_env,
    children_cpu_s,
    ensure_venv,
    log,
    machine_busy_s,
    marked_result,
    median_of,
    pip_install,
    set_threads,
    wait_for_quiet,
    write_json,
)

TAG = "keras_e2e"
VENV = HERE / ".venv-keras"
VENV_PY = VENV / "bin" / "python"
RESULTS = HERE / "results" / "keras_e2e.json"
REQUIREMENTS = ["keras-tuner==1.4.8", "six", "keras", "scikit-learn", TORCH]
EXTRA_FOR_BACKEND = {"torch": [], "jax": ["jax", "jaxlib"], "tensorflow": ["tensorflow-cpu"]}
STAMP_NAME = ".keras-e2e-installed"
MARK = "@@KERAS-E2E-RESULT@@"
LIBS = {"keras_tuner": "keras-tuner 1.4.8", "hyperknob": "hyperknob"}

_log = functools.partial(log, TAG)


# --------------------------------------------------------------------------- environment

def ensure_env(backend: str) -> None:
    """Create benchmarks/.venv-keras when missing; (re)install when the stamp is stale."""
    ensure_venv(VENV, REQUIREMENTS, STAMP_NAME, TAG, pin_first=TORCH, this_repo=True,
                shown=VENV.relative_to(ROOT))
    extra = EXTRA_FOR_BACKEND[backend]
    if extra:
        mod = "jax" if backend == "jax" else "tensorflow"
        probe = subprocess.run([str(VENV_PY), "-c", f"import {mod}"], capture_output=True)
        if probe.returncode != 0:
            pip_install(VENV_PY, *extra, TORCH, tag=TAG, cwd=ROOT)  # keep torch where it is


# --------------------------------------------------------------------------- child

class FitShim:
    """Wraps keras.Model.fit; accumulates time inside fit and inside the tuner's callbacks."""

    TUNER_MODULES = ("keras_tuner", "hyperknob")

    def __init__(self, keras):
        self.fit_s = 0.0
        self.calls = 0
        self.callback_s = 0.0
        self.callback_classes: set[str] = set()
        self._depth = 0
        self._orig = keras.Model.fit
        shim = self

        def fit(model, *args, **kwargs):
            shim._depth += 1
            t0 = time.perf_counter()
            try:
                if shim._depth == 1:
                    shim._wrap_callbacks(kwargs.get("callbacks"))
                return shim._orig(model, *args, **kwargs)
            finally:
                shim._depth -= 1
                if shim._depth == 0:
                    shim.fit_s += time.perf_counter() - t0
                    shim.calls += 1

        keras.Model.fit = fit

    def _wrap_callbacks(self, callbacks) -> None:
        if not callbacks:
            return
        try:
            items = list(callbacks)
        except TypeError:
            return
        for cb in items:
            cls = type(cb)
            if not cls.__module__.startswith(self.TUNER_MODULES):
                continue
            if getattr(cb, "_keras_e2e_wrapped", False):
                continue
            self.callback_classes.add(f"{cls.__module__}.{cls.__qualname__}")
            for name in dir(cls):
                if not name.startswith("on_"):
                    continue
                meth = getattr(cb, name, None)
                if callable(meth):
                    setattr(cb, name, self._timed(meth))
            try:
                cb._keras_e2e_wrapped = True
            except Exception:
                pass

    def _timed(self, meth):
        shim = self

        def hook(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return meth(*args, **kwargs)
            finally:
                shim.callback_s += time.perf_counter() - t0

        return hook


def _best_score(tuner):
    try:
        best = tuner.oracle.get_best_trials(1)
        if best:
            return float(best[0].score)
    except Exception:
        pass
    return None


def _n_trials(tuner):
    try:
        trials = tuner.oracle.trials
        trials = trials() if callable(trials) else trials
        return len(trials)
    except Exception:
        return None


def child_main(lib: str, backend: str, threads: int, max_trials: int, epochs: int,
               profile_dir: str | None = None) -> None:
    import resource

    t0 = time.perf_counter()
    import keras

    keras_import_s = time.perf_counter() - t0
    versions = set_threads(backend, threads)
    versions["keras"] = keras.__version__
    shim = FitShim(keras)  # before the tuner library is imported and the tuner is built

    t0 = time.perf_counter()
    if lib == "keras_tuner":
        import keras_tuner as kt
    else:
        import hyperknob as kt
    lib_import_s = time.perf_counter() - t0
    versions[lib] = getattr(kt, "__version__", "?")

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    y = y.astype("int32")
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.2, random_state=0)

    def build_model(hp):
        units = hp.Int("units", 16, 512, step=16)
        dropout = hp.Float("dropout", 0.0, 0.5, step=0.1)
        lr = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
        model = keras.Sequential([
            keras.Input(shape=(64,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tmp = tempfile.mkdtemp(prefix=f"keras_e2e_{lib}_")
    try:
        t0 = time.perf_counter()
        tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=max_trials,
                                seed=1, directory=tmp, overwrite=True)
        construct_s = time.perf_counter() - t0
        prof = None
        if profile_dir:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        t0 = time.perf_counter()
        tuner.search(x_train, y_train, epochs=epochs, validation_data=(x_val, y_val),
                     callbacks=[keras.callbacks.EarlyStopping(patience=2)], verbose=0)
        search_s = time.perf_counter() - t0
        if prof is not None:
            import io
            import pstats

            prof.disable()
            Path(profile_dir).mkdir(parents=True, exist_ok=True)
            prof.dump_stats(str(Path(profile_dir) / f"{lib}.prof"))
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(60)
            (Path(profile_dir) / f"{lib}.txt").write_text(buf.getvalue())
        out = {
            "keras_import_s": keras_import_s,
            "lib_import_s": lib_import_s,
            "construct_s": construct_s,
            "search_s": search_s,
            "fit_s": shim.fit_s,
            "fit_calls": shim.calls,
            "tuner_callback_s": shim.callback_s,
            "tuner_callback_classes": sorted(shim.callback_classes),
            "n_trials": _n_trials(tuner),
            "best_val_accuracy": _best_score(tuner),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "versions": versions,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(MARK + json.dumps(out), flush=True)


# --------------------------------------------------------------------------- parent

def run_case(lib: str, args) -> dict:
    bg_before = wait_for_quiet(args.wait_idle) if args.wait_idle > 0 else None
    cmd = [str(VENV_PY), str(Path(__file__).resolve()), "--child", lib, "--backend", args.backend,
           "--threads", str(args.threads), "--max-trials", str(args.max_trials),
           "--epochs", str(args.epochs)]
    if args.profile:
        cmd += ["--profile", str(Path(args.profile).resolve())]
    cpu0 = children_cpu_s()
    busy0 = machine_busy_s()
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=child_env(args.backend, args.threads, PYTHONUNBUFFERED="1"),
                              cwd="/tmp", capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired as exc:
        return {"error": f"timed out after {args.timeout}s",
                "stderr_tail": (exc.stderr or b"")[-6000:].decode("utf-8", "replace")
                if isinstance(exc.stderr, bytes) else str(exc.stderr or "")[-6000:]}
    wall = time.perf_counter() - t0
    busy = machine_busy_s() - busy0
    child_cpu = children_cpu_s() - cpu0
    res = marked_result(proc.stdout, MARK)
    if res is not None:
        res["process_wall_s"] = wall
        res["child_process_cpu_s"] = child_cpu
        res["background_cores_before"] = bg_before
        # Cores used by everything but this child while it ran (the machine is shared).
        res["background_cores"] = max(0.0, (busy - child_cpu) / wall)
        return res
    return {"error": f"exit {proc.returncode}", "stderr_tail": proc.stderr[-8000:],
            "stdout_tail": proc.stdout[-2000:]}


def summarise(runs: list[dict]) -> dict | None:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return None
    med = statistics.median
    keys = ("keras_import_s", "lib_import_s", "construct_s", "search_s", "fit_s",
            "tuner_callback_s", "peak_rss_mb", "process_wall_s", "background_cores")
    s = {k: median_of(ok, k) for k in keys}
    s["outside_fit_s"] = med(r["search_s"] - r["fit_s"] for r in ok)
    s["outside_fit_pct"] = med(100.0 * (r["search_s"] - r["fit_s"]) / r["search_s"] for r in ok)
    s["tuner_share_pct"] = med(
        100.0 * (r["search_s"] - r["fit_s"] + r["tuner_callback_s"]) / r["search_s"] for r in ok)
    s["n_trials"] = [r["n_trials"] for r in ok]
    s["fit_calls"] = [r["fit_calls"] for r in ok]
    s["best_val_accuracy"] = [r["best_val_accuracy"] for r in ok]
    s["ok_runs"] = len(ok)
    s["failed_runs"] = len(runs) - len(ok)
    return s


def markdown(summary: dict, runs: dict, args) -> str:
    lines = [
        f"Backend {args.backend}, {args.threads} intra-op thread(s), max_trials={args.max_trials}, "
        f"epochs={args.epochs}; median over {args.repeats} repeat(s), each in a fresh process.",
        "",
        "| library | search wall s | in fit s | outside fit s | outside-fit share | "
        "tuner callbacks in fit s | tuner share (outside + callbacks) | import lib s | "
        "construct s | trials / fit calls | best val_acc | peak RSS MB | other procs cores |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lib, label in LIBS.items():
        if lib not in runs:
            continue
        s = summary.get(lib)
        if s is None:
            err = runs[lib][0].get("error", "?") if runs[lib] else "not run"
            lines.append(f"| {label} | FAILED ({err}) |" + " |" * 12)
            continue
        trials = "/".join(str(t) for t in sorted(set(s["n_trials"]), key=str))
        calls = "/".join(str(t) for t in sorted(set(s["fit_calls"]), key=str))
        accs = [a for a in s["best_val_accuracy"] if a is not None]
        acc = f"{statistics.median(accs):.3f}" if accs else "?"
        fail = f" ({s['failed_runs']} failed)" if s["failed_runs"] else ""
        lines.append(
            f"| {label}{fail} | {s['search_s']:.2f} | {s['fit_s']:.2f} | {s['outside_fit_s']:.2f} "
            f"| {s['outside_fit_pct']:.1f}% | {s['tuner_callback_s']:.3f} "
            f"| {s['tuner_share_pct']:.1f}% | {s['lib_import_s']:.2f} | {s['construct_s']:.3f} "
            f"| {trials} / {calls} | {acc} | {s['peak_rss_mb']:.0f} "
            f"| {s['background_cores']:.2f} |")
    a, b = summary.get("keras_tuner"), summary.get("hyperknob")
    if a and b:
        lines.append("")
        lines.append(
            f"hyperknob / keras-tuner: search wall {b['search_s'] / a['search_s']:.2f}x, "
            f"in fit {b['fit_s'] / a['fit_s']:.2f}x, outside fit "
            f"{b['outside_fit_s'] / a['outside_fit_s']:.2f}x, peak RSS "
            f"{b['peak_rss_mb'] / a['peak_rss_mb']:.2f}x.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--child", choices=sorted(LIBS), help=argparse.SUPPRESS)
    ap.add_argument("--backend", choices=sorted(EXTRA_FOR_BACKEND), default="torch")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--max-trials", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--only", default=",".join(LIBS),
                    help="comma-separated subset of: " + ", ".join(LIBS))
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--wait-idle", type=float, default=30,
                    help="before each run wait up to this many seconds for other processes to "
                         "use < 0.35 cores (0: don't wait)")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--profile", metavar="DIR",
                    help="cProfile each search() (times are inflated); write DIR/<library>.prof "
                         "and a cumulative-time listing DIR/<library>.txt")
    args = ap.parse_args()
    if args.child:
        child_main(args.child, args.backend, args.threads, args.max_trials, args.epochs,
                   args.profile)
        return

    libs = [x for x in args.only.split(",") if x]
    for lib in libs:
        if lib not in LIBS:
            ap.error(f"unknown library {lib!r}; choose from {', '.join(LIBS)}")
    ensure_env(args.backend)
    runs: dict[str, list] = {lib: [] for lib in libs}
    for rep in range(args.repeats):
        for lib in libs:
            _log(f"repeat {rep + 1}/{args.repeats}: {lib} (backend {args.backend})")
            res = run_case(lib, args)
            if "error" in res:
                _log(f"  {lib} FAILED ({res['error']}):\n{res.get('stderr_tail', '')}")
            else:
                _log(f"  search {res['search_s']:.2f}s, fit {res['fit_s']:.2f}s, "
                     f"{res['n_trials']} trials")
            runs[lib].append(res)
    summary = {lib: summarise(v) for lib, v in runs.items()}
    table = markdown(summary, runs, args)
    print(table)
    payload = {
        "meta": {"python": platform.python_version(), "nproc": os.cpu_count(),
                 "backend": args.backend, "threads": args.threads, "repeats": args.repeats,
                 "max_trials": args.max_trials, "epochs": args.epochs,
                 "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                 "versions": {lib: v[0].get("versions") for lib, v in runs.items()
                              if v and "versions" in v[0]}},
        "summary": summary,
        "runs": runs,
        "markdown": table,
    }
    write_json(Path(args.out), payload, TAG)
    if any(s is None for s in summary.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
