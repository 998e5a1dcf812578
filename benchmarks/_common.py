"""Helpers shared by the benchmark scripts in this folder (overhead.py, keras_e2e.py, backends.py).

Logging, venvs kept up to date by a requirements stamp, the environment and thread settings of
the child processes, sampling how busy the machine is, medians and reading a child's result line.

The scripts import it as ``_common``: Python puts a script's own folder first on ``sys.path``, both
for ``python3 benchmarks/X.py`` and when a script re-runs itself or its children inside a venv (it
always passes its own absolute path). Only the standard library is imported here, so importing it
costs a child process nothing measurable.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# torch is pinned exactly: a CPU build lies on these machines; an unpinned torch pulls CUDA.
TORCH = "torch==2.13.0"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def log(tag: str, msg: str) -> None:
    """Prints ``[tag] msg`` to stderr (scripts bind their tag: ``functools.partial(log, TAG)``)."""
    print(f"[{tag}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- environments

def pip_install(py: Path, *args: str, tag: str, cwd: Path | None = None, what: str = "") -> None:
    """``py -m pip install --quiet ARGS``; on failure prints pip's output tail and exits."""
    cmd = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args]
    log(tag, "$ " + " ".join(cmd[2:]))
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        sys.exit(f"[{tag}] pip failed{what} (exit {proc.returncode})")


def ensure_venv(venv: Path, requirements: list[str], stamp_name: str, tag: str, *,
                pin_first: str | None = None, this_repo: bool = False,
                shown: str | Path | None = None, what: str = "") -> Path:
    """Creates ``venv`` when missing and (re)installs when its stamp is stale; returns its python.

    The stamp, ``venv/stamp_name``, holds the requirement lines installed last; the venv is stale
    when the stamp is missing or says something else. ``pin_first`` is installed alone before the
    requirements, so that the resolver never looks for another version of it (torch).
    ``this_repo`` also installs this repository editable (``-e .``, pip running in ROOT), counts
    it in the stamp, treats the venv as stale when pyproject.toml is newer than the stamp and logs
    the (re)install. ``shown`` is how log lines name the venv (default: ``venv``); ``what`` is
    added to the pip failure message.
    """
    py = venv / "bin" / "python"
    stamp = venv / stamp_name
    shown = venv if shown is None else shown
    if not py.exists():
        log(tag, f"creating {shown}")
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    want = "\n".join([*requirements, "-e ."] if this_repo else requirements)
    stale = (
        not stamp.exists()
        or stamp.read_text() != want
        or (this_repo and (ROOT / "pyproject.toml").stat().st_mtime > stamp.stat().st_mtime)
    )
    if stale:
        if this_repo:
            log(tag, f"installing benchmark requirements into {shown}")
        steps = [[pin_first]] if pin_first else []
        steps.append(list(requirements))
        if this_repo:
            steps.append(["-e", "."])  # this repository, relative to its root (cwd=ROOT)
        for step in steps:
            pip_install(py, *step, tag=tag, cwd=ROOT if this_repo else None, what=what)
        stamp.write_text(want)
    return py


# --------------------------------------------------------------------------- child processes

def thread_vars(threads: int) -> dict:
    """OMP/MKL/OPENBLAS_NUM_THREADS set to ``threads``."""
    return {name: str(threads) for name in THREAD_VARS}


def child_env(backend: str, threads: int, **extra: str) -> dict:
    """os.environ for a child on Keras ``backend`` with ``threads`` intra-op threads, CPU only.

    For jax the thread count goes into XLA_FLAGS; ``extra`` variables are added last.
    """
    env = dict(os.environ)
    env.update({
        "KERAS_BACKEND": backend,
        **thread_vars(threads),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "JAX_PLATFORMS": "cpu",
        "CUDA_VISIBLE_DEVICES": "",
        "PYTHONWARNINGS": "ignore",
        **extra,
    })
    if backend == "jax":
        eigen = "false" if threads == 1 else "true"
        env["XLA_FLAGS"] = (f"--xla_cpu_multi_thread_eigen={eigen} "
                            f"intra_op_parallelism_threads={threads}")
    return env


def set_threads(backend: str, threads: int) -> dict:
    """In the child: sets the backend's own thread counts; returns ``{backend module: version}``."""
    versions = {}
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:
            pass
        versions["torch"] = torch.__version__
    elif backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        versions["tensorflow"] = tf.__version__
    else:
        import jax

        versions["jax"] = jax.__version__
    return versions


def marked_result(stdout: str, mark: str) -> dict | None:
    """The JSON a child printed after ``mark`` (its last such line), or None."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(mark):
            return json.loads(line[len(mark):])
    return None


# --------------------------------------------------------------------------- machine

def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        vals = [int(v) for v in f.readline().split()[1:9]]
    return (sum(vals) - vals[3] - vals[4]) / os.sysconf("SC_CLK_TCK")


def background_cores(seconds: float = 1.0) -> float:
    """Cores the whole machine keeps busy over the next ``seconds``."""
    b0, t0 = machine_busy_s(), time.perf_counter()
    time.sleep(seconds)
    return (machine_busy_s() - b0) / (time.perf_counter() - t0)


def wait_for_quiet(limit_s: float, threshold: float = 0.35) -> float:
    """Waits (up to limit_s) until other processes use less than `threshold` cores."""
    deadline = time.monotonic() + limit_s
    while True:
        bg = background_cores(1.0)
        if bg < threshold or time.monotonic() >= deadline:
            return bg
        time.sleep(2.0)


def children_cpu_s() -> float:
    """User + system CPU seconds of this process's reaped children so far."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def write_json(path: Path, payload, tag: str, *, indent: int = 1, end: str = "",
               **dumps_kw) -> None:
    """Writes ``payload`` as JSON to ``path`` (creating its folder) and logs where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=indent, **dumps_kw) + end)
    log(tag, f"wrote {path}")


def cpu_model() -> str | None:
    """The CPU's model name from /proc/cpuinfo, or None."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------- statistics

def median_of(rows: list, key: str):
    """Median of ``row[key]`` over the rows that have a value for it; None when none has."""
    vals = [r[key] for r in rows if key in r and r[key] is not None]
    return statistics.median(vals) if vals else None


def machine_info(packages: list[str], env: dict) -> dict:
    """The machine, the packages' versions, this repository's commit and the children's environment."""
    from importlib import metadata

    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    git = {}
    for key, args in (("commit", ["rev-parse", "--short", "HEAD"]),
                      ("dirty_src", ["status", "--porcelain", "--", "src"])):
        try:
            git[key] = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False,
                                      text=True, timeout=10).stdout.strip()
        except Exception:  # noqa: BLE001 - no git: recorded as unknown
            git[key] = None
    if git.get("dirty_src") is not None:
        git["dirty_src"] = bool(git["dirty_src"])
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_impl": platform.python_implementation(),
        "packages": versions,
        "hyperknob_git": git,
        "env": env,
    }


def chosen(names: str, known, what: str) -> list[str]:
    """The comma-separated ``names``, each checked against ``known`` (exits naming the known ones)."""
    picked = [n for n in names.split(",") if n]
    for name in picked:
        if name not in known:
            sys.exit(f"unknown {what} {name!r}; known: {', '.join(known)}")
    return picked
