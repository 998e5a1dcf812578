#!/usr/bin/env python3
"""Compares optimisers across several benchmarks/suite.py result files on one scale.

    python3 benchmarks/compare_runs.py base=results/a.json new=results/b.json [--budgets 16,32,64]

Each ``label=path`` adds that file's optimisers as ``label:optimiser`` (a bare path keeps the
names); files given the same label are merged seed by seed (``suite.py --first-seed`` adds seeds
to a run). Compare optimisers over the same seeds. The reference of each scikit-learn problem is the best
value seen in any file (not only in one run, so that variants run on different days are scored
against the same optimum), and each median regret is divided by random search's median (the first
``hk_random`` found): 0 = the best value seen, 1 = random search. Prints the mean over problems
per budget and the per-problem scores, so that a change that helps on average but costs one
problem shows it. Needs only the standard library.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", help="label=path or path")
    ap.add_argument("--budgets", default="16,32,64")
    ap.add_argument("--stat", choices=["median", "mean"], default="median",
                    help="over seeds: the median regret (suite.py's table) or the mean, which "
                         "moves with every seed and so tells small differences apart sooner")
    args = ap.parse_args()
    from _suite_problems import PROBLEMS

    raw: dict = {}  # problem -> optimiser label -> seed -> values
    randoms: list[str] = []  # the first file's hk_random is the baseline
    for spec in args.files:
        label, _, path = spec.rpartition("=")
        data = json.loads(Path(path).read_text())
        for p, by_opt in data["raw"].items():
            for o, runs in by_opt.items():
                name = f"{label}:{o}" if label else o
                if o == "hk_random" and name not in randoms:
                    randoms.append(name)
                raw.setdefault(p, {}).setdefault(name, {}).update(
                    {s: r["values"] for s, r in runs.items() if r.get("values")})
    budgets = [int(b) for b in args.budgets.split(",")]
    opts = sorted({o for d in raw.values() for o in d})
    random_name = randoms[0]
    scores: dict = {o: {b: {} for b in budgets} for o in opts}
    for p, by_opt in raw.items():
        ref = PROBLEMS[p].optimum
        if not any(by_opt.values()):
            continue  # no optimiser ran this problem (an error in every seed)
        if ref is None:
            ref = min(min(v) for runs in by_opt.values() for v in runs.values())
        for b in budgets:
            if random_name not in by_opt:
                continue
            rnd = statistics.median(max(0.0, min(v[:b]) - ref) for v in by_opt[random_name].values())
            if rnd <= 0:
                continue
            for o, runs in by_opt.items():
                if runs:
                    stat = statistics.median if args.stat == "median" else statistics.mean
                    med = stat(max(0.0, min(v[:b]) - ref) for v in runs.values())
                    scores[o][b][p] = med / rnd
    print("mean normalised regret (0 = best seen, 1 = random), problems counted in brackets")
    for o in opts:
        print(f"  {o:28s} " + "  ".join(
            f"@{b}: {statistics.mean(scores[o][b].values()):.3f} ({len(scores[o][b])})"
            if scores[o][b] else f"@{b}: -" for b in budgets))
    problems = sorted({p for o in opts for b in budgets for p in scores[o][b]})
    for b in budgets:
        print(f"\nper problem at {b} trials:")
        print(f"  {'problem':26s} " + " ".join(f"{o[-14:]:>14s}" for o in opts))
        for p in problems:
            print(f"  {p:26s} " + " ".join(
                f"{scores[o][b][p]:14.3f}" if p in scores[o][b] else f"{'-':>14s}" for o in opts))


if __name__ == "__main__":
    main()
