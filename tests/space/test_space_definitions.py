"""Example-based unit tests for the search-space layer: invalid definitions, first-definition
defaults, scopes, container access, grid enumeration and encoding on small known spaces.

``test_regression_*`` pin bugs these tests found in ``hyperknob.space`` that have been fixed since;
``test_bug_*`` (``xfail(strict=True)``) pin bugs still open (not fixed here).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hyperknob.exceptions import SearchSpaceError, SearchSpaceTypeError
from hyperknob.space import HyperParameters, Parent, config_key, grid_size, iter_grid, values_by_walking
from hyperknob.space import parameters as P
from hyperknob.space.encoding import UnitCubeEncoder


def _direct(kind, *args, **kwargs):
    return lambda: getattr(P, kind)(*args, **kwargs)


def _through_container(kind, *args, **kwargs):
    return lambda: getattr(HyperParameters(), kind)(*args, **kwargs)


# (id, kind, args, kwargs, error class, fragments the message must contain besides the name)
BAD_DEFINITIONS = [
    ("int-min-gt-max", "Int", ("units", 10, 1), {}, SearchSpaceError, ["min_value=10", "max_value=1"]),
    ("float-min-gt-max", "Float", ("lr", 1.0, 0.5), {}, SearchSpaceError, ["min_value=1.0", "max_value=0.5"]),
    ("int-step-zero", "Int", ("units", 0, 10), {"step": 0}, SearchSpaceError, ["step=0"]),
    ("int-step-negative", "Int", ("units", 0, 10), {"step": -2}, SearchSpaceError, ["step=-2"]),
    ("float-step-zero", "Float", ("lr", 0.0, 1.0), {"step": 0.0}, SearchSpaceError, ["step=0.0"]),
    ("float-step-negative", "Float", ("lr", 0.0, 1.0), {"step": -0.1}, SearchSpaceError, ["step=-0.1"]),
    ("int-step-gt-range", "Int", ("units", 0, 10), {"step": 20}, SearchSpaceError, ["step=20"]),
    ("float-step-gt-range", "Float", ("lr", 0.0, 1.0), {"step": 2.5}, SearchSpaceError, ["step=2.5"]),
    ("log-step-le-1", "Int", ("units", 1, 64), {"step": 1, "sampling": "log"}, SearchSpaceError, ["step=1"]),
    ("log-step-past-range", "Float", ("lr", 1.0, 4.0), {"step": 8.0, "sampling": "log"}, SearchSpaceError,
     ["step=8.0"]),
    ("int-log-min-zero", "Int", ("units", 0, 10), {"sampling": "log"}, SearchSpaceError, ["min_value=0", "log"]),
    ("float-log-min-negative", "Float", ("lr", -1.0, 1.0), {"sampling": "log"}, SearchSpaceError,
     ["min_value=-1.0", "log"]),
    ("float-reverse-log-min-zero", "Float", ("lr", 0.0, 1.0), {"sampling": "reverse_log"}, SearchSpaceError,
     ["min_value=0.0", "reverse_log"]),
    ("unknown-sampling", "Int", ("units", 1, 10), {"sampling": "cubic"}, SearchSpaceError, ["'cubic'"]),
    ("unknown-sampling-float", "Float", ("lr", 0.1, 1.0), {"sampling": "exp"}, SearchSpaceError, ["'exp'"]),
    ("empty-choices", "Choice", ("optimizer", []), {}, SearchSpaceError, ["empty"]),
    ("choice-duplicates", "Choice", ("optimizer", ["adam", "adam"]), {}, SearchSpaceError, ["['adam', 'adam']"]),
    ("choice-ordered-strings", "Choice", ("optimizer", ["adam", "sgd"]), {"ordered": True}, SearchSpaceError,
     ["['adam', 'sgd']"]),
    ("mixed-str-int", "Choice", ("optimizer", ["adam", 1]), {}, SearchSpaceTypeError, ["['adam', 1]"]),
    ("mixed-int-float", "Choice", ("rate", [0.5, 1, 2]), {}, SearchSpaceTypeError, ["[0.5, 1, 2]"]),
    ("mixed-bool-int", "Choice", ("flag", [True, 0]), {}, SearchSpaceTypeError, ["[True, 0]"]),
    ("choice-object", "Choice", ("layer", [object]), {}, SearchSpaceTypeError, ["object"]),
    ("choice-not-a-list", "Choice", ("optimizer", "adam"), {}, SearchSpaceError, ["'adam'"]),
    ("int-default-above", "Int", ("units", 1, 10), {"default": 11}, SearchSpaceError, ["default=11"]),
    ("int-default-below", "Int", ("units", 1, 10), {"default": 0}, SearchSpaceError, ["default=0"]),
    ("int-default-off-step", "Int", ("units", 0, 10), {"step": 3, "default": 4}, SearchSpaceError, ["default=4"]),
    ("float-default-outside", "Float", ("lr", 0.0, 1.0), {"default": 2.0}, SearchSpaceError, ["default=2.0"]),
    ("float-default-off-step", "Float", ("lr", 0.0, 1.0), {"step": 0.25, "default": 0.3}, SearchSpaceError,
     ["default=0.3"]),
    ("choice-default-missing", "Choice", ("optimizer", ["adam", "sgd"]), {"default": "rmsprop"}, SearchSpaceError,
     ["default='rmsprop'"]),
    ("choice-default-wrong-type", "Choice", ("units", [1, 2]), {"default": True}, SearchSpaceError,
     ["default=True"]),
    ("boolean-default-not-bool", "Boolean", ("flag",), {"default": "yes"}, SearchSpaceError, ["'yes'"]),
    ("int-min-not-integer", "Int", ("units", 1.5, 10), {}, SearchSpaceError, ["min_value=1.5"]),
    ("int-max-not-integer", "Int", ("units", 1, 10.5), {}, SearchSpaceError, ["max_value=10.5"]),
    ("int-step-not-integer", "Int", ("units", 1, 10), {"step": 1.5}, SearchSpaceError, ["step=1.5"]),
    ("int-default-not-integer", "Int", ("units", 1, 10), {"default": 2.5}, SearchSpaceError, ["default=2.5"]),
    ("int-bound-string", "Int", ("units", "1", 10), {}, SearchSpaceError, ["min_value='1'"]),
    ("int-bound-bool", "Int", ("units", True, 10), {}, SearchSpaceError, ["min_value=True"]),
    ("float-bound-string", "Float", ("lr", "0.1", 1.0), {}, SearchSpaceError, ["min_value='0.1'"]),
    ("float-bound-nan", "Float", ("lr", float("nan"), 1.0), {}, SearchSpaceError, ["nan"]),
    ("float-bound-inf", "Float", ("lr", 0.0, float("inf")), {}, SearchSpaceError, ["inf"]),
    ("fixed-object", "Fixed", ("layer", object()), {}, SearchSpaceError, ["object"]),
]


@pytest.mark.parametrize("route", [_direct, _through_container], ids=["definition", "container"])
@pytest.mark.parametrize(
    "kind, args, kwargs, error, fragments", [case[1:] for case in BAD_DEFINITIONS], ids=[c[0] for c in BAD_DEFINITIONS]
)
def test_bad_definitions_raise_search_space_errors(route, kind, args, kwargs, error, fragments):
    with pytest.raises(error) as info:
        route(kind, *args, **kwargs)()
    assert isinstance(info.value, SearchSpaceError)
    assert isinstance(info.value, ValueError)
    if error is SearchSpaceTypeError:
        assert isinstance(info.value, TypeError)
    message = str(info.value)
    assert args[0] in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("name", ["", None, 3])
def test_bad_names_are_rejected(name):
    with pytest.raises(SearchSpaceError, match=repr(name).replace("'", ".")):
        P.Choice(name, ["a"])


def test_valid_edge_definitions_are_accepted():
    assert P.Int("units", 5, 5).grid_values() == (5,)
    assert P.Float("lr", 0.5, 0.5).grid_values() == (0.5,)
    assert P.Int("units", 0, 10, step=10).grid_values() == (0, 10)
    assert P.Int("units", 1, 64, step=2, sampling="log").grid_values() == (1, 2, 4, 8, 16, 32, 64)
    assert P.Float("lr", 0.0, 1.0, step=0.25).grid_values() == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert P.Float("lr", 0.0, 0.3, step=0.1).grid_values() == (0.0, 0.1, 0.2, 0.3)
    assert P.Int("units", 1, 10, sampling="LOG").sampling == "log"
    assert P.Int("units", 1, 10, sampling=None).sampling == "linear"
    assert P.Choice("rate", [0.5, 1.0, 2.0], default=1).default == 1.0  # an int default among floats
    assert P.Int("units", 1.0, 10.0).min_value == 1 and type(P.Int("units", 1.0, 10.0).min_value) is int
    assert P.Choice("only", ["x"]).grid_values() == ("x",)
    assert P.Fixed("nothing", None).default is None


# ------------------------------------------------------------------------------------------------
# Redefinition, conditional scopes on bad parents
# ------------------------------------------------------------------------------------------------
def test_same_name_with_a_different_definition_raises():
    hp = HyperParameters()
    hp.Int("units", 1, 10)
    with pytest.raises(SearchSpaceError) as info:
        hp.Int("units", 1, 20)
    message = str(info.value)
    assert "units" in message and "max_value=20" in message and "max_value=10" in message
    with pytest.raises(SearchSpaceError, match="units"):
        hp.Float("units", 1.0, 10.0)
    with pytest.raises(SearchSpaceError, match="units"):
        hp.Int("units", 1, 10, default=5)
    assert len(hp.space) == 1


def test_same_name_with_the_same_definition_is_found_again():
    hp = HyperParameters()
    assert hp.Int("units", 1, 10, step=3) == 1
    hp.values["units"] = 7
    assert hp.Int("units", 1, 10, step=3) == 7
    assert hp.Choice("act", ["relu", "tanh"]) == "relu"
    assert hp.Choice("act", ["relu", "tanh"]) == "relu"
    assert [d.name for d in hp.space] == ["units", "act"]


def test_conditional_scope_on_an_undefined_parent_raises():
    hp = HyperParameters()
    hp.Choice("model", ["cnn", "rnn"])
    with pytest.raises(SearchSpaceError) as info:
        with hp.conditional_scope("modle", ["cnn"]):
            pass
    assert "modle" in str(info.value) and isinstance(info.value, ValueError)
    with pytest.raises(SearchSpaceError, match="layers"):
        hp.Int("units", 1, 4, parent_name="layers", parent_values=[1])


def test_conditional_scope_on_values_the_parent_cannot_take_raises():
    hp = HyperParameters()
    hp.Choice("model", ["cnn", "rnn"])
    with pytest.raises(SearchSpaceError) as info:
        with hp.conditional_scope("model", ["mlp"]):
            pass
    assert "model" in str(info.value) and "mlp" in str(info.value)
    with pytest.raises(SearchSpaceError, match="model"):
        with hp.conditional_scope("model", []):
            pass
    with pytest.raises(SearchSpaceError, match="model"):
        with hp.conditional_scope("model", [["cnn"]]):
            pass


def test_a_parameter_cannot_be_conditional_on_itself():
    hp = HyperParameters()
    hp.Choice("x", ["a", "b"])
    with pytest.raises(SearchSpaceError, match="'x'"):
        with hp.conditional_scope("x", ["a"]):
            hp.Int("x", 1, 3)


# ------------------------------------------------------------------------------------------------
# First definitions return the default
# ------------------------------------------------------------------------------------------------
def test_first_definition_returns_the_default():
    hp = HyperParameters()
    units = hp.Int("units", 32, 512, step=32)
    assert units == 32 and type(units) is int
    assert hp.Int("layers", 3, 7) == 3
    assert hp.Int("filters", 4, 256, sampling="log") == 4
    assert hp.Choice("optimizer", ["adam", "sgd", "rmsprop"]) == "adam"
    assert hp.Choice("rate", [0.5, 0.1]) == 0.5
    assert hp.Boolean("dropout") is False
    lr = hp.Float("lr", 1e-4, 1e-2, sampling="log")
    assert lr == 1e-4 and type(lr) is float
    assert hp.Float("momentum", 0, 1) == 0.0 and type(hp.get("momentum")) is float
    assert hp.Fixed("batch_size", 64) == 64
    assert hp.values == {
        "units": 32, "layers": 3, "filters": 4, "optimizer": "adam", "rate": 0.5, "dropout": False,
        "lr": 1e-4, "momentum": 0.0, "batch_size": 64,
    }


def test_first_definition_returns_an_explicit_default():
    hp = HyperParameters()
    assert hp.Int("units", 32, 512, step=32, default=128) == 128
    assert hp.Choice("optimizer", ["adam", "sgd"], default="sgd") == "sgd"
    assert hp.Boolean("dropout", default=True) is True
    assert hp.Float("lr", 0.0, 1.0, step=0.25, default=0.75) == 0.75


# ------------------------------------------------------------------------------------------------
# Scopes and access
# ------------------------------------------------------------------------------------------------
def test_name_scope_prefixes_names():
    hp = HyperParameters()
    with hp.name_scope("block"):
        assert hp.Int("units", 1, 4) == 1
        assert hp.get("units") == 1  # resolved inside the scope
        assert "units" in hp
        with hp.name_scope("inner"):
            hp.Boolean("flag")
    hp.Int("units", 5, 8)
    assert set(hp.values) == {"block/units", "block/inner/flag", "units"}
    assert hp["block/units"] == 1 and hp["units"] == 5
    assert hp["block/inner/flag"] is False
    assert [d.name for d in hp.space] == ["block/units", "block/inner/flag", "units"]


def test_conditional_scope_inside_a_name_scope_resolves_the_parent_in_the_scope():
    hp = HyperParameters()
    with hp.name_scope("enc"):
        hp.Choice("kind", ["conv", "dense"])
        with hp.conditional_scope("kind", "conv"):
            assert hp.Int("filters", 8, 16) == 8
        with hp.conditional_scope("kind", "dense"):
            assert hp.Int("units", 8, 16) is None
    assert hp.values == {"enc/kind": "conv", "enc/filters": 8}
    filters = next(d for d in hp.space if d.name == "enc/filters")
    assert filters.conditions == (Parent("enc/kind", ["conv"]),)


def test_container_access():
    hp = HyperParameters()
    hp.Choice("model", ["cnn", "rnn"])
    with hp.conditional_scope("model", ["cnn"]):
        assert hp.Int("filters", 16, 64, step=16) == 16
    with hp.conditional_scope("model", ["rnn"]):
        assert hp.Int("cells", 1, 4) is None
        assert hp.Choice("cell_kind", ["lstm", "gru"]) is None
        assert hp.Boolean("bidirectional") is None
        assert hp.Float("recurrent_dropout", 0.0, 0.5) is None
        assert hp.Fixed("stateful", False) is None
    assert "model" in hp and "filters" in hp
    assert hp["model"] == "cnn" and hp["filters"] == 16
    assert "cells" not in hp and "nothing" not in hp
    assert set(hp.values) == {"model", "filters"}
    with pytest.raises(ValueError, match="cells"):
        hp.get("cells")
    with pytest.raises(ValueError):
        hp["cell_kind"]
    with pytest.raises(KeyError, match="nothing"):
        hp.get("nothing")
    with pytest.raises(KeyError):
        hp["nothing"]
    assert hp.is_active("filters") and not hp.is_active("cells")
    assert [d.name for d in hp.active_space()] == ["model", "filters"]


def test_parent_name_keyword_is_a_conditional_scope():
    hp = HyperParameters()
    hp.Choice("model", ["cnn", "rnn"], default="rnn")
    assert hp.Int("filters", 16, 64, parent_name="model", parent_values=["cnn"]) is None
    assert hp.Int("cells", 1, 4, parent_name="model", parent_values="rnn") == 1
    assert hp.values == {"model": "rnn", "cells": 1}


def test_boolean_and_int_parents():
    hp = HyperParameters()
    hp.Boolean("use_dropout")
    with hp.conditional_scope("use_dropout", True):
        assert hp.Float("rate", 0.1, 0.5) is None
    hp.Int("layers", 1, 3)
    with hp.conditional_scope("layers", [1]):
        assert hp.Int("units_1", 4, 8) == 4
    with hp.conditional_scope("layers", [2, 3]):
        assert hp.Int("units_2", 4, 8) is None
    assert hp.values == {"use_dropout": False, "layers": 1, "units_1": 4}
    # bool is not 1: a condition on the value 1 does not hold for True
    assert not Parent("layers", [1]).is_active({"layers": True})
    assert Parent("layers", [1]).is_active({"layers": 1.0})


def test_nested_conditions_need_every_ancestor():
    hp = HyperParameters()
    hp.Choice("model", ["a", "b"])
    with hp.conditional_scope("model", "a"):
        hp.Choice("head", ["x", "y"], default="y")
        with hp.conditional_scope("head", "y"):
            assert hp.Int("depth", 1, 2) == 1
    assert hp.values == {"model": "a", "head": "y", "depth": 1}
    configs = list(iter_grid(hp.space))
    assert configs == [
        {"model": "a", "head": "y", "depth": 1},
        {"model": "a", "head": "y", "depth": 2},
        {"model": "a", "head": "x"},
        {"model": "b"},
    ]
    assert grid_size(hp.space) == 4


def test_same_name_in_two_branches():
    hp = HyperParameters()
    hp.Choice("model", ["a", "b"])
    with hp.conditional_scope("model", "a"):
        assert hp.Int("units", 1, 3) == 1
    with hp.conditional_scope("model", "b"):
        assert hp.Int("units", 4, 6) is None
    configs = list(iter_grid(hp.space))
    assert [c["units"] for c in configs] == [1, 2, 3, 4, 5, 6]
    assert grid_size(hp.space) == 6
    encoder = UnitCubeEncoder(hp.space)
    for config in configs:
        assert encoder.decode(encoder.encode(config)) == config


# ------------------------------------------------------------------------------------------------
# Grid, walking, keys, encoding on known spaces
# ------------------------------------------------------------------------------------------------
def test_iter_grid_order_and_size():
    hp = HyperParameters()
    hp.Choice("a", [1, 2, 3], default=2)
    hp.Boolean("b")
    configs = list(iter_grid(hp.space))
    assert configs == [
        {"a": 2, "b": False}, {"a": 2, "b": True},
        {"a": 1, "b": False}, {"a": 1, "b": True},
        {"a": 3, "b": False}, {"a": 3, "b": True},
    ]
    assert grid_size(hp.space) == 6
    assert grid_size(hp.space, limit=5) is None


def test_grid_size_of_continuous_space_is_none():
    assert grid_size([P.Float("lr", 0.0, 1.0)]) is None
    assert grid_size([P.Float("lr", 0.0, 1.0, step=0.5), P.Fixed("f", 1)]) == 3
    assert len(list(iter_grid([P.Float("lr", 0.0, 1.0)]))) == 11  # the default, then ten spread points


def test_values_by_walking_respects_conditions_and_order():
    space = [
        P.Choice("model", ["a", "b"]),
        P.Int("units", 1, 4, conditions=[Parent("model", "b")]),
        P.Fixed("seed", 3),
    ]
    assert values_by_walking(space, lambda d: d.default) == {"model": "a", "seed": 3}
    assert values_by_walking(space, lambda d: d.from_unit(0.99)) == {"model": "b", "units": 4, "seed": 3}


def test_config_key_is_canonical():
    assert config_key({"b": 1, "a": "x"}) == config_key({"a": "x", "b": 1})
    assert config_key({"a": 1}) != config_key({"a": True})
    assert config_key({"a": 1}) != config_key({"a": 1.5})
    assert json.loads(config_key({"b": 1, "a": [1, 2]})) == {"a": [1, 2], "b": 1}


def test_unit_maps_on_known_definitions():
    assert P.Int("i", 0, 9).from_unit(0.0) == 0 and P.Int("i", 0, 9).from_unit(1.0) == 9
    assert P.Int("i", 0, 9).to_unit(0) == pytest.approx(0.05)
    assert P.Choice("c", ["a", "b", "c", "d"]).from_unit(0.6) == "c"
    assert P.Choice("c", ["a", "b", "c", "d"]).to_unit("c") == pytest.approx(0.625)
    assert P.Boolean("b").from_unit(0.4) is False and P.Boolean("b").from_unit(0.6) is True
    assert P.Float("f", 1e-4, 1e-2, sampling="log").from_unit(0.5) == pytest.approx(1e-3)
    assert P.Float("f", 0.0, 1.0).prob_to_value(0.25) == 0.25
    assert P.Float("f", 0.0, 1.0).value_to_prob(0.25) == 0.25
    assert P.Float("f", 0.0, 1.0).from_unit(-0.5) == 0.0 and P.Float("f", 0.0, 1.0).from_unit(1.5) == 1.0
    assert P.Fixed("x", "const").from_unit(0.3) == "const"
    assert P.Int("i", 1, 100, sampling="log").random_sample(seed=1) == P.Int("i", 1, 100, sampling="log").random_sample(
        seed=1
    )


def test_encoder_layout_and_nans():
    space = [
        P.Choice("opt", ["adam", "sgd", "rmsprop"]),  # one-hot: 3
        P.Choice("units", [8, 16, 32]),  # ordered numeric: 1
        P.Boolean("flag"),  # one-hot: 2
        P.Fixed("seed", 1),  # none
        P.Float("lr", 1e-4, 1e-1, sampling="log", conditions=[Parent("opt", "sgd")]),  # 1
    ]
    encoder = UnitCubeEncoder(space)
    assert encoder.dim == 7
    vector = encoder.encode({"opt": "rmsprop", "units": 16, "flag": True, "seed": 1})
    assert vector[:6].tolist() == [0.0, 0.0, 1.0, 0.5, 0.0, 1.0]
    assert math.isnan(vector[6])
    assert encoder.decode(vector) == {"opt": "rmsprop", "units": 16, "flag": True, "seed": 1}
    config = {"opt": "sgd", "units": 32, "flag": False, "seed": 1, "lr": 1e-3}
    back = encoder.decode(encoder.encode(config))
    assert back.pop("lr") == pytest.approx(1e-3)
    config.pop("lr")
    assert back == config
    # NaN dimensions decode as the middle of the range
    assert encoder.decode(np.full(encoder.dim, np.nan))["units"] == 16


# ------------------------------------------------------------------------------------------------
# Serialisation
# ------------------------------------------------------------------------------------------------
def test_definition_serialization_round_trip():
    definitions = [
        P.Int("units", 32, 512, step=32, default=64, conditions=[Parent("model", ["cnn"])]),
        P.Int("filters", 4, 256, sampling="log"),
        P.Float("lr", 1e-4, 1e-2, sampling="reverse_log", default=1e-3),
        P.Float("dropout", 0.0, 0.5, step=0.1),
        P.Choice("opt", ["adam", "sgd"], default="sgd"),
        P.Choice("rate", [0.5, 1.0], ordered=False),
        P.Boolean("flag", default=True),
        P.Fixed("seed", 7),
    ]
    for d in definitions:
        text = json.dumps(P.serialize(d))
        back = P.deserialize(json.loads(text))
        assert back == d and back.same_definition(d) and repr(back) == repr(d)
    with pytest.raises(SearchSpaceError, match="Nope"):
        P.deserialize({"class_name": "Nope", "config": {}})


def test_hyperparameters_config_round_trip_and_copy():
    hp = HyperParameters()
    hp.Choice("model", ["cnn", "rnn"])
    with hp.conditional_scope("model", "cnn"):
        hp.Int("filters", 16, 64, step=16)
    hp.Float("lr", 1e-4, 1e-2, sampling="log")
    config = hp.get_config()
    text = json.dumps(config, allow_nan=False)
    restored = HyperParameters.from_config(json.loads(text))
    assert restored.get_config() == config
    assert restored.values == {"model": "cnn", "filters": 16, "lr": 1e-4}
    assert restored["filters"] == 16
    copy = hp.copy()
    copy.values["model"] = "rnn"
    assert hp.values["model"] == "cnn"
    # the restored container recognises the same build
    assert restored.Choice("model", ["cnn", "rnn"]) == "cnn"
    with restored.conditional_scope("model", "cnn"):
        assert restored.Int("filters", 16, 64, step=16) == 16
    assert len(restored.space) == 3


def test_merge_adds_and_replaces():
    a = HyperParameters()
    a.Int("units", 1, 4)
    b = HyperParameters()
    b.Int("units", 1, 8, default=5)
    b.Boolean("flag")
    a.merge(b)
    assert a.values == {"units": 5, "flag": False}
    assert [d.name for d in a.space] == ["units", "flag"]


def test_ensure_active_values_fills_and_drops():
    hp = HyperParameters()
    hp.Choice("model", ["a", "b"])
    with hp.conditional_scope("model", "a"):
        hp.Int("units", 1, 4)
    hp.values = {"model": "b", "units": 3}
    hp.ensure_active_values()
    assert hp.values == {"model": "b"}
    hp.values = {"model": "a"}
    hp.ensure_active_values()
    assert set(hp.values) == {"model", "units"} and 1 <= hp.values["units"] <= 4


# ------------------------------------------------------------------------------------------------
# Regressions: bugs these tests found in hyperknob.space, fixed since (commit 291719a).
# Definitions are built inside the tests so that a behaviour change cannot break collection.
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, grid",
    [
        # the grid of a stepped reverse_log range is max_value + min_value - min_value*step**i
        (lambda: P.Int("units", 1, 10, step=2, sampling="reverse_log"), (10, 9, 7, 3)),
        (lambda: P.Float("lr", 1.0, 12.0, step=2.0, sampling="reverse_log"), (12.0, 11.0, 9.0, 5.0)),
    ],
    ids=["int", "float"],
)
def test_regression_reverse_log_stepped_default_is_on_the_grid(make, grid):
    definition = make()
    assert definition.grid_values() == grid
    assert definition.contains(definition.default)  # was min_value, off the grid
    assert definition.default == min(grid)
    assert grid_size([definition]) == len(grid)


def test_regression_reverse_log_stepped_default_encodes_inside_the_unit_cube():
    space = [P.Float("lr", 1.0, 12.0, step=2.0, sampling="reverse_log")]
    first = next(iter_grid(space))
    vector = UnitCubeEncoder(space).encode(first)
    assert 0.0 <= vector[0] <= 1.0  # was 1.125


def test_regression_reverse_log_stepped_first_value_is_in_the_domain():
    hp = HyperParameters()
    assert hp.Int("units", 1, 10, step=2, sampling="reverse_log") in (10, 9, 7, 3)  # was 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: P.Float("x", 0.0, 1.0 - 5e-11, step=0.1),  # last grid value was 1.0 > max_value
        lambda: P.Float("x", 1.0, 9269.213603, step=1.0467313085567933, sampling="log"),  # was 9269.21360333
    ],
    ids=["linear", "log"],
)
def test_regression_stepped_float_top_value_does_not_overshoot_max(make):
    definition = make()
    top = definition.from_unit(1.0)
    assert top <= definition.max_value
    assert definition.contains(top)
    assert all(definition.min_value <= v <= definition.max_value for v in definition.grid_values())


def test_regression_float_tidying_keeps_edge_values_in_the_domain():
    # values used to be rounded to 12 significant digits: the first grid value was 1.41421356237 < min_value
    d = P.Float("x", math.sqrt(2), 2.0, step=0.1)
    assert d.contains(d.from_unit(0.0))
    assert d.min_value <= d.from_unit(0.0)


def test_regression_grid_value_is_accepted_as_default():
    d = P.Float("x", math.sqrt(2), 2.0, step=0.1)
    again = P.Float("x", math.sqrt(2), 2.0, step=0.1, default=d.grid_values()[0])  # used to raise
    assert again.default == d.grid_values()[0]


def test_regression_iter_grid_does_not_count_the_tidied_default_twice():
    space = [P.Float("x", math.sqrt(2), 2.0, step=0.1)]
    assert len(space[0].grid_values()) == 6
    assert grid_size(space) == 6  # was 7


def test_regression_float_tidying_does_not_merge_fine_grid_values():
    d = P.Float("x", 1.0, 1.0 + 9e-12, step=1e-12)
    grid = d.grid_values()
    assert len(set(grid)) == len(grid)  # was 2 distinct values out of 9
    assert d.contains(d.from_unit(1.0))
    keys = [config_key(c) for c in iter_grid([d])]
    assert len(keys) == len(set(keys)) == len(grid)


def test_regression_near_grid_default_is_snapped_to_the_grid():
    d = P.Float("x", 0.0, 1.0, step=0.1, default=0.10000000005)
    assert d.default == 0.1
    assert grid_size([d]) == 11  # was 12: the default and its grid point


@pytest.mark.parametrize(
    "make",
    [lambda: P.Choice("eps", [1e-20, 1e-18, 1e-16]), lambda: P.Float("reg", 1e-20, 1e-16, step=10.0, sampling="log")],
    ids=["choice", "float-log"],
)
def test_regression_grid_search_visits_every_small_value(make):
    definition = make()
    configs = list(iter_grid([definition]))  # grid_axis used to merge values within 1e-15 of the default
    assert len(configs) == len(definition.grid_values())
    assert grid_size([definition]) == len(definition.grid_values())


@pytest.mark.parametrize(
    "kind, args, fragment",
    [
        ("Choice", ("x", [float("nan"), 1.0]), "nan"),
        ("Choice", ("x", [float("inf"), 1.0]), "inf"),
        ("Choice", ("x", [1.0, float("-inf")]), "-inf"),
        ("Fixed", ("x", float("nan")), "nan"),
        ("Fixed", ("x", float("inf")), "inf"),
    ],
    ids=["choice-nan", "choice-inf", "choice-minus-inf", "fixed-nan", "fixed-inf"],
)
def test_regression_non_finite_choices_and_fixed_values_are_rejected(kind, args, fragment):
    # NaN used to be accepted and then not contained; inf gave configs that are not valid JSON
    with pytest.raises(SearchSpaceError) as info:
        getattr(P, kind)(*args)
    assert "'x'" in str(info.value) and fragment in str(info.value)


# ------------------------------------------------------------------------------------------------
# Known bugs still open (strict xfail: they turn into failures once fixed; then drop the marker).
# ------------------------------------------------------------------------------------------------
def test_regression_implicit_default_is_the_first_grid_value():
    d = P.Float("x", math.pi, 4.0, step=0.25)
    grid = d.grid_values()
    assert len(grid) == 4
    assert grid_size([d]) == 4
    assert d.default in grid
    assert HyperParameters().Float("x", math.pi, 4.0, step=0.25) in grid


def test_grid_size_of_a_huge_integer_range_is_counted_not_enumerated(monkeypatch):
    from hyperknob.space import Int, grid_size

    def refuse(self):
        raise AssertionError("grid_size enumerated a 2**31-value range")

    monkeypatch.setattr(Int, "grid_values", refuse)
    assert grid_size([Int("seed", 0, 2**31 - 1)], limit=10) is None
    assert grid_size([Int("seed", 0, 2**31 - 1)], limit=2**32) == 2**31
