"""Tune the depth of a network with a loop over `hp.Int`, as in KerasTuner's guide (Fashion-MNIST).

Each layer's width is its own hyperparameter (`units_0`, `units_1`, ...); the ones beyond the chosen
depth are simply never declared in that trial.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import keras  # noqa: E402

import hyperknob as kt  # noqa: E402


def load_data():
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    return (x_train / 255.0, y_train), (x_test / 255.0, y_test)


def build_model(hp):
    model = keras.Sequential([keras.layers.Flatten()])
    for i in range(hp.Int("num_layers", 1, 3)):
        model.add(keras.layers.Dense(units=hp.Int(f"units_{i}", min_value=32, max_value=256, step=32),
                                     activation=hp.Choice("activation", ["relu", "tanh"])))
    if hp.Boolean("dropout"):
        model.add(keras.layers.Dropout(rate=0.25))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(data=None, max_trials: int = 10, epochs: int = 3, directory: str = "runs") -> kt.RandomSearch:
    (x_train, y_train), (x_val, y_val) = data or load_data()
    tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=max_trials,
                            executions_per_trial=1, directory=directory, project_name="tune_depth")
    tuner.search_space_summary()
    tuner.search(x_train, y_train, epochs=epochs, validation_data=(x_val, y_val), verbose=0)
    tuner.results_summary(2)
    return tuner


if __name__ == "__main__":
    main()
