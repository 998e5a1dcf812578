"""The main job: tune a classifier on the digits that ship with scikit-learn, into an SQLite study
under ./runs/hello_world, then show the results.

The script has KerasTuner's shape (``build(hp)`` returns a model whose ``fit`` returns a History)
so the Keras "hello world" can replace the model without touching the search code. The model here
is a numpy softmax regression with one hidden layer, so the example runs in seconds on any CPU.
Run it twice: the second run resumes the stored study and runs nothing new.
"""

from __future__ import annotations

import argparse
import types

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import hyperknob as kt


class NumpyMLP:
    """One hidden ReLU layer and a softmax output, trained by mini-batch SGD with momentum."""

    def __init__(self, units: int, learning_rate: float, l2: float, seed: int = 0) -> None:
        self.units, self.learning_rate, self.l2 = units, learning_rate, l2
        self.rng = np.random.default_rng(seed)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = np.maximum(x @ self.w1 + self.b1, 0.0)
        logits = h @ self.w2 + self.b2
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return h, p / p.sum(axis=1, keepdims=True)

    def _metrics(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        _, p = self._forward(x)
        loss = float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())
        return loss, float((p.argmax(axis=1) == y).mean())

    def fit(self, x, y, epochs=10, batch_size=32, validation_data=None, verbose=0):
        n_in, n_out = x.shape[1], int(y.max()) + 1
        self.w1 = self.rng.normal(0, np.sqrt(2 / n_in), (n_in, self.units))
        self.b1 = np.zeros(self.units)
        self.w2 = self.rng.normal(0, np.sqrt(1 / self.units), (self.units, n_out))
        self.b2 = np.zeros(n_out)
        velocity = [np.zeros_like(a) for a in (self.w1, self.b1, self.w2, self.b2)]
        history: dict[str, list[float]] = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
        for _ in range(epochs):
            order = self.rng.permutation(len(x))
            for start in range(0, len(x), batch_size):
                idx = order[start : start + batch_size]
                xb, yb = x[idx], y[idx]
                h, p = self._forward(xb)
                p[np.arange(len(yb)), yb] -= 1.0
                g_logits = p / len(yb)
                grads = [None, None, h.T @ g_logits + self.l2 * self.w2, g_logits.sum(axis=0)]
                g_h = (g_logits @ self.w2.T) * (h > 0)
                grads[0] = xb.T @ g_h + self.l2 * self.w1
                grads[1] = g_h.sum(axis=0)
                for v, g, param in zip(velocity, grads, (self.w1, self.b1, self.w2, self.b2)):
                    v *= 0.9
                    v -= self.learning_rate * g
                    param += v
            for prefix, (xs, ys) in (("", (x, y)), ("val_", validation_data)):
                loss, acc = self._metrics(xs, ys)
                history[prefix + "loss"].append(loss)
                history[prefix + "accuracy"].append(acc)
        return types.SimpleNamespace(history=history, epoch=list(range(epochs)))


def build_model(hp: kt.HyperParameters) -> NumpyMLP:
    return NumpyMLP(
        units=hp.Int("units", min_value=16, max_value=128, step=16),
        learning_rate=hp.Float("learning_rate", min_value=1e-3, max_value=3e-1, sampling="log"),
        l2=hp.Choice("l2", [0.0, 1e-4, 1e-3]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--directory", default="runs")
    parser.add_argument("--overwrite", action="store_true", help="start a fresh study instead of resuming")
    args = parser.parse_args()

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float64)
    x_train, x_val, y_train, y_val = train_test_split(x, digits.target, test_size=0.25, random_state=0)

    tuner = kt.RandomSearch(
        hypermodel=build_model,
        objective="val_accuracy",
        max_trials=args.max_trials,
        seed=0,
        directory=args.directory,
        project_name="hello_world",
        overwrite=args.overwrite,
    )
    tuner.search_space_summary()
    tuner.search(x_train, y_train, epochs=args.epochs, validation_data=(x_val, y_val))
    tuner.results_summary(3)
    best = tuner.get_best_hyperparameters(1)[0]
    print(f"\nBest hyperparameters: {best.values}")


if __name__ == "__main__":
    main()
