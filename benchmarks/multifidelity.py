#!/usr/bin/env python3
"""Multi-fidelity benchmark: hyperknob's Hyperband, ASHA (random, TPE or GP proposals, or a GP
budget model), BOHB and random search with median pruning against keras-tuner's Hyperband and
optuna's TPESampler with its HyperbandPruner, side by side, on learning-curve problems where the
budget is epochs.

    python3 benchmarks/multifidelity.py [--seeds 5] [--first-seed 0]
                                        [--problems digits,mnist1d,mnist1d_hello,synthetic]
                                        [--optimizers a,b] [--timeout 3600]
                                        [--reuse OLD.json[,OLD2.json] [--reuse-optimizers a,b]]

Run it with any Python 3.10+: like suite.py it uses ``benchmarks/.venv`` (keras-tuner 1.4.8, six,
optuna, keras, torch==2.13.0, scikit-learn, this repository editable), adding mnist1d to it (its
own stamp, ``.multifidelity-installed``), and re-executes itself inside. Every (optimiser,
problem) pair runs in a fresh subprocess, one after the other, on one thread
(OMP/MKL/OPENBLAS_NUM_THREADS=1, KERAS_BACKEND=torch, torch set to 1 thread), looping over the
seeds. Problems: see benchmarks/_multifidelity_problems.py (digits: the KerasTuner hello world;
mnist1d: a 1-4 layer variant on MNIST-1D, generated locally; mnist1d_hello: the hello world on
MNIST-1D; synthetic: formula learning curves, the hyperknob schedulers driven by
``hyperknob.testing.simulation.simulate`` on an injected clock, keras-tuner's HyperbandOracle and
optuna driven by hand with ask/tell on the same curves).

Budget. keras-tuner's ``Hyperband(max_epochs=20, factor=3, hyperband_iterations=1)`` runs first
on each problem and defines the reference: its median number of epochs trained (E) and its median
final best validation accuracy (S); its oracle gets seed ``kt_seed(s)``, spread apart because its
consecutive seeds share their random draws. hyperknob Hyperband and BOHB run the same bracket
schedule (so the same epochs); ASHA (max_epochs=20, factor=3), random search + MedianPruner(
n_startup_trials=5, n_warmup_steps=2, 20 epochs per trial) and optuna TPE + HyperbandPruner(1, 20,
3) (20 epochs per trial) stop when E epochs have been trained: no new trial starts and the
running one stops at the E-th epoch. Epochs are counted as trained (a promotion counts only its
new epochs), by a Keras callback that also records every epoch's validation accuracy; the best
validation score "reached" after n epochs is the best of the first n per-epoch validation
accuracies (every library keeps its best epoch's weights).

Reported per problem and optimiser, median and interquartile range over seeds of: the best
validation accuracy after 25%, 50% and 100% of E epochs; the epochs needed to reach S; the final
best; the epochs trained; the wall time of the search (simulated seconds for the synthetic
problem, where an epoch costs 0.5 + 1.5 * units/512 s). Prints Markdown tables and writes
benchmarks/results/multifidelity.json.
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import HERE, ROOT, TORCH, background_cores, chosen, cpu_model, ensure_venv, log, thread_vars, write_json

TAG = "multifidelity"
VENV = HERE / ".venv"
VENV_PY = VENV / "bin" / "python"
RESULTS = HERE / "results" / "multifidelity.json"
# suite.py's requirements plus mnist1d (a separate stamp, so the other scripts' stamps stay valid)
REQUIREMENTS = ["keras-tuner==1.4.8", "six", "optuna", "keras", TORCH, "scikit-learn", "mnist1d"]
STAMP_NAME = ".multifidelity-installed"
MARK = "@@MULTIFIDELITY-RESULT@@"

MAX_EPOCHS, FACTOR = 20, 3
CHILD_ENV = {
    "KERAS_BACKEND": "torch",
    **thread_vars(1),
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONWARNINGS": "ignore",
    "CUDA_VISIBLE_DEVICES": "",
}

# key -> label ; order is the table's order. The reference runs first.
OPTIMIZERS = {
    "kt_hyperband": "keras-tuner Hyperband",
    "hk_hyperband": "hyperknob Hyperband",
    "hk_asha": "hyperknob ASHA",
    "hk_bohb": "hyperknob BOHB",
    "hk_asha_tpe": "hyperknob ASHA + TPE",
    "hk_asha_gp": "hyperknob ASHA + GP",
    "hk_asha_budget": "hyperknob ASHA + GP budget model",
    "hk_random_median": "hyperknob random + MedianPruner",
    "optuna_tpe_hb": "optuna TPE + HyperbandPruner",
}
REFERENCE = "kt_hyperband"
# row -> ASHA's arguments besides max_epochs (factor FACTOR unless given)
ASHA_ROWS: dict[str, dict] = {
    "hk_asha": {"sampler": "random"},
    "hk_asha_tpe": {"sampler": "tpe"},
    "hk_asha_gp": {"sampler": "gp"},
    "hk_asha_budget": {"sampler": "gp", "budget_model": True, "factor": 2, "min_epochs": 2},
}
CAPPED = (*ASHA_ROWS, "hk_random_median", "optuna_tpe_hb")  # stopped when the budget is spent
DEFAULT_PROBLEMS = ["digits", "mnist1d", "mnist1d_hello", "synthetic"]
FRACTIONS = (0.25, 0.5, 1.0)

_log = functools.partial(log, TAG)

# keras-tuner's oracle draws hyperparameter j of its search from random.Random(seed_state) and adds
# 1 to seed_state per value drawn, so searches with seeds s and s + 3 (three hyperparameters) try the
# same configurations shifted by one, and seeds 0..19 are about three independent searches, not
# twenty; its seed 0 means "pick one at random" (1..10000). Its seeds are spread this far apart
# (one search draws a few hundred values) so that every seed is an independent search.
KT_SEED_STRIDE = 1_000_003


def kt_seed(seed: int) -> int:
    """The seed keras-tuner's oracle gets for benchmark seed ``seed`` (see KT_SEED_STRIDE)."""
    return (seed + 1) * KT_SEED_STRIDE


def optuna_study(seed: int):
    """optuna's row: TPE with its HyperbandPruner over the same epochs and factor. The study is
    named after the seed because the pruner picks brackets by a hash of the name."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        study_name=f"multifidelity-{seed}", direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=MAX_EPOCHS,
                                              reduction_factor=FACTOR))


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


# --------------------------------------------------------------------------- child: recording

class Recorder:
    """Epochs trained in this search: each one's validation accuracy, the time since the search
    began (real seconds, or simulated seconds for the synthetic problem), and the budget."""

    def __init__(self) -> None:
        self.reset(None)

    def reset(self, budget: int | None) -> None:
        self.budget = budget
        self.vals: list[float] = []
        self.times: list[float] = []
        self.sim_s = 0.0
        self.t0 = time.perf_counter()

    def start(self) -> None:
        self.t0 = time.perf_counter()

    def epoch(self, value: float, sim_s: float | None = None) -> bool:
        """Records one trained epoch; True when the budget is now spent."""
        self.vals.append(float(value))
        if sim_s is not None:
            self.sim_s += sim_s
        self.times.append(self.sim_s if sim_s is not None else time.perf_counter() - self.t0)
        return self.spent()

    def spent(self) -> bool:
        return self.budget is not None and len(self.vals) >= self.budget


REC = Recorder()  # module level: the tuners deep-copy the callbacks given to search()


def record_callback_class():
    import keras

    class RecordEpochs(keras.callbacks.Callback):
        """Counts each trained epoch and its val_accuracy; stops training when the budget is spent."""

        def on_epoch_end(self, epoch, logs=None):
            if REC.epoch((logs or {}).get("val_accuracy", float("nan"))):
                self.model.stop_training = True

    return RecordEpochs


def optuna_pruning_callback_class():
    """Reports val_accuracy to an optuna trial after each epoch (step = epochs trained) and stops
    training when the trial's pruner says so (optuna-integration's KerasPruningCallback, written
    here because that package may be absent)."""
    import keras

    class OptunaPruning(keras.callbacks.Callback):
        def __init__(self, trial):
            super().__init__()
            self.trial = trial
            self.pruned_at = None

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get("val_accuracy")
            if value is None:
                return
            self.trial.report(float(value), step=epoch + 1)
            if self.trial.should_prune():
                self.pruned_at = epoch + 1
                self.model.stop_training = True

    return OptunaPruning


def capped(cls):
    """A hyperknob tuner class that starts no new trial once the epoch budget is spent."""

    class Capped(cls):
        def _next_trial(self):
            if REC.spent():
                self.study.stop_reason = "budget"
                return None
            return super()._next_trial()

    Capped.__name__ = cls.__name__
    return Capped


# --------------------------------------------------------------------------- child: keras problems

def keras_search(opt: str, problem, seed: int, budget: int, data, tmp: str) -> dict:
    import keras

    from _multifidelity_problems import build_keras, declare, suggest_optuna

    keras.utils.set_random_seed(seed)
    x_tr, y_tr, x_val, y_val = data
    deep, dim = problem.deep, x_tr.shape[1]
    REC.reset(budget if opt in CAPPED else None)
    fit_kw = dict(validation_data=(x_val, y_val), batch_size=problem.batch_size, verbose=0,
                  callbacks=[record_callback_class()()])

    def build(hp):
        return build_keras(declare(hp, deep), deep, dim)

    hb_kw = dict(objective="val_accuracy", max_epochs=MAX_EPOCHS, factor=FACTOR, seed=seed,
                 directory=tmp, overwrite=True)
    if opt == "kt_hyperband":
        import keras_tuner

        tuner = keras_tuner.Hyperband(build, hyperband_iterations=1, project_name="kt",
                                      **{**hb_kw, "seed": kt_seed(seed)})
        REC.start()
        tuner.search(x_tr, y_tr, **fit_kw)
        wall = time.perf_counter() - REC.t0
        trials = len(tuner.oracle.trials)
        best = tuner.oracle.get_best_trials(1)[0].score
    elif opt.startswith("hk_"):
        import hyperknob as hk

        if opt == "hk_hyperband":
            tuner = hk.Hyperband(build, hyperband_iterations=1, project_name="hk", **hb_kw)
        elif opt == "hk_bohb":
            tuner = hk.BOHB(build, hyperband_iterations=1, project_name="hk", **hb_kw)
        elif opt in ASHA_ROWS:
            tuner = capped(hk.ASHA)(build, max_trials=100_000, project_name="hk",
                                    **{**hb_kw, **ASHA_ROWS[opt]})
        else:
            tuner = capped(hk.RandomSearch)(
                build, objective="val_accuracy", max_trials=100_000, seed=seed, directory=tmp,
                project_name="hk", overwrite=True,
                pruner=hk.MedianPruner(n_startup_trials=5, n_warmup_steps=2))
            fit_kw["epochs"] = MAX_EPOCHS
        REC.start()
        tuner.search(x_tr, y_tr, **fit_kw)
        wall = time.perf_counter() - REC.t0
        trials = len(tuner.oracle.study.trials)
        best = tuner.oracle.get_best_trials(1)[0].score
    else:
        import optuna

        Pruning = optuna_pruning_callback_class()
        study = optuna_study(seed)

        def objective(trial):
            keras.backend.clear_session(free_memory=False)
            model = build_keras(suggest_optuna(trial, deep), deep, dim)
            pruning = Pruning(trial)
            kw = dict(fit_kw, callbacks=[*fit_kw["callbacks"], pruning])
            history = model.fit(x_tr, y_tr, epochs=MAX_EPOCHS, **kw)
            if pruning.pruned_at is not None:
                raise optuna.TrialPruned()
            return max(history.history["val_accuracy"])

        def stop_when_spent(study, _trial):
            if REC.spent():
                study.stop()

        REC.start()
        study.optimize(objective, n_trials=100_000, callbacks=[stop_when_spent])
        wall = time.perf_counter() - REC.t0
        trials = len(study.trials)
        best = max((t.value for t in study.trials if t.value is not None), default=None)
        # optuna has no value for a pruned trial; its epochs count in the recorded curve.
    return {"vals": REC.vals, "times": REC.times, "wall_s": wall, "trials": trials,
            "library_best": best, "epochs": len(REC.vals)}


# --------------------------------------------------------------------------- child: synthetic

def synthetic_search(opt: str, seed: int, budget: int, tmp: str) -> dict:
    from _multifidelity_problems import (
        declare,
        suggest_optuna,
        synthetic_accuracy,
        synthetic_epoch_time,
        synthetic_space,
    )

    REC.reset(budget if opt in CAPPED else None)
    t0 = time.perf_counter()
    if opt.startswith("hk_"):
        from hyperknob.samplers import RandomSampler
        from hyperknob.schedulers import ASHAScheduler, HyperbandScheduler, MedianPruner
        from hyperknob.testing.simulation import simulate

        def curve(values, epochs):
            return 1.0 - synthetic_accuracy(values, epochs)

        # One simulated worker whose clock counts epochs (epoch_time=1), so ``max_time`` is the
        # epoch budget; with one worker the timing does not change any decision, and the
        # simulated seconds of the real epoch times are summed below.
        kw: dict = dict(seed=seed, n_workers=1)
        hb = dict(max_epochs=MAX_EPOCHS, factor=FACTOR, hyperband_iterations=1)
        if opt == "hk_hyperband":
            sim = simulate(HyperbandScheduler(**hb), synthetic_space(), curve, **kw)
        elif opt == "hk_bohb":
            sim = simulate(HyperbandScheduler(**hb, sampler="tpe"), synthetic_space(), curve, **kw)
        elif opt in ASHA_ROWS:
            sim = simulate(ASHAScheduler(max_epochs=MAX_EPOCHS, **{"factor": FACTOR, **ASHA_ROWS[opt]}),
                           synthetic_space(), curve, max_time=budget, **kw)
        else:
            sim = simulate(RandomSampler(), synthetic_space(), curve, max_epochs=MAX_EPOCHS,
                           max_time=budget,
                           pruner=MedianPruner(n_startup_trials=5, n_warmup_steps=2), **kw)
        for trial in sim.trials:  # one worker: trials ran one after the other
            points = next(iter(trial.metrics.values()), ())
            for p in points:
                REC.epoch(1.0 - p.value, synthetic_epoch_time(trial.values))
        trials = len(sim.trials)
        best = 1.0 - sim.best() if math.isfinite(sim.best()) else None
    elif opt == "kt_hyperband":
        import keras_tuner as kt

        oracle = kt.oracles.HyperbandOracle(objective=kt.Objective("val_accuracy", "max"),
                                            max_epochs=MAX_EPOCHS, factor=FACTOR,
                                            hyperband_iterations=1, seed=kt_seed(seed))
        declare(oracle.hyperparameters, False)
        oracle._set_project_dir(tmp, "kt")
        trials = 0
        while True:
            trial = oracle.create_trial("tuner0")
            if trial.status in ("STOPPED", "IDLE"):
                break
            trials += 1
            values = trial.hyperparameters.values
            for e in range(values["tuner/initial_epoch"], values["tuner/epochs"]):
                acc = synthetic_accuracy(values, e + 1)
                REC.epoch(acc, synthetic_epoch_time(values))
                oracle.update_trial(trial.trial_id, {"val_accuracy": acc}, step=e)
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
        best = oracle.get_best_trials(1)[0].score
    else:
        import optuna

        study = optuna_study(seed)

        def objective(trial):
            values = suggest_optuna(trial, False)
            best_acc = -1.0
            for e in range(1, MAX_EPOCHS + 1):
                acc = synthetic_accuracy(values, e)
                best_acc = max(best_acc, acc)
                spent = REC.epoch(acc, synthetic_epoch_time(values))
                trial.report(acc, step=e)
                if spent:
                    break
                if trial.should_prune():
                    raise optuna.TrialPruned()
            return best_acc

        def stop_when_spent(study, _trial):
            if REC.spent():
                study.stop()

        study.optimize(objective, n_trials=100_000, callbacks=[stop_when_spent])
        trials = len(study.trials)
        best = max((t.value for t in study.trials if t.value is not None), default=None)
    real = time.perf_counter() - t0
    return {"vals": REC.vals, "times": REC.times, "wall_s": REC.sim_s, "real_s": real,
            "trials": trials, "library_best": best, "epochs": len(REC.vals)}


def child_main(opt: str, problem_name: str, seeds: list[int], budget: int) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("hyperknob").setLevel(logging.ERROR)
    from _multifidelity_problems import PROBLEMS, load_data

    problem = PROBLEMS[problem_name]
    data = None
    if problem.kind == "keras" or opt == "kt_hyperband":
        import torch

        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    if problem.kind == "keras":
        data = load_data(problem_name)
    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix="hk-multifidelity-") as tmp:
            try:
                if problem.kind == "keras":
                    run = keras_search(opt, problem, seed, budget, data, tmp)
                else:
                    run = synthetic_search(opt, seed, budget, tmp)
            except BaseException as e:  # report, keep the other seeds
                import traceback

                run = {"error": f"{type(e).__name__}: {e}"[:500],
                       "traceback": traceback.format_exc()[-3000:]}
        print(MARK + json.dumps({"seed": seed, **run}), flush=True)


# --------------------------------------------------------------------------- parent

def run_child(opt: str, problem: str, seeds: list[int], budget: int, timeout: float) -> dict:
    cmd = [str(VENV_PY), str(Path(__file__).resolve()), "--child", opt, problem,
           "--seeds-list", ",".join(map(str, seeds)), "--budget", str(budget)]
    env = {**os.environ, **CHILD_ENV}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                              cwd=HERE)
        stdout, stderr, rc = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:
        stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        stderr, rc = "timeout", -1
    runs = {}
    for line in stdout.splitlines():
        if line.startswith(MARK):
            r = json.loads(line[len(MARK):])
            runs[r.pop("seed")] = r
    if rc != 0:
        _log(f"  {opt}/{problem}: exit {rc}; {stderr[-1500:]}")
    for s, r in runs.items():
        if "error" in r:
            _log(f"  {opt}/{problem} seed {s}: {r['error']}\n{r.get('traceback', '')}")
    ok = [r for r in runs.values() if "error" not in r]
    extra = ""
    if ok:
        extra = (f", epochs {statistics.median(r['epochs'] for r in ok):.0f}, best "
                 f"{statistics.median(max(r['vals']) for r in ok):.4f}")
    _log(f"  {opt:16s} {problem:9s} {len(ok)}/{len(seeds)} seeds in "
         f"{time.perf_counter() - t0:.1f}s{extra}")
    return runs


def quantile(vals: list[float], q: float) -> float:
    s = sorted(vals)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    if s[hi] == math.inf:
        return s[lo] if pos == lo else math.inf
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def stats(vals: list[float]) -> dict:
    return {"median": quantile(vals, 0.5), "q25": quantile(vals, 0.25),
            "q75": quantile(vals, 0.75), "n": len(vals)}


def best_so_far(vals: list[float]) -> list[float]:
    out, best = [], -math.inf
    for v in vals:
        if v == v:  # NaN (no val_accuracy) never counts
            best = max(best, v)
        out.append(best)
    return out


def summarise(raw: dict, problems: list[str], optimizers: list[str], budgets: dict) -> dict:
    out = {}
    for pname in problems:
        ref_runs = [r for r in raw.get(pname, {}).get(REFERENCE, {}).values() if "error" not in r]
        ref_epochs = (statistics.median(r["epochs"] for r in ref_runs) if ref_runs
                      else budgets[pname])
        ref_score = (statistics.median(max(best_so_far(r["vals"])) for r in ref_runs)
                     if ref_runs else None)
        rows = {}
        for o in optimizers:
            runs = [r for r in raw.get(pname, {}).get(o, {}).values() if "error" not in r]
            if not runs:
                continue
            per: dict = {f"best_at_{int(f * 100)}": [] for f in FRACTIONS}
            per.update(final=[], epochs=[], wall_s=[], trials=[], epochs_to_ref=[],
                       wall_to_ref=[])
            for r in runs:
                bsf = best_so_far(r["vals"])
                for f in FRACTIONS:
                    n = max(1, min(len(bsf), int(math.floor(f * ref_epochs))))
                    per[f"best_at_{int(f * 100)}"].append(bsf[n - 1])
                per["final"].append(bsf[-1])
                per["epochs"].append(len(bsf))
                per["wall_s"].append(r["wall_s"])
                per["trials"].append(r["trials"])
                hit = next((i for i, b in enumerate(bsf)
                            if ref_score is not None and b >= ref_score - 1e-9), None)
                per["epochs_to_ref"].append(math.inf if hit is None else hit + 1)
                per["wall_to_ref"].append(math.inf if hit is None else r["times"][hit])
            row = {k: stats(v) for k, v in per.items()}
            row["reached"] = sum(v != math.inf for v in per["epochs_to_ref"])
            row["seeds"] = len(runs)
            row["per_seed"] = per
            longest = max(len(r["vals"]) for r in runs)
            row["median_curve"] = [statistics.median(best_so_far(r["vals"])[min(i, len(r["vals"]) - 1)]
                                                     for r in runs) for i in range(longest)]
            rows[o] = row
        goal = {}
        for o, row in rows.items():
            if not o.startswith("hk_") or ref_score is None:
                continue
            reach = row["epochs_to_ref"]["median"]
            goal[o] = {"epochs_to_ref_over_ref_epochs": reach / ref_epochs,
                       "reaches_with_half": reach <= 0.5 * ref_epochs,
                       "ends_at_least_as_good": row["final"]["median"] >= ref_score - 1e-9,
                       "at_equal_budget_at_least_as_good":
                           row["best_at_100"]["median"] >= ref_score - 1e-9}
            goal[o]["met"] = goal[o]["reaches_with_half"] and goal[o]["ends_at_least_as_good"]
        out[pname] = {"ref_epochs": ref_epochs, "ref_score": ref_score, "budget": budgets[pname],
                      "optimizers": rows, "goal": goal}
    return out


def _f(s: dict, digits: int = 4) -> str:
    if s["median"] == math.inf:
        return "not reached"
    q75 = "inf" if s["q75"] == math.inf else f"{s['q75']:.{digits}f}"
    return f"{s['median']:.{digits}f} ({s['q25']:.{digits}f}-{q75})"


def _e(s: dict) -> str:
    if s["median"] == math.inf:
        return "not reached"
    q75 = "not reached" if s["q75"] == math.inf else f"{s['q75']:.0f}"
    return f"{s['median']:.0f} ({s['q25']:.0f}-{q75})"


def markdown(summary: dict, optimizers: list[str]) -> str:
    from _multifidelity_problems import PROBLEMS

    lines = []
    for pname, s in summary.items():
        E, S = s["ref_epochs"], s["ref_score"]
        unit = "simulated s" if PROBLEMS[pname].kind == "synthetic" else "s"
        lines += [f"\n### {pname}: {PROBLEMS[pname].note}\n",
                  f"Reference (keras-tuner Hyperband, max_epochs={MAX_EPOCHS}, factor={FACTOR}): "
                  f"median {E:.0f} epochs (E), median final best "
                  + ("n/a" if S is None else f"{S:.4f} (S)") + ". "
                  "Medians over seeds, interquartile range in parentheses.\n",
                  f"| optimiser | best @ 25% E | best @ 50% E | best @ 100% E | epochs to reach S "
                  f"(seeds) | final best | epochs trained | trials | wall {unit} |",
                  "|---|---|---|---|---|---|---|---|---|"]
        ref_wall = s["optimizers"].get(REFERENCE, {}).get("wall_s", {}).get("median")
        for o in optimizers:
            row = s["optimizers"].get(o)
            if row is None:
                continue
            wall = f"{row['wall_s']['median']:.1f}"
            if ref_wall:
                wall += f" ({row['wall_s']['median'] / ref_wall:.2f}x)"
            lines.append(
                f"| {OPTIMIZERS[o]} | {_f(row['best_at_25'])} | {_f(row['best_at_50'])} | "
                f"{_f(row['best_at_100'])} | {_e(row['epochs_to_ref'])} "
                f"({row['reached']}/{row['seeds']}) | {_f(row['final'])} | "
                f"{row['epochs']['median']:.0f} | {row['trials']['median']:.0f} | {wall} |")
        if s["goal"]:
            lines.append("")
            for o, g in s["goal"].items():
                lines.append(
                    f"- {OPTIMIZERS[o]}: reaches S after {g['epochs_to_ref_over_ref_epochs']:.2f} E "
                    f"(goal <= 0.5: {'yes' if g['reaches_with_half'] else 'no'}); final best "
                    f"{'>=' if g['ends_at_least_as_good'] else '<'} S; goal "
                    f"{'MET' if g['met'] else 'not met'}")
    return "\n".join(lines)


def reused_runs(path: str, names: str, problems: list[str], seeds: list[int]) -> dict:
    """{problem: {optimiser: {seed: run}}} of ``names`` from earlier outputs (comma-separated
    paths; each run from the first file that has it), for exactly these seeds (a run is a pure
    function of its seed and the libraries, so an unchanged optimiser need not be trained again).
    Exits if no file has one of them."""
    raws = [json.loads(Path(p).read_text())["raw"] for p in path.split(",")]
    out: dict = {}
    for pname in problems:
        for o in chosen(names, OPTIMIZERS, "optimizer"):
            runs = {}
            for s in seeds:
                found = [r[pname][o][str(s)] for r in raws if str(s) in r.get(pname, {}).get(o, {})]
                if not found:
                    sys.exit(f"--reuse {path}: no {o} run of {pname} for seed {s}")
                runs[s] = found[0]
            out.setdefault(pname, {})[o] = runs
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    ap.add_argument("--first-seed", type=int, default=0,
                    help="start the seeds here: --first-seed 5 --seeds 5 runs seeds 5..9")
    ap.add_argument("--problems", default=",".join(DEFAULT_PROBLEMS))
    ap.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    ap.add_argument("--timeout", type=float, default=5400.0,
                    help="seconds allowed per (optimiser, problem) child")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--reuse", metavar="JSON[,JSON]",
                    help="take the runs of --reuse-optimizers from these earlier outputs (the first "
                         "that has them; same problems and seeds) instead of running them again")
    ap.add_argument("--reuse-optimizers", default=REFERENCE,
                    help="which optimisers --reuse takes (default: the reference, keras-tuner's "
                         "Hyperband, which no hyperknob change can move)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--seeds-list", help=argparse.SUPPRESS)
    ap.add_argument("--budget", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        child_main(args.child[0], args.child[1], [int(s) for s in args.seeds_list.split(",")],
                   args.budget)
        return
    if not in_venv():
        ensure_venv(VENV, REQUIREMENTS, STAMP_NAME, TAG, pin_first=TORCH, this_repo=True,
                    shown=VENV.relative_to(ROOT))
        os.execv(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve()), *sys.argv[1:]])

    from _multifidelity_problems import PROBLEMS
    from hyperknob.schedulers import hyperband_table

    problems = chosen(args.problems, PROBLEMS, "problem")
    optimizers = chosen(args.optimizers, OPTIMIZERS, "optimizer")
    optimizers = [o for o in OPTIMIZERS if o in optimizers]  # the reference first
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    # Epochs of one Hyperband iteration when every trial trains all its epochs: the budget when
    # keras-tuner's Hyperband is not run.
    table_epochs = sum(size * (ep - prev) for bracket in hyperband_table(MAX_EPOCHS, FACTOR)
                       for (size, ep), prev in zip(bracket, [0] + [e for _, e in bracket], strict=False))
    bg = background_cores(2.0)
    _log(f"{len(problems)} problems x {len(optimizers)} optimisers x {len(seeds)} seeds; "
         f"Hyperband table epochs {table_epochs}; other processes use {bg:.2f} cores")

    raw: dict = {}
    budgets: dict = {}
    reused = reused_runs(args.reuse, args.reuse_optimizers, problems, seeds) if args.reuse else {}
    t0 = time.perf_counter()
    for pname in problems:
        budget = table_epochs
        for o in optimizers:
            runs = reused.get(pname, {}).get(o)
            if runs is not None:
                _log(f"  {o:16s} {pname:9s} {len(runs)} seeds reused from {args.reuse}")
            if o == REFERENCE:
                raw.setdefault(pname, {})[o] = (runs if runs is not None else
                                                run_child(o, pname, seeds, budget, args.timeout))
                ok = [r["epochs"] for r in raw[pname][o].values() if "error" not in r]
                if ok:
                    budget = int(round(statistics.median(ok)))
                _log(f"  budget for {pname}: {budget} epochs")
                continue
            raw.setdefault(pname, {})[o] = (runs if runs is not None else
                                            run_child(o, pname, seeds, budget, args.timeout))
        budgets[pname] = budget
    summary = summarise(raw, problems, optimizers, budgets)
    table = markdown(summary, optimizers)
    print(table)

    import importlib.metadata as md

    versions = {}
    for pkg in ("hyperknob", "keras-tuner", "keras", "torch", "optuna", "scikit-learn", "numpy",
                "mnist1d"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass

    def clean(x):  # JSON has no infinity
        if isinstance(x, float) and math.isinf(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x

    payload = {
        "command": "python3 benchmarks/multifidelity.py " + " ".join(sys.argv[1:]),
        "reused": {"from": args.reuse, "optimizers": sorted({o for d in reused.values() for o in d})}
        if args.reuse else None,
        "seeds": seeds, "problems": problems, "max_epochs": MAX_EPOCHS, "factor": FACTOR,
        "optimizers": {o: OPTIMIZERS[o] for o in optimizers},
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "threads": 1,
                    "other_processes_cores_at_start": bg},
        "versions": versions, "elapsed_s": time.perf_counter() - t0,
        "summary": clean(summary), "table_markdown": table,
        "raw": {p: {o: {str(s): clean({k: (v if k != "times" else [round(t, 3) for t in v])
                                        for k, v in r.items()})
                        for s, r in runs.items()} for o, runs in d.items()}
                for p, d in raw.items()},
    }
    write_json(Path(args.out), payload, TAG)


if __name__ == "__main__":
    main()
