"""A Keras search in two forked worker processes: each trains its own models, the study is shared."""

from __future__ import annotations

import os

import pytest

keras = pytest.importorskip("keras")
from sklearn.datasets import load_digits  # noqa: E402

import hyperknob as kt  # noqa: E402


def build_model(hp):
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(hp.Int("units", 8, 32, step=8), activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_keras_search_in_two_workers(tmp_path):
    digits = load_digits()
    x = (digits.data[:300] / 16.0).astype("float32")
    y = digits.target[:300]
    tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=4, seed=0,
                            directory=str(tmp_path), project_name="w")
    tuner.search(x[:200], y[:200], epochs=2, validation_data=(x[200:], y[200:]), verbose=0, n_workers=2)
    trials = tuner.oracle.study.trials
    assert len(trials) == 4 and all(t.status == "COMPLETED" for t in trials)
    assert os.getpid() not in {int(t.worker.rsplit(":", 2)[1]) for t in trials}
    best = tuner.oracle.get_best_trials(1)[0]
    model = tuner.get_best_models(1)[0]  # saved by a worker, loaded here
    assert model.evaluate(x[200:], y[200:], verbose=0)[1] == pytest.approx(best.score, abs=1e-6)


def test_the_space_is_declared_with_models_on_the_cpu(tmp_path):
    """The parent of forked GPU workers must not touch the GPU: its declaration builds run under
    Keras's CPU scope, trial builds do not."""
    from keras.src.backend.common import global_state

    scopes = []

    def build(hp):
        scopes.append({name: global_state.get_global_attribute(name)
                       for name in ("torch_device", "jax_device", "tf_device")})
        return build_model(hp)

    tuner = kt.RandomSearch(build, objective="val_accuracy", max_trials=1, seed=0,
                            directory=str(tmp_path), project_name="cpu")
    declared = len(scopes)
    assert declared >= 1
    assert all(any(v is not None and "cpu" in str(v).lower() for v in s.values()) for s in scopes)
    digits = load_digits()
    x, y = (digits.data[:100] / 16.0).astype("float32"), digits.target[:100]
    tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
    assert len(scopes) > declared
    assert all(v is None for v in scopes[-1].values())
