"""The KerasTuner "hello world", run as hyperknob's main job.

A dense network on the 8x8 handwritten digits that ship with scikit-learn: the number of units and
the learning rate are tuned by random search for validation accuracy, with early stopping, and the
dropout is fixed at 0.2 as in the TensorFlow tutorial (a fixed-rate Dropout once failed on PyTorch,
so the main job itself guards it); the study is an SQLite file under runs/hello_world. Then the results are summarised, the
best model's saved weights are re-evaluated, and the best configuration is retrained from scratch.

Ported from KerasTuner by changing one line: `import keras_tuner as kt` -> `import hyperknob as kt`;
one hyperknob addition, `display=True`, shows the search's live panel while Keras itself is quiet.
With internet access, `examples/hello_world_mnist.py` is the same search on keras.datasets.mnist.
"""

from __future__ import annotations

import argparse
import os

# One thread per process is the robust setting on small shared machines (see README); respect a
# choice the user made in the environment.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import hyperknob as kt  # noqa: E402  (was: import keras_tuner as kt)


def build_model(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(hp.Int("units", min_value=16, max_value=512, step=16), activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", min_value=1e-4, max_value=1e-2, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def load_data() -> tuple[np.ndarray, ...]:
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    return tuple(train_test_split(x, digits.target, test_size=0.25, random_state=0, stratify=digits.target))


def main() -> None:
    parser = argparse.ArgumentParser(description="Tune the KerasTuner hello-world model on scikit-learn's digits.")
    parser.add_argument("--max-trials", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--directory", default="runs")
    parser.add_argument("--overwrite", action="store_true", help="start a fresh study instead of resuming")
    args = parser.parse_args()
    if os.environ.get("KERAS_BACKEND") == "torch":
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

    x_train, x_val, y_train, y_val = load_data()
    tuner = kt.RandomSearch(
        build_model,
        objective="val_accuracy",
        max_trials=args.max_trials,
        seed=1,
        directory=args.directory,
        project_name="hello_world",
        overwrite=args.overwrite,
    )
    tuner.search_space_summary()
    stop_early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)
    tuner.search(x_train, y_train, epochs=args.epochs, validation_data=(x_val, y_val), callbacks=[stop_early], verbose=0,
                 display=True)  # Keras quiet, hyperknob's live panel on (KerasTuner: verbose decides both)
    tuner.results_summary(3)

    best_hp = tuner.get_best_hyperparameters(1)[0]
    best_model = tuner.get_best_models(1)[0]  # the best trial's weights, as saved at its best epoch
    _, saved_accuracy = best_model.evaluate(x_val, y_val, verbose=0)
    print(f"\nBest hyperparameters: {best_hp.values}")
    print(f"Saved best model, re-evaluated: val_accuracy={saved_accuracy:.4f}")

    # The retrain path: a fresh model from the best hyperparameters, trained again.
    model = tuner.hypermodel.build(best_hp)
    history = model.fit(x_train, y_train, epochs=args.epochs, validation_data=(x_val, y_val), callbacks=[stop_early], verbose=0)
    print(f"Retrained from scratch: best val_accuracy={max(history.history['val_accuracy']):.4f} "
          f"after {len(history.history['val_accuracy'])} epochs")
    project = os.path.join(args.directory, "hello_world")
    print("\nLook further:")
    print(f"  hyperknob trials {project}          # every trial as a table")
    print(f"  hyperknob importance {project}      # which hyperparameters mattered, and what to change")
    print(f"  hyperknob report {project} -o report.html   # one page with the charts, offline")


if __name__ == "__main__":
    main()
