"""Tune training too: a HyperModel whose `fit` chooses the batch size and whether to shuffle,
as in KerasTuner's guide (CIFAR-10 with internet; any image data set works)."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import keras  # noqa: E402

import hyperknob as kt  # noqa: E402


def load_data():
    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    return (x_train[:10000] / 255.0, y_train[:10000]), (x_test[:2000] / 255.0, y_test[:2000])


class MyHyperModel(kt.HyperModel):
    def build(self, hp):
        model = keras.Sequential([
            keras.layers.Flatten(),
            keras.layers.Dense(hp.Int("units", 32, 256, step=32), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def fit(self, hp, model, *args, **kwargs):
        return model.fit(*args, batch_size=hp.Choice("batch_size", [16, 32, 64]),
                         shuffle=hp.Boolean("shuffle"), **kwargs)


def main(data=None, max_trials: int = 5, epochs: int = 3, directory: str = "runs") -> kt.RandomSearch:
    (x_train, y_train), (x_val, y_val) = data or load_data()
    tuner = kt.RandomSearch(MyHyperModel(), objective="val_accuracy", max_trials=max_trials,
                            directory=directory, project_name="tuned_fit")
    tuner.search(x_train, y_train, epochs=epochs, validation_data=(x_val, y_val), verbose=0)
    tuner.results_summary(2)
    return tuner


if __name__ == "__main__":
    main()
