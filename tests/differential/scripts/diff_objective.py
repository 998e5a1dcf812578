"""Objective: explicit objects, direction inference from metric names, lists, and what a tuner keeps."""

import importlib
import os

from dt_common import Facts, raises

kt = importlib.import_module(os.environ["KT_MODULE"])  # the one switch line

F = Facts(kt)

NAMES = [
    "loss", "val_loss", "acc", "val_acc", "accuracy", "val_accuracy", "weighted_accuracy",
    "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "val_sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "mae", "val_mae", "mse", "mape", "msle", "mean_absolute_error",
    "val_mean_absolute_error", "mean_squared_error", "val_mean_squared_error", "root_mean_squared_error",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "binary_crossentropy",
    "categorical_crossentropy", "val_sparse_categorical_crossentropy", "crossentropy", "ce", "hinge",
    "squared_hinge", "categorical_hinge", "kl_divergence", "poisson", "log_cosh", "huber", "auc",
    "val_auc", "precision", "recall", "cosine_similarity", "r2_score", "f1_score",
]
UNKNOWN = ["my_custom_metric", "val_score_thing", "banana"]


def _direction(obj):
    d = obj.direction
    return {"eq_min": d == "min", "eq_max": d == "max", "str": str(d), "fmt": f"{d}"}


@F.section
def explicit_objective():
    o = kt.Objective("val_accuracy", "max")
    p = kt.Objective("val_loss", direction="min")
    return {
        "name": o.name,
        "direction": _direction(o),
        "str": str(o),
        "better_than": [o.better_than(0.9, 0.8), o.better_than(0.7, 0.8), p.better_than(0.1, 0.2), p.better_than(0.3, 0.2)],
        "has_value": [o.has_value({"val_accuracy": 1.0}), o.has_value({"accuracy": 1.0})],
        "get_value": o.get_value({"val_accuracy": 0.75, "loss": 3.0}),
        "eq_same": o == kt.Objective("val_accuracy", "max"),
        "eq_other_direction": o == kt.Objective("val_accuracy", "min"),
        "eq_other_name": o == kt.Objective("accuracy", "max"),
    }


@F.section
def inferred_directions():
    out = {}
    for name in NAMES:
        try:
            obj = kt.Oracle(objective=name).objective
            out[name] = {"name": obj.name, "direction": str(obj.direction)}
        except Exception as exc:  # noqa: BLE001
            out[name] = {"raised": type(exc).__name__}
    return out


@F.section
def unknown_names_raise():
    return {name: raises(lambda name=name: kt.Oracle(objective=name), kt) for name in UNKNOWN}


@F.section
def objective_none_and_lists():
    none = kt.Oracle(objective=None).objective
    multi = kt.Oracle(objective=[kt.Objective("a", "max"), "val_loss"]).objective
    return {
        "none_name": none.name,
        "none_direction": str(none.direction),
        "list_name": multi.name,
        "list_direction": str(multi.direction),
        "list_str": str(multi),
        "bad_type": raises(lambda: kt.Oracle(objective=3.5), kt),
    }


@F.section
def tuner_objectives():
    def build(hp):
        hp.Int("x", 0, 3)
        return None

    out = {}
    for objective in ["val_loss", "accuracy", "val_mean_absolute_error", kt.Objective("val_f1", "max")]:
        tuner = kt.RandomSearch(build, objective=objective, max_trials=1, directory=F.tmpdir(), overwrite=True)
        key = objective if isinstance(objective, str) else "Objective(val_f1,max)"
        out[key] = {"name": tuner.oracle.objective.name, "direction": str(tuner.oracle.objective.direction)}
    out["unknown"] = raises(
        lambda: kt.RandomSearch(build, objective="no_such_metric", max_trials=1, directory=F.tmpdir(), overwrite=True), kt
    )
    return out


F.dump()
