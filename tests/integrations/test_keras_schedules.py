"""Keras trials under schedules and pruning: epochs as KerasTuner passes them, promotions that
continue their parent's weights and optimizer state, pruned trials stopped at once."""

from __future__ import annotations

import warnings

import pytest

import hyperknob as kt
from hyperknob._types import TrialStatus

keras = pytest.importorskip("keras")
from sklearn.datasets import load_digits  # noqa: E402 - only once Keras is there (the module skips without it)


@pytest.fixture(scope="module")
def data():
    digits = load_digits()
    x = (digits.data[:400] / 16.0).astype("float32")
    y = digits.target[:400]
    return x[:300], y[:300], x[300:], y[300:]


def build_model(hp, min_lr=1e-5):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("units", 8, 32, step=8), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("lr", min_lr, 1e-2, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


class RecordingHyperModel(kt.HyperModel):
    """Records what fit receives, the optimizer's step count when training starts, and the
    training loss of the model before and after fit."""

    def __init__(self):
        super().__init__()
        self.calls = {}

    def build(self, hp):
        return build_model(hp, min_lr=1e-3)  # every configuration learns visibly in one epoch

    def fit(self, hp, model, *args, **kwargs):
        key = (hp.values["units"], hp.values["lr"], hp.values["tuner/epochs"])
        x, y = args[0], args[1]
        call = self.calls[key] = {
            "epochs": kwargs["epochs"], "initial_epoch": kwargs["initial_epoch"], "iterations": int(model.optimizer.iterations.numpy()),
            "start_loss": model.evaluate(x, y, verbose=0)[0],
        }
        history = model.fit(*args, **kwargs)
        call["end_loss"] = model.evaluate(x, y, verbose=0)[0]
        return history


def test_hyperband_promotions_continue_weights_and_optimizer_state(tmp_path, data):
    x, y, xv, yv = data
    hypermodel = RecordingHyperModel()
    tuner = kt.Hyperband(hypermodel, objective="val_accuracy", max_epochs=9, factor=3, seed=2,
                         directory=str(tmp_path), project_name="hb")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.search(x, y, validation_data=(xv, yv), batch_size=50, verbose=0)
    assert not [w for w in caught if "Skipping variable loading" in str(w.message)]
    trials = tuner.oracle.study.trials
    assert len(trials) == 23 and all(t.status == TrialStatus.COMPLETED for t in trials)
    by_id = {t.trial_id: t for t in trials}
    promoted = [t for t in trials if "tuner/trial_id" in t.values]
    assert len(promoted) == 6
    batches = len(x) // 50
    learned = []
    for child in promoted:
        parent = by_id[child.values["tuner/trial_id"]]
        call = hypermodel.calls[(child.values["units"], child.values["lr"], child.values["tuner/epochs"])]
        assert call["epochs"] == child.values["tuner/epochs"]
        assert call["initial_epoch"] == child.values["tuner/initial_epoch"] == parent.values["tuner/epochs"]
        # Adam's state came along: its step count is the parent's.
        assert call["iterations"] == parent.values["tuner/epochs"] * batches
        steps = [p.step for p in child.metrics["loss"]]
        assert steps == list(range(child.values["tuner/initial_epoch"], child.values["tuner/epochs"]))
        # The child starts exactly where its parent stopped (not from its best epoch, not afresh).
        parent_call = hypermodel.calls[(parent.values["units"], parent.values["lr"], parent.values["tuner/epochs"])]
        assert call["start_loss"] == pytest.approx(parent_call["end_loss"], rel=1e-5)
        if parent_call["start_loss"] - parent_call["end_loss"] > 0.1:
            # ... and, where the parent learned visibly, the child's first epoch's loss is close to
            # its parent's last, not to a fresh model's first.
            learned.append(child)
            child_first = child.metrics["loss"][0].value
            assert abs(child_first - parent.metrics["loss"][-1].value) < abs(child_first - parent_call["start_loss"])
    assert learned
    best = tuner.get_best_models(1)[0]
    assert best.evaluate(xv, yv, verbose=0)[1] == pytest.approx(tuner.oracle.get_best_trials(1)[0].score, abs=1e-6)


@pytest.mark.parametrize("tuner_class", [kt.ASHA, kt.BOHB])
def test_asha_and_bohb_tune_a_keras_model(tmp_path, data, tuner_class):
    x, y, xv, yv = data
    kwargs = {"max_trials": 12} if tuner_class is kt.ASHA else {}
    tuner = tuner_class(build_model, objective="val_accuracy", max_epochs=9, factor=3, seed=1,
                        directory=str(tmp_path), project_name="t", **kwargs)
    tuner.search(x, y, validation_data=(xv, yv), batch_size=50, verbose=0)
    trials = tuner.oracle.study.trials
    assert len(trials) == (12 if tuner_class is kt.ASHA else 23)
    assert any("tuner/trial_id" in t.values for t in trials)
    for t in trials:
        steps = [p.step for p in t.metrics["val_accuracy"]]
        assert steps == list(range(t.values["tuner/initial_epoch"], t.values["tuner/epochs"]))


def test_pruned_keras_trials_stop_at_once_and_keep_their_history(tmp_path, data):
    x, y, xv, yv = data
    tuner = kt.RandomSearch(build_model, objective="val_loss", max_trials=8, seed=4, directory=str(tmp_path),
                            project_name="pruned", pruner=kt.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
                            max_consecutive_failed_trials=1)
    tuner.search(x, y, epochs=8, validation_data=(xv, yv), batch_size=50, verbose=0)
    trials = tuner.oracle.study.trials
    stopped = [t for t in trials if t.status == TrialStatus.STOPPED]
    assert stopped, [t.score for t in trials]
    for t in stopped:
        epochs = [p.step for p in t.metrics["val_loss"]]
        assert 2 <= len(epochs) < 8 and epochs == list(range(len(epochs)))
        assert "Pruned after epoch" in t.message
    assert len([t for t in trials if t.status == TrialStatus.COMPLETED]) + len(stopped) == 8
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.status == TrialStatus.COMPLETED


def test_asha_with_a_budget_model_tunes_a_keras_model_and_resumes_with_it(tmp_path, data):
    x, y, xv, yv = data
    kwargs = dict(objective="val_accuracy", max_epochs=8, factor=2, min_epochs=2, sampler="gp", budget_model=True,
                  seed=1, directory=str(tmp_path), project_name="budget")
    tuner = kt.ASHA(build_model, max_trials=16, **kwargs)
    tuner.search(x, y, validation_data=(xv, yv), batch_size=50, verbose=0)
    trials = tuner.oracle.study.trials
    assert len(trials) == 16 and all(t.status == TrialStatus.COMPLETED for t in trials)
    assert any("tuner/trial_id" in t.values for t in trials)
    assert all(set(t.values) <= {"units", "lr", "tuner/epochs", "tuner/initial_epoch", "tuner/bracket", "tuner/round",
                                 "tuner/trial_id"} for t in trials)
    # A second tuner on the same project continues the study with the same scheduler.
    again = kt.ASHA(build_model, max_trials=18, **kwargs)
    assert again.oracle.make_sampler().get_config()["budget_model"] is True
    again.search(x, y, validation_data=(xv, yv), batch_size=50, verbose=0)
    assert len(again.oracle.study.trials) == 18
