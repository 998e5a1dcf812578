"""Hyperband: the schedule a search trains, the values each trial carries, the epochs Keras's fit
receives, and the settings refused."""

import collections
import importlib
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

from dt_common import Facts, raises

kt = importlib.import_module(os.environ["KT_MODULE"])  # the one switch line

F = Facts(kt)

SCHEDULE_KEYS = ("tuner/epochs", "tuner/initial_epoch", "tuner/bracket", "tuner/round", "tuner/trial_id")


@F.section
def custom_tuner_schedule():
    runs = []

    class T(kt.engine.base_tuner.BaseTuner):
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            x = hp.Float("x", 0.0, 1.0)
            values = dict(hp.values)
            runs.append(values)
            return {"loss": (x - 0.3) ** 2 + 1.0 / values["tuner/epochs"]}

    # The space is declared up front: KerasTuner's Hyperband runs no trial at all when its space is
    # empty before the first trial (its random values are {} and it stops).
    hps = kt.HyperParameters()
    hps.Float("x", 0.0, 1.0)
    oracle = kt.oracles.HyperbandOracle(
        objective=kt.Objective("loss", "min"), max_epochs=9, factor=3, seed=3, hyperparameters=hps
    )
    tuner = T(oracle=oracle, directory=F.tmpdir(), project_name="hb", overwrite=True)
    tuner.search(verbose=0)
    schedule = collections.Counter((v["tuner/round"], v["tuner/epochs"], v["tuner/initial_epoch"]) for v in runs)
    trials = tuner.oracle.get_best_trials(100)
    return {
        "n_runs": len(runs),
        "schedule": sorted([list(k) + [n] for k, n in schedule.items()]),
        "keys_new": sorted(k for k in runs[0] if k.startswith("tuner/")),
        "keys_promoted": sorted({k for v in runs if "tuner/trial_id" in v for k in v if k.startswith("tuner/")}),
        "promotions_name_an_earlier_trial": all(
            v["tuner/trial_id"] in {t.trial_id for t in trials} for v in runs if "tuner/trial_id" in v
        ),
        "trial_id_width": sorted({len(t.trial_id) for t in trials}),
        "best_trained_longest": tuner.get_best_hyperparameters(1)[0].values["tuner/epochs"] == 9,
    }


@F.section
def keras_fit_receives_the_schedule():
    import keras
    import numpy as np

    calls = []

    class Model(kt.HyperModel):
        def build(self, hp):
            model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Int("u", 2, 8, step=2)), keras.layers.Dense(1)])
            model.compile(optimizer="adam", loss="mse")
            return model

        def fit(self, hp, model, *args, **kwargs):
            calls.append((kwargs.get("epochs"), kwargs.get("initial_epoch")))
            return model.fit(*args, **kwargs)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    tuner = kt.Hyperband(Model(), objective="val_loss", max_epochs=3, factor=3, seed=1, directory=F.tmpdir(),
                         project_name="k", overwrite=True)
    tuner.search(x, y, validation_split=0.25, verbose=0)
    return {"fit_calls": sorted(list(c) for c in calls), "n_trials": len(tuner.oracle.get_best_trials(100))}


@F.section
def settings_refused():
    return {
        "factor_1": raises(lambda: kt.oracles.HyperbandOracle(objective="loss", max_epochs=10, factor=1), kt),
        "factor_3": raises(lambda: kt.oracles.HyperbandOracle(objective="loss", max_epochs=10, factor=3), kt),
    }


F.dump()
