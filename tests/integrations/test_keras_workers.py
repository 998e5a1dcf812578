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


FORKS = keras.config.backend() == "torch"
FRAMEWORK = {"jax": "JAX", "tensorflow": "TensorFlow"}.get(keras.config.backend(), "")


@pytest.mark.skipif(FORKS, reason="PyTorch works in forked workers")
def test_jax_and_tensorflow_refuse_forked_workers_with_a_clear_error(tmp_path):
    """JAX's and TensorFlow's thread pools do not survive a fork: the workers would hang at their
    first operation (seen: a search with n_workers=2 on either backend never finished)."""
    digits = load_digits()
    x, y = (digits.data[:60] / 16.0).astype("float32"), digits.target[:60]
    tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=2, seed=0,
                            directory=str(tmp_path), project_name="w")
    with pytest.raises(kt.errors.FatalRuntimeError, match=f"{FRAMEWORK} does not work in forked processes"):
        tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0, n_workers=2)
    assert tuner.oracle.study.trials == []  # nothing was started, nothing is left RUNNING
    tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0)  # one process still searches
    assert [t.status for t in tuner.oracle.study.trials] == ["COMPLETED", "COMPLETED"]


@pytest.mark.skipif(not FORKS, reason="JAX and TensorFlow cannot run in forked workers")
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


def _device_scopes():
    from keras.src.backend.common import global_state

    return {name: global_state.get_global_attribute(name) for name in ("torch_device", "jax_device", "tf_device")}


@pytest.mark.skipif(keras.config.backend() != "torch", reason="the GPU default device is simulated on torch")
def test_the_space_is_declared_with_models_on_the_cpu_where_keras_would_use_a_gpu(tmp_path, monkeypatch):
    """The parent of forked GPU workers must not touch the GPU: where Keras's default device is a
    GPU (simulated: torch's default device set to "cuda"), its declaration builds run under
    Keras's CPU scope."""
    from keras.src.backend.torch import core

    monkeypatch.setattr(core, "DEFAULT_DEVICE", "cuda")
    scopes = []

    def build(hp):
        scopes.append(_device_scopes())
        return build_model(hp)

    kt.RandomSearch(build, objective="val_accuracy", max_trials=1, seed=0, directory=str(tmp_path), project_name="cpu")
    assert len(scopes) >= 1
    assert all(s["torch_device"] is not None and str(s["torch_device"]) == "cpu" for s in scopes)


def test_on_a_cpu_machine_no_build_is_scoped(tmp_path):
    """Where Keras builds on the CPU anyway, neither the declaration builds nor the trials' builds
    run under a device scope: layers build exactly as in the user's own script."""
    scopes = []

    def build(hp):
        scopes.append(_device_scopes())
        return build_model(hp)

    tuner = kt.RandomSearch(build, objective="val_accuracy", max_trials=1, seed=0,
                            directory=str(tmp_path), project_name="cpu")
    declared = len(scopes)
    digits = load_digits()
    x, y = (digits.data[:100] / 16.0).astype("float32"), digits.target[:100]
    tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
    assert len(scopes) > declared >= 1
    assert all(v is None for s in scopes for v in s.values())
