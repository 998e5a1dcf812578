"""Tune anything: override `run_trial` and return the objective, as in KerasTuner's guide.

Here the trial trains with its own loop (a plain `train_on_batch` loop over a `keras.Model`) and
returns the final validation loss; without an objective, the returned float is minimised.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import hyperknob as kt  # noqa: E402


def load_data():
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return (x_train[:10000] / 255.0, y_train[:10000]), (x_test[:2000] / 255.0, y_test[:2000])


class MyTuner(kt.RandomSearch):
    def run_trial(self, trial, x, y, validation_data, epochs=2):
        hp = trial.hyperparameters
        model = keras.Sequential([
            keras.layers.Flatten(),
            keras.layers.Dense(hp.Int("units", 32, 128, step=32), activation="relu"),
            keras.layers.Dense(10),
        ])
        model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log")),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        batch_size = hp.Choice("batch_size", [32, 64])
        for _ in range(epochs):
            order = np.random.permutation(len(x))
            for start in range(0, len(x), batch_size):
                idx = order[start : start + batch_size]
                model.train_on_batch(x[idx], y[idx])
        return float(model.evaluate(*validation_data, verbose=0))


def main(data=None, max_trials: int = 5, epochs: int = 2, directory: str = "runs") -> MyTuner:
    (x_train, y_train), (x_val, y_val) = data or load_data()
    tuner = MyTuner(max_trials=max_trials, directory=directory, project_name="custom_run_trial")
    tuner.search(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs)
    tuner.results_summary(2)
    return tuner


if __name__ == "__main__":
    main()
