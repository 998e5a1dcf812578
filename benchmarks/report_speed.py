#!/usr/bin/env python3
"""How long ``hyperknob report`` takes on a long study and on a wide one.

    .venv/bin/python benchmarks/report_speed.py [--trials 10000] [--parameters 1000] [--repeats 3]

Run with the project's venv (``hyperknob[plots,sklearn]``). Two studies are made in a temporary
folder with random search and a zero-cost objective: ``--trials`` trials over 5 parameters, and
30 trials over ``--parameters`` parameters. Each report is written ``--repeats`` times in a fresh
``hyperknob report`` process (imports included, as a user runs it); the table shows the median and
the peak memory. The goal of issue #22 is under 5 s for each. There is no peer in this table:
KerasTuner has no report, and optuna's plots are separate calls into plotly, not one page.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _make(folder: str, trials: int, parameters: int) -> None:
    import hyperknob as hk

    def long(hp):
        return ((hp.Float("a", -5, 5) - 1) ** 2 + hp.Float("b", 1e-4, 1, sampling="log") + hp.Int("c", 1, 64) / 64
                + (hp.Choice("e", ["x", "y", "z"]) == "y") + hp.Boolean("f"))

    def wide(hp):
        return sum(hp.Float(f"p{i:04d}", 0, 1) for i in range(parameters))

    hk.create_study(folder, "long", algorithm="random", seed=0).optimize(long, n_trials=trials, verbose=0)
    hk.create_study(folder, "wide", algorithm="random", seed=0).optimize(wide, n_trials=30, verbose=0)


def _time_report(project: str, out: str) -> tuple[float, float]:
    hyperknob = Path(sys.executable).with_name("hyperknob")
    t0 = time.perf_counter()
    subprocess.run([str(hyperknob), "report", project, "-o", out], check=True, capture_output=True,
                   env=dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
    wall = time.perf_counter() - t0
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e3  # the largest child so far


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=10_000)
    p.add_argument("--parameters", type=int, default=1_000)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        _make(folder, args.trials, args.parameters)
        rows = {"long": [], "wide": []}
        for _ in range(args.repeats):
            for name in rows:  # alternated, so drift on a shared machine hits both alike
                rows[name].append(_time_report(os.path.join(folder, name), os.path.join(folder, f"{name}.html")))
        print("| study | report (s, median) | runs (s) | peak memory, any run (MB) |\n|---|--:|---|--:|")
        labels = {"long": f"{args.trials:,} trials x 5 parameters", "wide": f"30 trials x {args.parameters:,} parameters"}
        for name, runs in rows.items():
            walls = [w for w, _ in runs]
            print(f"| {labels[name]} | {statistics.median(walls):.2f} | {', '.join(f'{w:.2f}' for w in walls)} | "
                  f"{max(m for _, m in runs):.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
