#!/usr/bin/env python3
"""scikit-learn searches side by side: hyperknob's HyperSearchCV against RandomizedSearchCV.

    python3 benchmarks/sklearn_search.py [--seeds 5] [--n-iter 50] [--problems a,b] [--algorithms tpe,gp]

Run it with any Python 3.10+: it uses benchmarks/.venv (as suite.py does; scikit-learn added under
its own stamp) and re-executes itself inside, one thread (OMP/MKL/OPENBLAS_NUM_THREADS=1).

For each problem and seed, RandomizedSearchCV(n_iter=N) runs on the problem's space and its best
cross-validated score is the target. HyperSearchCV with each algorithm then runs N candidates on the
same space, data and folds; the table reports, over seeds, the median number of fits (candidates x
folds) it needed before its best-so-far reached the target ("fits to RS best"), the ratio to
RandomizedSearchCV's own N x folds fits, and both final bests. The issue's goal: the default
algorithm reaches RandomizedSearchCV's best with at most half the fits on at least two problems.
Writes benchmarks/results/sklearn_search.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import HERE, TORCH, ensure_venv, log, thread_vars, write_json

TAG = "sklearn_search"
VENV = HERE / ".venv"
RESULTS = HERE / "results" / "sklearn_search.json"
REQUIREMENTS = ["keras-tuner==1.4.8", "six", "optuna", "keras", TORCH, "scikit-learn"]
STAMP_NAME = ".suite-installed"  # the same requirements as suite.py: share its stamp


def problems():
    """name -> (estimator, space for RandomizedSearchCV, space for HyperSearchCV, X, y, cv)."""
    from scipy.stats import loguniform, randint, uniform
    from sklearn import datasets, ensemble, linear_model, pipeline, preprocessing, svm
    from sklearn.model_selection import KFold, StratifiedKFold

    digits = datasets.load_digits(return_X_y=True)
    cancer = datasets.load_breast_cancer(return_X_y=True)
    wine = datasets.load_wine(return_X_y=True)
    diabetes = datasets.load_diabetes(return_X_y=True)

    def scaled(est):
        return pipeline.make_pipeline(preprocessing.StandardScaler(), est)

    out = {
        "svc_digits": (
            svm.SVC(), {"C": loguniform(1e-2, 1e3), "gamma": loguniform(1e-5, 1e-1)}, *digits,
            StratifiedKFold(3, shuffle=True, random_state=0),
        ),
        "gb_breast_cancer": (
            ensemble.GradientBoostingClassifier(n_estimators=50, random_state=0),
            {"learning_rate": loguniform(1e-2, 1.0), "max_depth": randint(1, 6), "subsample": uniform(0.5, 0.5),
             "min_samples_leaf": randint(1, 30)},
            *cancer, StratifiedKFold(3, shuffle=True, random_state=0),
        ),
        "logreg_wine": (
            scaled(linear_model.LogisticRegression(max_iter=2000)),
            {"logisticregression__C": loguniform(1e-4, 1e2)}, *wine, StratifiedKFold(5, shuffle=True, random_state=0),
        ),
        "enet_diabetes": (
            linear_model.ElasticNet(max_iter=5000),
            {"alpha": loguniform(1e-4, 10.0), "l1_ratio": uniform(0.0, 1.0)}, *diabetes,
            KFold(5, shuffle=True, random_state=0),
        ),
    }
    return out


def run_child(args) -> None:
    import numpy as np
    from sklearn.model_selection import RandomizedSearchCV

    import hyperknob as hk

    table = {}
    for name in args.problems:
        estimator, space, X, y, cv = problems()[name]
        n_splits = cv.get_n_splits()
        rows = {"random_search": [], **{a: [] for a in args.algorithms}}
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            rs = RandomizedSearchCV(estimator, space, n_iter=args.n_iter, cv=cv, random_state=seed).fit(X, y)
            target = float(np.max(rs.cv_results_["mean_test_score"]))
            rows["random_search"].append({"best": target, "fits": args.n_iter * n_splits, "wall_s": time.perf_counter() - t0})
            for algorithm in args.algorithms:
                t0 = time.perf_counter()
                search = hk.HyperSearchCV(estimator, space, algorithm=algorithm, n_trials=args.n_iter, cv=cv,
                                          random_state=seed, refit=False).fit(X, y)
                scores = np.nan_to_num(np.asarray(search.cv_results_["mean_test_score"], float), nan=-np.inf)
                best_so_far = np.maximum.accumulate(scores)
                reached = np.nonzero(best_so_far >= target - 1e-12)[0]
                rows[algorithm].append({
                    "best": float(best_so_far[-1]),
                    "fits_to_rs_best": int((reached[0] + 1) * n_splits) if len(reached) else None,
                    "wall_s": time.perf_counter() - t0,
                })
            log(TAG, f"{name} seed {seed}: RS {target:.5f} " + " ".join(f"{a} {rows[a][-1]['best']:.5f}" for a in args.algorithms))
        table[name] = rows
    print("@@RESULT@@" + json.dumps(table))


def report(table, args) -> str:
    lines = []
    rs_fits = args.n_iter
    for name, rows in table.items():
        lines.append(f"\n### {name} (RandomizedSearchCV n_iter={args.n_iter}, {args.seeds} seeds)\n")
        lines.append("| search | median best CV score | median fits to RS best | ratio to RS fits | reached in |")
        lines.append("|---|---|---|---|---|")
        rs = rows["random_search"]
        folds = rs[0]["fits"] // rs_fits
        lines.append(f"| RandomizedSearchCV | {statistics.median(r['best'] for r in rs):.5f} | {rs[0]['fits']} | 1.00 | - |")
        for algorithm in args.algorithms:
            runs = rows[algorithm]
            fits = [r["fits_to_rs_best"] if r["fits_to_rs_best"] is not None else float("inf") for r in runs]
            median = statistics.median(fits)
            shown = "not reached" if median == float("inf") else f"{median:.0f}"
            ratio = "-" if median == float("inf") else f"{median / (rs_fits * folds):.2f}"
            reached = sum(f != float("inf") for f in fits)
            lines.append(
                f"| HyperSearchCV {algorithm} | {statistics.median(r['best'] for r in runs):.5f} | {shown} | {ratio} | "
                f"{reached}/{len(runs)} seeds |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n-iter", type=int, default=50)
    parser.add_argument("--problems", default="svc_digits,gb_breast_cancer,logreg_wine,enet_diabetes")
    parser.add_argument("--algorithms", default="tpe,gp")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    args.problems = args.problems.split(",")
    args.algorithms = args.algorithms.split(",")
    if args.child:
        run_child(args)
        return
    py = ensure_venv(VENV, REQUIREMENTS, STAMP_NAME, TAG, pin_first=TORCH, this_repo=True)
    env = {**os.environ, **thread_vars(1), "PYTHONWARNINGS": "ignore"}
    cmd = [str(py), str(Path(__file__).resolve()), "--child", "--seeds", str(args.seeds), "--n-iter", str(args.n_iter),
           "--problems", ",".join(args.problems), "--algorithms", ",".join(args.algorithms)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    sys.stderr.write(out.stderr[-6000:])
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("@@RESULT@@")), None)
    if line is None:
        sys.exit(f"[{TAG}] the child failed (exit {out.returncode})")
    table = json.loads(line[len("@@RESULT@@"):])
    print(report(table, args))
    write_json(RESULTS, {"args": vars(args), "table": table}, TAG)


if __name__ == "__main__":
    main()
