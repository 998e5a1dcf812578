"""End to end with Keras (the README's backend) on tiny local data."""

from __future__ import annotations

import os

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from sklearn.datasets import load_digits  # noqa: E402

import hyperknob as kt  # noqa: E402


@pytest.fixture(scope="module")
def data():
    digits = load_digits()
    x = (digits.data[:300] / 16.0).astype("float32")
    y = digits.target[:300]
    return x[:200], y[:200], x[200:], y[200:]


def build_model(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("units", 8, 32, step=8), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


class CountingHyperModel(kt.HyperModel):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.fits = 0

    def build(self, hp):
        return build_model(hp)

    def fit(self, hp, model, *args, **kwargs):
        self.fits += 1
        return model.fit(*args, **kwargs)


def test_random_search_saves_best_epochs_and_best_models_reproduce_their_scores(tmp_path, data):
    x, y, xv, yv = data
    tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=3, seed=0,
                            directory=str(tmp_path), project_name="rs")
    tuner.search(x, y, epochs=3, validation_data=(xv, yv), verbose=0)
    trials = tuner.oracle.get_best_trials(3)
    assert [t.status for t in trials] == ["COMPLETED"] * 3
    for trial in trials:
        history = trial.metrics.get_history("val_accuracy")
        assert len(history) == 3  # every epoch was reported
        assert trial.score == max(o.mean() for o in history)
    models = tuner.get_best_models(2)
    for model, trial in zip(models, trials[:2], strict=True):
        _, accuracy = model.evaluate(xv, yv, verbose=0)
        assert accuracy == pytest.approx(trial.score, abs=1e-6)
        assert model.predict(xv[:5], verbose=0).shape == (5, 10)


def test_resume_skips_finished_trials_and_keeps_their_weights(tmp_path, data):
    x, y, xv, yv = data
    first = CountingHyperModel()
    tuner = kt.RandomSearch(first, objective="val_loss", max_trials=2, seed=0, directory=str(tmp_path), project_name="r")
    tuner.search(x, y, epochs=2, validation_data=(xv, yv), verbose=0)
    assert first.fits == 2
    again = CountingHyperModel()
    resumed = kt.RandomSearch(again, objective="val_loss", max_trials=4, seed=0, directory=str(tmp_path), project_name="r")
    resumed.search(x, y, epochs=2, validation_data=(xv, yv), verbose=0)
    assert again.fits == 2  # only the two missing trials trained
    assert len(resumed.oracle.trials) == 4
    for trial in resumed.oracle.get_best_trials(4):
        model = resumed.load_model(trial)
        loss = model.evaluate(xv, yv, verbose=0)[0]
        assert loss == pytest.approx(trial.score, rel=1e-5)


def test_failed_builds_are_recorded_with_their_traceback(tmp_path, data):
    x, y, xv, yv = data

    def flaky_build(hp):
        if hp.Int("units", 8, 32, step=8) == 16:
            raise ValueError("this width is not supported")
        return build_model(hp)

    tuner = kt.GridSearch(flaky_build, objective="val_accuracy", max_consecutive_failed_trials=None,
                          directory=str(tmp_path), project_name="f")
    tuner.search(x, y, epochs=1, validation_data=(xv, yv), verbose=0)
    failed = [t for t in tuner.oracle.trials.values() if t.status == "FAILED"]
    assert failed and all(t.hyperparameters["units"] == 16 for t in failed)
    assert "Traceback" in failed[0].message and "this width is not supported" in failed[0].message


def test_oversized_models_are_not_trained(tmp_path, data):
    x, y, xv, yv = data
    counting = CountingHyperModel()
    tuner = kt.GridSearch(counting, objective="val_accuracy", max_model_size=64 * 16 + 16 + 16 * 10 + 10,
                          max_consecutive_failed_trials=None, directory=str(tmp_path), project_name="m",
                          hyperparameters=_fixed_lr())
    tuner.search(x, y, epochs=1, validation_data=(xv, yv), verbose=0)
    by_units = {t.hyperparameters["units"]: t for t in tuner.oracle.trials.values()}
    assert by_units[8].status == by_units[16].status == "COMPLETED"
    assert by_units[24].status == by_units[32].status == "FAILED"
    assert "Oversized model" in by_units[32].message
    assert counting.fits == 2


def _fixed_lr():
    hps = kt.HyperParameters()
    hps.Fixed("lr", 0.005)
    return hps


def test_compile_overrides_executions_callbacks_and_hooks(tmp_path, data):
    x, y, xv, yv = data
    seen = {"epoch_end": 0, "batch_end": 0, "callbacks": [], "optimizers": set()}

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["callbacks"].append(self)  # the objects, kept alive: a freed copy's id() can be reused

    class Hooked(kt.RandomSearch):
        def on_epoch_end(self, trial, model, epoch, logs=None):
            seen["epoch_end"] += 1
            seen["optimizers"].add(type(model.optimizer).__name__)
            assert trial.metrics.get_history("val_loss")  # reported before the hook runs

        def on_batch_end(self, trial, model, batch, logs=None):
            seen["batch_end"] += 1

    original = Recorder()
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)  # stops after epoch 2
    tuner = Hooked(build_model, objective="val_loss", max_trials=2, executions_per_trial=2, seed=0,
                   optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                   directory=str(tmp_path), project_name="c")
    tuner.search(x, y, epochs=5, batch_size=50, validation_data=(xv, yv), callbacks=[original, stop], verbose=0)
    assert seen["optimizers"] == {"SGD"}
    assert seen["epoch_end"] == 2 * 2 * 2  # trials x executions x epochs before early stopping
    assert seen["batch_end"] == 2 * 2 * 2 * 4  # ... x 4 batches of 50
    assert len({id(c) for c in seen["callbacks"]}) == 4  # a fresh copy each run
    assert all(c is not original for c in seen["callbacks"])


def test_hypermodel_fit_can_tune_the_batch_size(tmp_path, data):
    x, y, xv, yv = data

    class Tuned(kt.HyperModel):
        def build(self, hp):
            return build_model(hp)

        def fit(self, hp, model, *args, **kwargs):
            return model.fit(*args, batch_size=hp.Choice("batch_size", [16, 64]), **kwargs)

    tuner = kt.RandomSearch(Tuned(), objective="val_accuracy", max_trials=3, directory=str(tmp_path), project_name="b")
    tuner.search(x, y, epochs=1, validation_data=(xv, yv), verbose=0)
    assert "batch_size" in [p.name for p in tuner.oracle.get_space().space]
    assert all("batch_size" in t.hyperparameters.values for t in tuner.oracle.trials.values())


def test_a_custom_training_loop_is_tracked_ranked_and_checkpointed(tmp_path, data):
    x, y, xv, yv = data

    class CustomLoop(kt.HyperModel):
        def build(self, hp):
            return build_model(hp)

        def fit(self, hp, model, x, y, validation_data, callbacks=None, **kwargs):
            for callback in callbacks:
                callback.set_model(model)
            best = float("inf")
            for epoch in range(3):
                model.fit(x, y, epochs=1, verbose=0)
                val_loss = float(model.evaluate(*validation_data, verbose=0)[0])
                for callback in callbacks:
                    callback.on_epoch_end(epoch, logs={"val_loss": val_loss})
                best = min(best, val_loss)
            return best

    tuner = kt.RandomSearch(CustomLoop(), objective="val_loss", max_trials=2, directory=str(tmp_path), project_name="l")
    tuner.search(x, y, validation_data=(xv, yv))
    best = tuner.oracle.get_best_trials(1)[0]
    assert len(best.metrics.get_history("val_loss")) == 3
    model = tuner.get_best_models(1)[0]
    assert model.evaluate(xv, yv, verbose=0)[0] == pytest.approx(best.score, rel=1e-5)


def test_an_objective_that_was_never_logged_lists_the_logged_metrics(tmp_path, data):
    x, y, xv, yv = data
    tuner = kt.RandomSearch(build_model, objective="val_auc", max_trials=1, directory=str(tmp_path), project_name="o")
    with pytest.raises(kt.errors.FatalError) as info:
        tuner.search(x, y, epochs=1, validation_data=(xv, yv), verbose=0)
    assert "val_auc" in str(info.value) and "val_accuracy" in str(info.value) and "val_loss" in str(info.value)


def test_memory_does_not_grow_across_trials(tmp_path, data):
    x, y, xv, yv = data
    rss = {}

    class Watch(kt.RandomSearch):
        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            rss[len(rss) + 1] = _current_rss_mib()

    tuner = Watch(build_model, objective="val_loss", max_trials=30, seed=0, directory=str(tmp_path), project_name="mem")
    tuner.search(x, y, epochs=1, batch_size=100, validation_data=(xv, yv), verbose=0)
    assert len(rss) == 30
    backend = keras.backend.backend()
    if backend == "tensorflow":
        pytest.skip("TensorFlow's own per-model state grows about 4 MiB per trial here, with or without a "
                    "full garbage collection (see docs/keras.md)")
    # MiB between trials 5 and 30; measured here: torch about 1.4, jax about 24 (then flat).
    limit = {"torch": 5, "jax": 40}.get(backend, 40)
    assert rss[30] - rss[5] < limit, rss


def _current_rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float(np.nan)


def test_user_model_checkpoint_takes_effect_and_tensorboard_gets_a_directory_per_trial(tmp_path, data):
    from hyperknob.integrations.keras.trial_runner import _copy_callbacks

    x, y, xv, yv = data
    saved = tmp_path / "user.weights.h5"
    checkpoint = keras.callbacks.ModelCheckpoint(str(saved), save_weights_only=True)
    tuner = kt.RandomSearch(build_model, objective="val_loss", max_trials=1, directory=str(tmp_path), project_name="u")
    tuner.search(x, y, epochs=1, validation_data=(xv, yv), callbacks=[checkpoint], verbose=0)
    assert saved.exists()

    trial = tuner.oracle.get_best_trials(1)[0]
    board = keras.callbacks.TensorBoard(log_dir=str(tmp_path / "logs"))
    copied = _copy_callbacks([board], tuner, trial, execution=0)
    assert copied[0] is not board and copied[0].log_dir == str(tmp_path / "logs" / trial.trial_id)
    # Without TensorFlow, Keras's TensorBoard cannot run: its copy is hyperknob's scalar writer.
    import importlib.util

    from hyperknob.integrations.keras.tensorboard import EpochScalars

    assert isinstance(copied[0], EpochScalars) == (importlib.util.find_spec("tensorflow") is None)
    assert board.log_dir == str(tmp_path / "logs")


def test_a_keras_search_starts_from_the_defaults_a_queued_model_and_an_earlier_study(tmp_path, data):
    x, y, xv, yv = data
    first = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=3, seed=0,
                            directory=str(tmp_path), project_name="v1")
    first.search(x, y, epochs=2, validation_data=(xv, yv), verbose=0)

    def build_v2(hp):  # the network changed: one more hyperparameter, a narrower range
        model = keras.Sequential([
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("units", 16, 32, step=8), activation="relu"),
            keras.layers.Dropout(hp.Float("dropout", 0.0, 0.3, default=0.1)),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2, sampling="log")),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    second = kt.BayesianOptimization(build_v2, objective="val_accuracy", max_trials=4, seed=0,
                                     directory=str(tmp_path), project_name="v2", enqueue_defaults=True,
                                     warm_start=[str(tmp_path / "v1")])
    second.oracle.enqueue_trial({"units": 32, "lr": 0.005, "dropout": 0.0})
    second.search(x, y, epochs=2, validation_data=(xv, yv), verbose=0)
    trials = second.study.trials
    assert len(trials) == 4 and all(t.status == kt.TrialStatus.COMPLETED for t in trials)
    assert dict(trials[0].values) == {"units": 16, "dropout": 0.1, "lr": 1e-3}
    assert dict(trials[1].values) == {"units": 32, "lr": 0.005, "dropout": 0.0}
    (summary,) = second.study.warm_start.summaries
    assert summary.trials == 3 and summary.added == ["dropout"] and summary.used == ["lr", "units"]
