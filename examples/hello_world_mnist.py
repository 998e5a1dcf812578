"""The KerasTuner "hello world" on MNIST, as in KerasTuner's guide (needs internet for the data).

Ported by changing one line: `import keras_tuner as kt` -> `import hyperknob as kt`.
`examples/hello_world.py` is the same search on data that ships with scikit-learn.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import keras  # noqa: E402

import hyperknob as kt  # noqa: E402


def load_data():
    """MNIST from keras.datasets (downloads on first use), scaled to [0, 1]."""
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return (x_train / 255.0, y_train), (x_test / 255.0, y_test)


def build_model(hp):
    model = keras.Sequential()
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(units=hp.Int("units", min_value=32, max_value=512, step=32), activation="relu"))
    model.add(keras.layers.Dropout(rate=hp.Float("dropout", 0.0, 0.5, step=0.1)))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main(data=None, max_trials: int = 10, epochs: int = 5, directory: str = "runs") -> kt.RandomSearch:
    (x_train, y_train), (x_test, y_test) = data or load_data()
    tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=max_trials,
                            directory=directory, project_name="mnist_hello_world")
    stop_early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)
    tuner.search(x_train, y_train, epochs=epochs, validation_split=0.2, callbacks=[stop_early], verbose=0)
    tuner.results_summary(3)
    best_model = tuner.get_best_models(1)[0]
    print("test accuracy of the best model:", best_model.evaluate(x_test, y_test, verbose=0)[1])
    return tuner


if __name__ == "__main__":
    main()
