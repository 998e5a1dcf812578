"""HyperParameters container: defaults, lookups, scopes, conditions, config round trip, errors."""

import importlib
import os

from dt_common import Facts, exc_fact, raises, type_name

kt = importlib.import_module(os.environ["KT_MODULE"])  # the one switch line

F = Facts(kt)


@F.section
def first_definition_returns_default():
    hp = kt.HyperParameters()
    got = {
        "int": hp.Int("i", 1, 5),
        "int_default": hp.Int("i_def", 1, 9, default=4),
        "int_step": hp.Int("i_step", 2, 20, step=3),
        "int_log": hp.Int("i_log", 4, 64, sampling="log"),
        "float": hp.Float("f", 0.5, 2.0),
        "float_int_bounds": hp.Float("f_int", 0, 1),
        "float_default": hp.Float("f_def", 0.5, 2.0, default=1.25),
        "float_log": hp.Float("f_log", 1e-4, 1e-1, sampling="log"),
        "choice_str": hp.Choice("c", ["a", "b", "c"]),
        "choice_int_default": hp.Choice("c_def", [3, 1, 2], default=2),
        "choice_float": hp.Choice("c_float", [0.5, 0.1]),
        "boolean": hp.Boolean("b"),
        "boolean_true": hp.Boolean("b_true", default=True),
        "fixed_int": hp.Fixed("x", 7),
        "fixed_str": hp.Fixed("x_str", "adam"),
    }
    return {
        "values": got,
        "types": {k: type_name(v) for k, v in got.items()},
        "hp.values": hp.values,
        "value_types": {k: type_name(v) for k, v in hp.values.items()},
        "space_names": [p.name for p in hp.space],
        "space_len": len(hp.space),
    }


@F.section
def redefinition_returns_current_value():
    hp = kt.HyperParameters()
    hp.Int("units", 8, 64, step=8)
    hp.values["units"] = 32
    again = hp.Int("units", 8, 64, step=8)
    hp.Choice("act", ["relu", "tanh"])
    hp.values["act"] = "tanh"
    act = hp.Choice("act", ["relu", "tanh"])
    hp.Int("depth", 1, 4)
    hp.values["depth"] = 3
    redefined = {}
    try:
        redefined["value"] = hp.Int("depth", 10, 20)  # same name, different range
        redefined["raised"] = None
    except Exception as exc:  # noqa: BLE001
        redefined["raised"] = exc_fact(exc)
    return {"units": again, "act": act, "space_len": len(hp.space), "redefined_differently": redefined}


@F.section
def lookups():
    hp = kt.HyperParameters()
    hp.Int("a", 0, 10, default=3)
    hp.Choice("opt", ["adam", "sgd"])
    return {
        "in_a": "a" in hp,
        "in_missing": "missing" in hp,
        "getitem": hp["a"],
        "get": hp.get("opt"),
        "get_missing": raises(lambda: hp.get("missing")),
        "getitem_missing": raises(lambda: hp["missing"]),
        "values_is_dict": isinstance(hp.values, dict),
    }


@F.section
def name_scopes():
    hp = kt.HyperParameters()
    with hp.name_scope("a"):
        with hp.name_scope("b"):
            inner = hp.Int("n", 0, 3, default=2)
            inner_get = hp.get("n")
        mid = hp.Choice("m", ["x", "y"])
    outer = hp.Boolean("top")
    return {
        "returned": [inner, mid, outer],
        "inner_get_inside_scope": inner_get,
        "values": hp.values,
        "names": [p.name for p in hp.space],
        "in_full": "a/b/n" in hp,
        "in_short_outside": "n" in hp,
        "get_full": hp.get("a/b/n"),
    }


@F.section
def conditional_scope():
    hp = kt.HyperParameters()
    model = hp.Choice("model", ["mlp", "cnn"])
    with hp.conditional_scope("model", ["cnn"]):
        filters = hp.Int("filters", 8, 64, step=8)
    with hp.conditional_scope("model", ["mlp"]):
        units = hp.Int("units", 16, 32)
        with hp.conditional_scope("units", [16, 17]):
            nested = hp.Boolean("nested_flag", default=True)
    with hp.conditional_scope("model", ["mlp", "cnn"]):
        both = hp.Float("dropout", 0.0, 0.5)
    return {
        "model": model,
        "filters_inactive": filters,
        "units_active": units,
        "nested_active": nested,
        "both": both,
        "values": hp.values,
        "value_keys_sorted": sorted(hp.values),
        "space_names": [p.name for p in hp.space],
        "in_filters": "filters" in hp,
        "in_units": "units" in hp,
        "get_inactive": raises(lambda: hp.get("filters")),
        "is_active_filters": hp.is_active("filters"),
        "is_active_units": hp.is_active("units"),
        "conditions_of_filters": [
            (c.name, list(c.values)) for c in next(p for p in hp.space if p.name == "filters").conditions
        ],
        "unknown_parent": raises(lambda: hp.conditional_scope("nope", ["x"]).__enter__()),
    }


@F.section
def parent_name_arguments():
    hp = kt.HyperParameters()
    hp.Choice("kind", ["tree", "linear"])
    depth = hp.Int("depth", 1, 5, parent_name="kind", parent_values=["tree"])
    alpha = hp.Float("alpha", 0.1, 1.0, parent_name="kind", parent_values=["linear"])
    scalar = hp.Boolean("bootstrap", parent_name="kind", parent_values="tree")
    return {
        "depth": depth,
        "alpha": alpha,
        "bootstrap_scalar_parent_value": scalar,
        "values": hp.values,
        "n_space": len(hp.space),
    }


@F.section
def config_round_trip():
    hp = kt.HyperParameters()
    hp.Int("i", 1, 10, step=2, default=5)
    hp.Float("f", 1e-3, 1.0, sampling="log")
    hp.Choice("c", ["x", "y"])
    hp.Boolean("b")
    hp.Fixed("fx", 3)
    with hp.conditional_scope("c", ["y"]):
        hp.Int("cond", 0, 4)
    hp.values["i"] = 7
    config = hp.get_config()
    hp2 = kt.HyperParameters.from_config(config)
    hp2_names = [p.name for p in hp2.space]
    cond_def = next(p for p in hp2.space if p.name == "cond")
    return {
        "config_keys": sorted(config),
        "values_equal": hp2.values == hp.values,
        "values": hp2.values,
        "names": hp2_names,
        "space_classes": [type(p).__name__ for p in hp2.space],
        "i_value_after_redefine": hp2.Int("i", 1, 10, step=2, default=5),
        "cond_conditions": [(c.name, list(c.values)) for c in cond_def.conditions],
        "cond_active": hp2.is_active("cond"),
    }


@F.section
def copy_is_independent():
    hp = kt.HyperParameters()
    hp.Int("a", 0, 10)
    hp.Choice("b", ["p", "q"])
    cp = hp.copy()
    cp.values["a"] = 9
    cp.Int("new_one", 0, 1)
    return {
        "copy_type_same": type(cp).__name__ == type(hp).__name__,
        "orig_a": hp.values["a"],
        "copy_a": cp.values["a"],
        "orig_has_new": "new_one" in hp,
        "orig_space_len": len(hp.space),
        "copy_space_len": len(cp.space),
    }


@F.section
def definition_errors():
    def make(**kw):
        def _f():
            hp = kt.HyperParameters()
            kind = kw.pop("kind")
            getattr(hp, kind)(**kw)

        return _f

    cases = {
        "int_min_gt_max": dict(kind="Int", name="x", min_value=5, max_value=1),
        "float_min_gt_max": dict(kind="Float", name="x", min_value=1.0, max_value=0.5),
        "int_non_integer_bound": dict(kind="Int", name="x", min_value=1.5, max_value=3),
        "bad_sampling": dict(kind="Int", name="x", min_value=1, max_value=10, sampling="bogus"),
        "log_non_positive": dict(kind="Float", name="x", min_value=0.0, max_value=1.0, sampling="log"),
        "reverse_log_non_positive": dict(kind="Int", name="x", min_value=0, max_value=10, sampling="reverse_log"),
        "log_step_not_gt_1": dict(kind="Int", name="x", min_value=1, max_value=100, step=1, sampling="log"),
        "choice_empty": dict(kind="Choice", name="x", values=[]),
        "choice_mixed_types": dict(kind="Choice", name="x", values=[1, "a"]),
        "choice_default_not_in_values": dict(kind="Choice", name="x", values=["a", "b"], default="z"),
        "choice_ordered_strings": dict(kind="Choice", name="x", values=["a", "b"], ordered=True),
        "ok_int": dict(kind="Int", name="x", min_value=1, max_value=10),
        "ok_sampling_uppercase": dict(kind="Float", name="x", min_value=0.1, max_value=1.0, sampling="LOG"),
        "ok_choice_int_float_mix": dict(kind="Choice", name="x", values=[1, 2]),
    }
    return {name: raises(make(**dict(kw))) for name, kw in cases.items()}


@F.section
def choice_ordered_flag():
    hp = kt.HyperParameters()
    hp.Choice("num", [1, 2, 3])
    hp.Choice("txt", ["a", "b"])
    hp.Choice("num_unordered", [4, 2, 8], ordered=False)
    return {p.name: bool(p.ordered) for p in hp.space}


F.dump()
