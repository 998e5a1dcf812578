"""The ``hyperknob`` command.

    hyperknob worker module:objective --study NAME [--storage URL | --directory DIR] [--n-trials N]
                     [--n-workers N] [--timeout S]
    hyperknob worker script.py [--storage URL] [--n-workers N] [script options...]

``worker`` joins a study from any machine: with an importable objective ``module:function`` (a
function of ``hp`` or ``(hp, trial)``) it runs the plain search loop on the named study; with a
script it runs the script (a KerasTuner-style search) with the storage set for it, once per
worker. The study's algorithm, objective and seed come from the study itself.
"""

from __future__ import annotations

import argparse
import importlib
import os
import runpy
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


def _load_objective(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise SystemExit(f"hyperknob worker: {spec!r} is neither a script (.py) nor module:function.")
    sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise SystemExit(f"hyperknob worker: module {module_name!r} has no {attr!r}.") from None


def _run_script(path: str, script_args: Sequence[str]) -> None:
    sys.argv = [path, *script_args]
    runpy.run_path(path, run_name="__main__")


def worker(args: argparse.Namespace) -> int:
    if args.storage:
        os.environ["HYPERKNOB_STORAGE"] = args.storage
    if args.target.endswith(".py"):
        if args.n_workers == 1:
            _run_script(args.target, args.script_args)
            return 0
        from hyperknob.study.parallel import run_workers

        run_workers([lambda: _run_script(args.target, args.script_args)] * args.n_workers)
        return 0
    if not args.study:
        raise SystemExit("hyperknob worker: --study NAME is needed with module:function.")
    from hyperknob.study.factory import load_study

    objective = _load_objective(args.target)
    study = load_study(args.directory, args.study, storage=args.storage)
    study.optimize(objective, n_trials=args.n_trials, timeout=args.timeout, n_workers=args.n_workers,
                   verbose=0 if args.quiet else 1)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hyperknob", description="hyperknob: hyperparameter tuning.")
    commands = parser.add_subparsers(dest="command", required=True)
    w = commands.add_parser("worker", help="join a study and run its trials (from any machine)")
    w.add_argument("target", help="module:function (an objective) or script.py (a search script)")
    w.add_argument("--study", help="the study's name (project_name); needed with module:function")
    w.add_argument("--storage", help="database URL (default: $HYPERKNOB_STORAGE, else the SQLite file in --directory)")
    w.add_argument("--directory", default=".", help="where the project's SQLite study lives (default: .)")
    w.add_argument("--n-trials", type=int, default=None, help="trials this command runs (default: until the study's budget)")
    w.add_argument("--n-workers", type=int, default=1, help="worker processes on this machine")
    w.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
    w.add_argument("--quiet", action="store_true")
    w.set_defaults(run=worker)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    # Options this command does not know belong to the script it runs.
    args.script_args = rest
    if rest and not getattr(args, "target", "").endswith(".py"):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return int(args.run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
