"""Problems of benchmarks/multifidelity.py: two real Keras trainings with epochs as the budget, and
a synthetic learning-curve benchmark on an injected clock.

* ``digits``: the KerasTuner hello world (examples/hello_world.py): Input(64) -> Dense(units, relu)
  -> Dropout(dropout) -> Dense(10, softmax), Adam(learning_rate), on scikit-learn's load_digits
  (/16, 75/25 stratified split, random_state=0), validation accuracy, batch size 32.
* ``mnist1d``: a deeper variant on MNIST-1D (``mnist1d.data.make_dataset()`` with its default
  arguments: 4000 training and 1000 validation sequences of length 40, generated locally from
  templates with a fixed seed; nothing is downloaded): 1-4 hidden Dense(units, relu) +
  Dropout(dropout) layers, Adam(learning_rate), batch size 64.
* ``mnist1d_hello``: the hello-world network of ``digits`` on that MNIST-1D data, batch size 32:
  the setting in which the issue measured keras-tuner's Hyperband (about 215 epochs to reach
  about 0.65).
* ``synthetic``: learning curves of the hello-world search space made up from a formula (below):
  configurations differ in how high they end and how fast they get there, fast learners plateau
  lower, bigger networks are slower per epoch, and each (configuration, epoch) has a fixed,
  reproducible measurement noise. An epoch costs ``epoch_time`` simulated seconds.

Imported by the benchmark's child processes only (it imports nothing heavy at module level).
"""
from __future__ import annotations

import dataclasses
import math
import zlib

__all__ = ["PROBLEMS", "Problem", "declare", "suggest_optuna", "build_keras", "load_data",
           "synthetic_accuracy", "synthetic_epoch_time", "synthetic_space"]


@dataclasses.dataclass(frozen=True)
class Problem:
    name: str
    kind: str  # "keras" or "synthetic"
    deep: bool
    batch_size: int
    note: str


PROBLEMS = {
    "digits": Problem("digits", "keras", False, 32,
                      "KerasTuner hello world (units, dropout, learning_rate) on sklearn digits, "
                      "1347 train / 450 validation, batch 32"),
    "mnist1d": Problem("mnist1d", "keras", True, 64,
                       "1-4 hidden Dense layers (num_layers, units, dropout, learning_rate) on "
                       "MNIST-1D (make_dataset() defaults), 4000 train / 1000 validation, batch 64"),
    "mnist1d_hello": Problem("mnist1d_hello", "keras", False, 32,
                             "KerasTuner hello world (units, dropout, learning_rate) on MNIST-1D "
                             "(make_dataset() defaults), 4000 train / 1000 validation, batch 32"),
    "synthetic": Problem("synthetic", "synthetic", False, 0,
                         "formula learning curves over the hello-world space, epoch time "
                         "0.5 + 1.5 * units/512 simulated seconds"),
}

# (kind, name, args...) in declaration order; num_layers only for the deep variant.
_SPACE = [
    ("int", "num_layers", 1, 4, 1),
    ("int", "units", 16, 512, 16),
    ("float", "dropout", 0.0, 0.5, 0.1, False),
    ("float", "learning_rate", 1e-4, 1e-2, None, True),
]


def _specs(deep: bool):
    return [s for s in _SPACE if deep or s[1] != "num_layers"]


def declare(hp, deep: bool) -> dict:
    """Declares the space on a KerasTuner-shaped HyperParameters (keras_tuner's or hyperknob's)."""
    out = {}
    for spec in _specs(deep):
        if spec[0] == "int":
            _, name, lo, hi, step = spec
            out[name] = hp.Int(name, lo, hi, step=step)
        else:
            _, name, lo, hi, step, logscale = spec
            kw = {"sampling": "log"} if logscale else {"step": step}
            out[name] = hp.Float(name, lo, hi, **kw)
    return out


def suggest_optuna(trial, deep: bool) -> dict:
    out = {}
    for spec in _specs(deep):
        if spec[0] == "int":
            _, name, lo, hi, step = spec
            out[name] = trial.suggest_int(name, lo, hi, step=step)
        else:
            _, name, lo, hi, step, logscale = spec
            out[name] = (trial.suggest_float(name, lo, hi, log=True) if logscale
                         else trial.suggest_float(name, lo, hi, step=step))
    return out


def synthetic_space():
    """The synthetic problem's space as hyperknob parameter definitions (for ``simulate``)."""
    from hyperknob.space.parameters import Float, Int

    return [Int("units", 16, 512, step=16), Float("dropout", 0.0, 0.5, step=0.1),
            Float("learning_rate", 1e-4, 1e-2, sampling="log")]


# --------------------------------------------------------------------------- keras

def build_keras(values: dict, deep: bool, input_dim: int):
    import keras

    layers = [keras.Input(shape=(input_dim,))]
    for _ in range(values.get("num_layers", 1) if deep else 1):
        layers.append(keras.layers.Dense(values["units"], activation="relu"))
        layers.append(keras.layers.Dropout(values["dropout"]))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(values["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def load_data(name: str):
    """(x_train, y_train, x_val, y_val) as float32/int32 numpy arrays; generated locally."""
    import numpy as np

    if name == "digits":
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        digits = load_digits()
        x = (digits.data / 16.0).astype("float32")
        x_tr, x_val, y_tr, y_val = train_test_split(x, digits.target, test_size=0.25, random_state=0,
                                                    stratify=digits.target)
    elif name in ("mnist1d", "mnist1d_hello"):
        from mnist1d.data import make_dataset  # generation only; get_dataset() would download

        state = np.random.get_state()  # make_dataset seeds numpy's global generator
        data = make_dataset()
        np.random.set_state(state)
        x_tr, y_tr, x_val, y_val = data["x"], data["y"], data["x_test"], data["y_test"]
    else:
        raise ValueError(f"no data for problem {name!r}")
    return (np.asarray(x_tr, "float32"), np.asarray(y_tr, "int32"),
            np.asarray(x_val, "float32"), np.asarray(y_val, "int32"))


# --------------------------------------------------------------------------- synthetic

def _noise(values: dict, epoch: int) -> float:
    """A fixed N(0, 1)-like draw per (configuration, epoch): the same trial re-trained or
    continued sees the same validation measurement."""
    key = f"{int(values['units'])}|{float(values['dropout']):.4f}|{float(values['learning_rate']):.9e}|{epoch}"
    h = zlib.crc32(key.encode())
    u1 = (h & 0xFFFF) / 65536.0 + 1e-9
    u2 = (h >> 16) / 65536.0
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def synthetic_accuracy(values: dict, epoch: int) -> float:
    """Validation accuracy after ``epoch`` (>= 1) epochs.

    A(cfg) = 0.955 - 0.05 (log10 lr + 2.9)^2 + 0.02 log2(units/16)/5 + 0.05 d u - 0.08 d^2
    k(cfg) = 10^(log10 lr + 2) (0.5 + 0.5 u) (1 - 0.6 d)       (u = units/512, d = dropout)
    acc(e) = A - (A - 0.1) exp(-3 k e^0.8) - 0.0015 e max(0, log10 lr + 2.6)  + 0.004 noise
    """
    u = values["units"] / 512.0
    d = float(values["dropout"])
    lg = math.log10(values["learning_rate"])
    top = 0.955 - 0.05 * (lg + 2.9) ** 2 + 0.02 * math.log2(values["units"] / 16.0) / 5.0 \
        + 0.05 * d * u - 0.08 * d * d
    k = 10.0 ** (lg + 2.0) * (0.5 + 0.5 * u) * (1.0 - 0.6 * d)
    acc = top - (top - 0.1) * math.exp(-3.0 * k * epoch ** 0.8)
    acc -= 0.0015 * epoch * max(0.0, lg + 2.6)  # high learning rates overfit late
    acc += 0.004 * _noise(values, epoch)
    return min(1.0, max(0.0, acc))


def synthetic_epoch_time(values: dict) -> float:
    return 0.5 + 1.5 * values["units"] / 512.0
