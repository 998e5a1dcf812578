"""Run several differential scripts, each in its own forked process, after importing the module
under test once.

Usage: ``KT_MODULE=<module> python dt_zygote.py OUT_DIR JOBS TIMEOUT_S SCRIPT.py [SCRIPT.py ...]``

Importing keras_tuner (Keras and torch) takes seconds; every script would pay it again as a plain
subprocess. Here the parent imports ``$KT_MODULE`` once and forks one child per script: each child
is a fresh copy of that process, runs the script as ``__main__`` and exits, so no state passes from
one script to the next, and the script's own switch line (``importlib.import_module``) finds the
module already imported. Each child's stdout, stderr and exit status land in
``OUT_DIR/<script>.out``, ``.err`` and ``.rc``. Nothing is written anywhere else.

If the import fails here, the children still run, and fail on their switch line with the real
ImportError, which the test reports.
"""

from __future__ import annotations

import importlib
import os
import runpy
import signal
import sys
import time
import traceback


def _child(script_path: str, out_dir: str) -> None:
    name = os.path.splitext(os.path.basename(script_path))[0]
    out_fd = os.open(os.path.join(out_dir, f"{name}.out"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err_fd = os.open(os.path.join(out_dir, f"{name}.err"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    code = 0
    try:
        sys.argv = [script_path]
        runpy.run_path(script_path, run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - report whatever the script raised
        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _write_rc(out_dir: str, script_path: str, rc: int) -> None:
    name = os.path.splitext(os.path.basename(script_path))[0]
    with open(os.path.join(out_dir, f"{name}.rc"), "w") as f:
        f.write(str(rc))


def main() -> None:
    out_dir, jobs, timeout_s, *scripts = sys.argv[1:]
    jobs, timeout_s = max(1, int(jobs)), float(timeout_s)
    try:
        importlib.import_module(os.environ["KT_MODULE"])
    except Exception:  # noqa: BLE001 - the children will show the error
        pass
    sys.stdout.flush()
    sys.stderr.flush()

    pending = list(scripts)
    running: dict[int, tuple[str, float]] = {}
    while pending or running:
        while pending and len(running) < jobs:
            script = pending.pop(0)
            pid = os.fork()
            if pid == 0:
                _child(script, out_dir)
            running[pid] = (script, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            for child, (_script, started) in list(running.items()):
                if now - started > timeout_s:
                    os.kill(child, signal.SIGKILL)
            time.sleep(0.02)
            continue
        script, _ = running.pop(pid)
        _write_rc(out_dir, script, os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
