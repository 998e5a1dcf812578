"""What a child process of benchmarks/multifidelity.py runs: one (optimiser, problem) pair over
its seeds, every library side by side (keras-tuner, hyperknob, optuna), on the Keras problems
(``keras_search``) or the synthetic curves (``synthetic_search``), each epoch counted by one
``Recorder``; ``child_main`` prints each seed's run on a ``MARK`` line for the parent."""
from __future__ import annotations

import json
import math
import tempfile
import time

from _multifidelity_rows import ASHA_ROWS, CAPPED, FACTOR, MARK, MAX_EPOCHS, kt_seed


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
