"""The models users really tune, searched under keras_tuner and under hyperknob (#19).

Image models with Conv2D / BatchNormalization / MaxPooling and tuned and fixed Dropout, noise and
augmentation layers, Embedding + LSTM / GRU text models, a functional model with two inputs, a
subclassed ``keras.Model``, ``keras.utils.PyDataset`` (and ``tf.data`` on TensorFlow) inputs,
class weights, a custom metric as the objective (``val_auc``), mixed precision. Each search runs
under both libraries; the facts the user sees must agree, and the best model must reproduce its
score.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("keras_tuner")

from keras import layers  # noqa: E402

LIBRARIES = ("keras_tuner", "hyperknob")


def search_both(tmp_path, build, objective, x, y, validation, max_trials=2, libraries=LIBRARIES, **fit):
    facts = {}
    for name in libraries:
        kt = importlib.import_module(name)
        obj = kt.Objective(*objective) if isinstance(objective, tuple) else objective
        tuner = kt.RandomSearch(build, objective=obj, max_trials=max_trials, seed=1, overwrite=True,
                                directory=str(tmp_path / name), project_name="p")
        tuner.search(x, y, epochs=2, validation_data=validation, verbose=0, **fit)
        trials = list(tuner.oracle.trials.values())
        best = tuner.oracle.get_best_trials(1)[0]
        model = tuner.get_best_models(1)[0]
        metric = (objective[0] if isinstance(objective, tuple) else objective)[4:]
        reproduced = model.evaluate(*validation, verbose=0, return_dict=True)[metric]
        facts[name] = {
            "statuses": sorted(str(t.status) for t in trials),
            "space": sorted(p.name for p in tuner.oracle.get_space().space),
            "reproduces": bool(np.isclose(reproduced, best.score, rtol=1e-4, atol=1e-6)),
        }
    # hyperknob declares every conditional branch before the first trial; keras_tuner adds
    # those it meets, so its space is a part of hyperknob's.
    hk_space = facts["hyperknob"].pop("space")
    if "keras_tuner" in facts:
        assert set(facts["keras_tuner"].pop("space")) <= set(hk_space)
    if "keras_tuner" in facts:
        assert facts["hyperknob"] == facts["keras_tuner"]
    assert facts["hyperknob"]["statuses"] == ["COMPLETED"] * max_trials
    assert facts["hyperknob"]["reproduces"]
    return facts["hyperknob"]


def image_data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 16, 16, 3)).astype("float32")
    return x, (x[:, :8].mean(axis=(1, 2, 3)) > x[:, 8:].mean(axis=(1, 2, 3))).astype("int64")


def test_conv_batchnorm_pooling_with_fixed_and_tuned_dropout_noise_and_augmentation(tmp_path):
    def build(hp):
        model = keras.Sequential([
            keras.Input((16, 16, 3)),
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(0.05),
            layers.GaussianNoise(0.05),
        ])
        for i in range(hp.Int("blocks", 1, 2)):
            model.add(layers.Conv2D(hp.Choice(f"filters_{i}", [4, 8]), 3, padding="same", use_bias=False))
            model.add(layers.BatchNormalization())
            model.add(layers.Activation("relu"))
            model.add(layers.MaxPooling2D())
            model.add(layers.Dropout(0.25))
        model.add(layers.Flatten())
        model.add(layers.Dropout(hp.Float("dropout", 0.0, 0.5, step=0.25)))
        model.add(layers.Dense(2, activation="softmax"))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    x, y = image_data()
    search_both(tmp_path, build, "val_accuracy", x[:16], y[:16], (x[16:], y[16:]))


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_embedding_and_recurrent_text_model(tmp_path, cell):
    rng = np.random.default_rng(0)
    x = rng.integers(1, 50, (32, 12))
    y = (x[:, 0] > 25).astype("int64")

    def build(hp):
        model = keras.Sequential([
            keras.Input((12,), dtype="int32"),
            layers.Embedding(50, hp.Choice("embedding_dim", [8, 16])),
            getattr(layers, cell)(hp.Int("rnn_units", 4, 8, step=4)),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2, sampling="log")),
                      loss="binary_crossentropy", metrics=["accuracy"])
        return model

    search_both(tmp_path, build, "val_loss", x[:24], y[:24], (x[24:], y[24:]))


def test_functional_model_with_two_inputs(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.random((32, 6)).astype("float32"), rng.random((32, 3)).astype("float32")
    y = (a.sum(1) + b.sum(1)).astype("float32")

    def build(hp):
        left, right = keras.Input((6,), name="left"), keras.Input((3,), name="right")
        merged = layers.concatenate([layers.Dense(hp.Int("left_units", 4, 8, step=4), activation="relu")(left),
                                     layers.Dense(4, activation="relu")(right)])
        out = layers.Dense(1)(layers.Dropout(0.1)(merged))
        model = keras.Model([left, right], out)
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        return model

    search_both(tmp_path, build, "val_mae", [a[:24], b[:24]], y[:24], ([a[24:], b[24:]], y[24:]))


@keras.saving.register_keras_serializable(package="tests")
class TwoLayer(keras.Model):
    def __init__(self, units=8, rate=0.2, **kwargs):
        super().__init__(**kwargs)
        self.units, self.rate = units, rate
        self.hidden = layers.Dense(units, activation="relu")
        self.drop = layers.Dropout(rate)
        self.out = layers.Dense(2, activation="softmax")

    def call(self, inputs, training=False):
        return self.out(self.drop(self.hidden(inputs), training=training))


def test_subclassed_model(tmp_path):
    """keras_tuner's get_best_models() fails here ("loading weights into a model that has not yet
    been built": a subclassed model has no build config); hyperknob stores its inputs' shapes."""
    rng = np.random.default_rng(0)
    x = rng.random((32, 5)).astype("float32")
    y = (x[:, 0] > 0.5).astype("int64")

    def build(hp):
        model = TwoLayer(units=hp.Int("units", 4, 16, step=4), rate=0.2)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    search_both(tmp_path, build, "val_accuracy", x[:24], y[:24], (x[24:], y[24:]), libraries=("hyperknob",))


class Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]


def small_classifier(hp):
    model = keras.Sequential([keras.Input((5,)), layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu"),
                              layers.Dropout(0.25), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=[keras.metrics.AUC(name="auc"), "accuracy"])
    return model


def classification_data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 5)).astype("float32")
    return x, (x[:, 0] + 0.1 * rng.random(n) > 0.6).astype("float32")


def test_pydataset_inputs_with_class_weights_and_auc_objective(tmp_path):
    x, y = classification_data()
    search_both(tmp_path, small_classifier, ("val_auc", "max"), Batches(x[:32], y[:32], 8), None,
                (x[32:], y[32:]), class_weight={0: 1.0, 1: 3.0})


@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="tf.data needs the TensorFlow backend")
def test_tf_data_inputs(tmp_path):
    import tensorflow as tf

    x, y = classification_data()
    train = tf.data.Dataset.from_tensor_slices((x[:32], y[:32])).batch(8)
    search_both(tmp_path, small_classifier, ("val_auc", "max"), train, None, (x[32:], y[32:]))


def test_mixed_precision(tmp_path):
    """``mixed_float16`` on backends whose CPU kernels have it; ``mixed_bfloat16`` otherwise."""
    policy = "mixed_bfloat16"
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        x, y = classification_data()

        def build(hp):
            model = keras.Sequential([keras.Input((5,)), layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu"),
                                      layers.Dense(1, activation="sigmoid", dtype="float32")])
            model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
            return model

        search_both(tmp_path, build, "val_loss", x[:32], y[:32], (x[32:], y[32:]))
    finally:
        keras.config.set_dtype_policy(previous)
