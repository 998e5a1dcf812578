"""Regressions from KerasTuner scripts that failed after changing only their import line (#19).

Each test is the smallest form of a script a user really runs: the TensorFlow tutorial's fixed
``Dropout``, a custom oracle scoring the documented way, a ``HyperModel.fit`` returning a float
or a dict (keras-io's getting-started guide), a search where every trial failed.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import hyperknob as kt  # noqa: E402
from hyperknob.integrations.keras import devices  # noqa: E402


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.random((48, 8)).astype("float32")
    y = (x[:, 0] > 0.5).astype("int64")
    return x, y


def dense_model(hp, *extra_layers):
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu"),
            *extra_layers,
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# Layers that hold an integer variable (a seed generator) whatever their settings.
SEEDED_LAYERS = {
    "Dropout(0.25)": lambda: keras.layers.Dropout(0.25),
    "GaussianNoise": lambda: keras.layers.GaussianNoise(0.1),
    "GaussianDropout": lambda: keras.layers.GaussianDropout(0.1),
    "AlphaDropout": lambda: keras.layers.AlphaDropout(0.1),
}


@pytest.mark.parametrize("layer", sorted(SEEDED_LAYERS))
def test_fixed_rate_dropout_and_noise_layers_search_and_summarise(tmp_path, data, capsys, layer):
    x, y = data

    def build(hp):
        return dense_model(hp, SEEDED_LAYERS[layer]())

    tuner = kt.RandomSearch(build, objective="val_accuracy", max_trials=2, seed=1,
                            directory=str(tmp_path), project_name="p")
    tuner.search_space_summary()
    assert "units (Int)" in capsys.readouterr().out
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    statuses = [t.status for t in tuner.oracle.get_best_trials(2)]
    assert statuses == ["COMPLETED", "COMPLETED"]
    assert tuner.get_best_models(1)[0].predict(x[:2], verbose=0).shape == (2, 2)


def test_image_augmentation_layers_search(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((16, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 2, 16)

    def build(hp):
        model = keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                keras.layers.RandomFlip("horizontal"),
                keras.layers.RandomRotation(0.1),
                keras.layers.Conv2D(hp.Int("filters", 2, 4, step=2), 3, activation="relu"),
                keras.layers.Flatten(),
                keras.layers.Dense(2, activation="softmax"),
            ]
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = kt.RandomSearch(build, objective="val_accuracy", max_trials=1, directory=str(tmp_path), project_name="p")
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert [t.status for t in tuner.oracle.get_best_trials(1)] == ["COMPLETED"]


def test_declaration_scope_is_empty_on_a_cpu_machine():
    """On a CPU-only machine layers build exactly as in the user's script: no device scope."""
    import contextlib

    assert devices.default_device_is_cpu()
    assert isinstance(devices.declaration_scope(), contextlib.nullcontext)


@pytest.mark.skipif(keras.config.backend() != "torch", reason="the GPU default device is read from the torch backend")
def test_declaration_on_a_gpu_default_device_builds_seeded_layers_on_the_cpu(monkeypatch):
    """Where Keras would place variables on a GPU, the declaration builds go to the CPU, and
    integer variables (seed generators) still build. Simulated by making "cuda" the torch
    backend's default device: any variable created outside the scope would fail here."""
    from keras.src.backend.torch import core

    monkeypatch.setattr(core, "DEFAULT_DEVICE", "cuda")
    assert not devices.default_device_is_cpu()
    with devices.declaration_scope():
        model = dense_model(kt.HyperParameters(), keras.layers.Dropout(0.25), keras.layers.GaussianNoise(0.1))
    assert all(str(v.value.device) == "cpu" for v in model.variables)


class NegatedScoreOracle(kt.oracles.RandomSearchOracle):
    """The documented way to customise scoring: call the base, then adjust."""

    def score_trial(self, trial):
        super().score_trial(trial)
        trial.score = -trial.score


def test_custom_oracle_score_trial_calling_super_does_not_recurse(tmp_path):
    class T(kt.Tuner):
        def run_trial(self, trial, *args, **kwargs):
            return {"loss": trial.hyperparameters.Float("x", 0.0, 1.0)}

    oracle = NegatedScoreOracle(objective=kt.Objective("loss", "min"), max_trials=4, seed=3)
    tuner = T(oracle=oracle, directory=str(tmp_path), project_name="p")
    tuner.search()
    trials = tuner.oracle.get_best_trials(4)
    assert len(trials) == 4
    for trial in trials:
        assert trial.score == pytest.approx(-trial.hyperparameters.values["x"])
    # Minimising the negated loss ranks the largest x first.
    assert trials[0].hyperparameters.values["x"] == max(t.hyperparameters.values["x"] for t in trials)


class ReturnsFloat(kt.HyperModel):
    """keras-io's getting-started guide: evaluate in ``fit`` and return the value to minimise."""

    def build(self, hp):
        return dense_model(hp)

    def fit(self, hp, model, x, y, validation_data, **kwargs):
        model.fit(x, y, **kwargs)
        x_val, y_val = validation_data
        return float(model.evaluate(x_val, y_val, verbose=0)[0])


class ReturnsDict(ReturnsFloat):
    def fit(self, hp, model, x, y, validation_data, **kwargs):
        model.fit(x, y, **kwargs)
        loss, accuracy = model.evaluate(*validation_data, verbose=0)
        return {"metric_a": -float(loss), "metric_b": float(accuracy)}


class DropsCallbacks(ReturnsFloat):
    """A fit that never passes the tuner's callbacks on: the trained model is still kept."""

    def fit(self, hp, model, x, y, validation_data, **kwargs):
        model.fit(x, y, epochs=1, verbose=0)
        return float(model.evaluate(*validation_data, verbose=0)[0])


@pytest.mark.parametrize(
    "hypermodel, objective",
    [(ReturnsFloat, None), (ReturnsDict, kt.Objective("metric_a", "max")), (DropsCallbacks, None)],
    ids=["float", "dict", "callbacks-dropped"],
)
def test_best_models_load_when_fit_returns_the_objective(tmp_path, data, hypermodel, objective):
    x, y = data
    tuner = kt.RandomSearch(hypermodel(), objective=objective, max_trials=2, seed=0,
                            directory=str(tmp_path), project_name="p")
    tuner.search(x[:32], y[:32], epochs=2, validation_data=(x[32:], y[32:]), verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    model = tuner.get_best_models(1)[0]
    # The loaded model is the trained one: it reproduces the score its fit returned.
    loss, accuracy = model.evaluate(x[32:], y[32:], verbose=0)
    expected = -loss if objective is not None else loss
    assert best.score == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_nothing_failed_is_offered_as_best(tmp_path, capsys):
    """``search(epochs=1)`` without data: every trial fails; no door offers one as the best."""

    def build(hp):
        return dense_model(hp)

    tuner = kt.RandomSearch(build, objective="val_accuracy", max_trials=2, directory=str(tmp_path), project_name="p")
    tuner.search(epochs=1, verbose=0)
    assert all(t.status == "FAILED" for t in tuner.oracle.trials.values())
    assert len(tuner.oracle.trials) == 2
    assert tuner.get_best_hyperparameters() == []
    assert tuner.get_best_hyperparameters(5) == []
    assert tuner.oracle.get_best_trials(3) == []
    assert tuner.get_best_models(2) == []
    capsys.readouterr()
    tuner.results_summary()
    out = capsys.readouterr().out
    assert "units" not in out and "Trial 0" not in out
