"""The problems of benchmarks/suite.py: search spaces, objectives (minimised) and known optima.

A space is a list of parameter specs, declared identically through every library:

    ("float", name, low, high, log)   ("int", name, low, high)   ("choice", name, values)

optionally followed by ``(parent_name, parent_values)`` for a conditional parameter (active only
while ``parent_name`` holds one of ``parent_values``). An objective takes ``{name: value}`` of the
active parameters. ``optimum`` is the known minimum, or None for the scikit-learn problems, whose
regret is measured against the best value any optimiser found in the run.

Only the standard library and numpy are imported at module level; scikit-learn is imported by
the problems that need it, when first evaluated, and its datasets are loaded once per process.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Problem:
    name: str
    space: list
    fn: Callable[[dict], float]
    optimum: float | None
    note: str


# --------------------------------------------------------------------------- synthetic

def branin(c: dict) -> float:
    x1, x2 = c["x1"], c["x2"]
    b, cc, r, s, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + cc * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]], dtype=float)
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(c: dict) -> float:
    x = np.array([c[f"x{i}"] for i in range(6)])
    return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


def ackley10(c: dict) -> float:
    x = np.array([c[f"x{i}"] for i in range(10)])
    d = len(x)
    return float(-20 * math.exp(-0.2 * math.sqrt(np.sum(x ** 2) / d))
                 - math.exp(np.sum(np.cos(2 * math.pi * x)) / d) + 20 + math.e)


def mixed(c: dict) -> float:
    """Log float, int, categorical and a conditional branch; minimum 0 at
    lr=1e-3, units=17, z=0.2, kind="b", x=0.7, m=3."""
    v = (math.log10(c["lr"]) + 3) ** 2 + ((c["units"] - 17) / 16) ** 2 + (c["z"] - 0.2) ** 2
    kind = c["kind"]
    if kind == "a":
        v += 0.5 + c["y"] ** 2
    elif kind == "b":
        v += 4 * (c["x"] - 0.7) ** 2 + 0.1 * abs(c["m"] - 3)
    else:
        v += 0.3
    return float(v)


# --------------------------------------------------------------------------- scikit-learn

_DATA: dict = {}


def _data(name: str):
    if name not in _DATA:
        from sklearn import datasets

        loader = {"digits": datasets.load_digits, "wine": datasets.load_wine,
                  "breast_cancer": datasets.load_breast_cancer,
                  "diabetes": datasets.load_diabetes, "iris": datasets.load_iris}[name]
        X, y = loader(return_X_y=True)
        if name == "digits":  # a fixed half of digits keeps an SVC evaluation well under 0.3 s
            rng = np.random.RandomState(0)
            idx = rng.permutation(len(y))[:900]
            X, y = X[idx] / 16.0, y[idx]
        if name in ("wine", "breast_cancer", "diabetes", "iris"):
            from sklearn.preprocessing import StandardScaler

            X = StandardScaler().fit_transform(X)
        _DATA[name] = (X, y)
    return _DATA[name]


def _cv(model, data: str, classification: bool = True) -> float:
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    X, y = _data(data)
    cv = (StratifiedKFold(3, shuffle=True, random_state=0) if classification
          else KFold(3, shuffle=True, random_state=0))
    return float(np.mean(cross_val_score(model, X, y, cv=cv)))


def svc_digits(c: dict) -> float:
    from sklearn.svm import SVC

    return 1.0 - _cv(SVC(C=c["C"], gamma=c["gamma"]), "digits")


def rf_wine(c: dict) -> float:
    from sklearn.ensemble import RandomForestClassifier

    m = RandomForestClassifier(n_estimators=c["n_estimators"], max_depth=c["max_depth"],
                               max_features=c["max_features"],
                               min_samples_leaf=c["min_samples_leaf"], random_state=0, n_jobs=1)
    return 1.0 - _cv(m, "wine")


def gb_breast_cancer(c: dict) -> float:
    from sklearn.ensemble import GradientBoostingClassifier

    m = GradientBoostingClassifier(n_estimators=c["n_estimators"],
                                   learning_rate=c["learning_rate"], max_depth=c["max_depth"],
                                   subsample=c["subsample"], random_state=0)
    return 1.0 - _cv(m, "breast_cancer")


def enet_diabetes(c: dict) -> float:
    from sklearn.linear_model import ElasticNet

    m = ElasticNet(alpha=c["alpha"], l1_ratio=c["l1_ratio"], max_iter=5000)
    return 1.0 - _cv(m, "diabetes", classification=False)  # 1 - R^2


# --------------------------------------------------------------------------- registry

PROBLEMS: dict[str, Problem] = {p.name: p for p in [
    Problem("branin", [("float", "x1", -5.0, 10.0, False), ("float", "x2", 0.0, 15.0, False)],
            branin, 0.397887357729739, "Branin, 2-D"),
    Problem("hartmann6", [("float", f"x{i}", 0.0, 1.0, False) for i in range(6)],
            hartmann6, -3.32236801141551, "Hartmann-6, [0,1]^6"),
    Problem("ackley10", [("float", f"x{i}", -5.0, 10.0, False) for i in range(10)],
            ackley10, 0.0, "Ackley, 10-D on [-5,10]^10"),
    Problem("mixed", [
        ("float", "lr", 1e-5, 1e-1, True),
        ("int", "units", 1, 64),
        ("float", "z", 0.0, 1.0, False),
        ("choice", "kind", ["a", "b", "c"]),
        ("float", "y", -1.0, 1.0, False, ("kind", ["a"])),
        ("float", "x", 0.0, 1.0, False, ("kind", ["b"])),
        ("int", "m", 1, 10, ("kind", ["b"])),
    ], mixed, 0.0, "log float, int, categorical, conditional branch; optimum 0"),
    Problem("svc_digits", [("float", "C", 1e-2, 1e3, True), ("float", "gamma", 1e-5, 1e-1, True)],
            svc_digits, None, "SVC(C, gamma) on 900 digits, 3-fold CV error"),
    Problem("rf_wine", [("int", "n_estimators", 5, 50), ("int", "max_depth", 1, 10),
                        ("float", "max_features", 0.05, 1.0, False),
                        ("int", "min_samples_leaf", 1, 20)],
            rf_wine, None, "RandomForest on wine, 3-fold CV error"),
    Problem("gb_breast_cancer", [("int", "n_estimators", 10, 40),
                                 ("float", "learning_rate", 1e-3, 1.0, True),
                                 ("int", "max_depth", 1, 3),
                                 ("float", "subsample", 0.3, 1.0, False)],
            gb_breast_cancer, None, "GradientBoosting on breast_cancer, 3-fold CV error"),
    Problem("enet_diabetes", [("float", "alpha", 1e-4, 10.0, True),
                              ("float", "l1_ratio", 0.0, 1.0, False)],
            enet_diabetes, None, "ElasticNet on diabetes, 1 - 3-fold CV R^2"),
]}


def split(spec) -> tuple[tuple, Any]:
    """(the parameter part of a spec, its condition ``(parent, values)`` or None)."""
    if spec and isinstance(spec[-1], tuple):
        return spec[:-1], spec[-1]
    return spec, None


def _register_wide() -> None:
    """The wide benchmark's problems (benchmarks/_wide_problems.py) join the registry."""
    from _wide_problems import WIDE

    PROBLEMS.update(WIDE)


_register_wide()
