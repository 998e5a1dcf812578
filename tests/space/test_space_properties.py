"""Property tests (hypothesis) for the search-space layer: definitions, the define-by-run
container, grid enumeration, walking and the unit-cube encoding.

Strategies generate only *valid* definitions, with arbitrary (not just "nice") float bounds and
steps. The defects these properties found (off-grid stepped reverse_log defaults, grid values past
``max_value``, 12-digit float tidying that moved or merged grid values, near-grid defaults counted
twice, tiny float choices merged by ``grid_axis``, NaN/inf accepted by Choice and Fixed) are pinned
by the ``test_regression_*`` examples in ``test_space_definitions.py``; the one still open is kept
out of the strategies (see ``_with_default``) and pinned by a strict xfail ``test_bug_*`` there.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hyperknob.space import HyperParameters, config_key, grid_size, iter_grid, values_by_walking
from hyperknob.space import parameters as P
from hyperknob.space.encoding import UnitCubeEncoder
from hyperknob.space.search_space import grid_axis

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SAMPLINGS = ("linear", "log", "reverse_log")
UNIT = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


# ------------------------------------------------------------------------------------------------
# Specs: a definition described as (kind, kwargs), so that the same description can build a
# frozen definition (P.Int(...)) or be declared through the container (hp.Int(...)).
# ------------------------------------------------------------------------------------------------
def make(spec: dict[str, Any], name: str = "x", conditions: tuple = ()) -> P.HyperParameter:
    kind, kwargs = spec["kind"], {k: v for k, v in spec.items() if k != "kind"}
    return getattr(P, kind)(name, **kwargs, conditions=conditions)


def define(hp: HyperParameters, spec: dict[str, Any], name: str) -> Any:
    kind, kwargs = spec["kind"], {k: v for k, v in spec.items() if k != "kind"}
    return getattr(hp, kind)(name, **kwargs)


def _with_default(draw, spec: dict[str, Any]) -> dict[str, Any]:
    """Maybe give the spec an explicit default taken from its domain.

    Known bug (strict xfail ``test_bug_implicit_default_is_the_first_grid_value``): when the first
    grid value of a stepped Float is min_value tidied to 12 digits, the implicit default stays
    min_value and grid search counts the point twice. Such ranges get an explicit default.
    """
    definition = make(spec)
    grid = definition.grid_values()
    implicit_off_grid = grid is not None and not any(_exact(definition.default, g) for g in grid)
    if draw(st.booleans()) or implicit_off_grid:
        if grid is not None:
            spec["default"] = draw(st.sampled_from(grid))
        else:
            spec["default"] = definition.from_unit(draw(UNIT))
    return spec


@st.composite
def int_specs(draw, max_span: int = 1000) -> dict[str, Any]:
    sampling = draw(st.sampled_from(SAMPLINGS))
    lo = draw(st.integers(-1000, 1000) if sampling == "linear" else st.integers(1, 1000))
    hi = lo + draw(st.integers(0, max_span))
    step = None
    if sampling == "linear":
        if hi > lo and draw(st.booleans()):
            step = draw(st.integers(1, hi - lo))
    elif hi // lo >= 2 and draw(st.booleans()):
        step = draw(st.integers(2, hi // lo))
    spec = {"kind": "Int", "min_value": lo, "max_value": hi, "step": step, "sampling": sampling, "default": None}
    return _with_default(draw, spec)


@st.composite
def float_specs(draw, stepped: bool | None = None, max_steps: int = 200) -> dict[str, Any]:
    sampling = draw(st.sampled_from(SAMPLINGS))
    want_step = draw(st.booleans()) if stepped is None else stepped
    step = None
    if sampling == "linear":
        lo = draw(st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False))
        span = draw(st.one_of(st.just(0.0), st.floats(1e-3, 1e3)))
        hi = lo + span
        if want_step and hi > lo:
            width = hi - lo
            step = draw(st.floats(min_value=width / max_steps, max_value=width))
    else:
        lo = draw(st.floats(1e-4, 1e3))
        ratio = draw(st.one_of(st.just(1.0), st.floats(1.01, 1e4)))
        hi = lo * ratio
        if want_step and hi / lo > 1.01:
            top = hi / lo
            step = draw(st.floats(min_value=max(1.001, top ** (1.0 / max_steps)), max_value=top))
    spec = {"kind": "Float", "min_value": lo, "max_value": hi, "step": step, "sampling": sampling, "default": None}
    return _with_default(draw, spec)


_choice_value_lists = st.one_of(
    st.lists(st.integers(-100, 100), min_size=1, max_size=6, unique=True),
    st.lists(st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False), min_size=1, max_size=6, unique=True),
    st.lists(st.text(max_size=5), min_size=1, max_size=6, unique=True),
    st.lists(st.booleans(), min_size=1, max_size=2, unique=True),
)


@st.composite
def choice_specs(draw, values=_choice_value_lists) -> dict[str, Any]:
    values = draw(values)
    numeric = not isinstance(values[0], (str, bool))
    ordered = draw(st.sampled_from([None, True, False] if numeric else [None, False]))
    default = draw(st.one_of(st.none(), st.sampled_from(values)))
    return {"kind": "Choice", "values": values, "ordered": ordered, "default": default}


boolean_specs = st.builds(lambda d: {"kind": "Boolean", "default": d}, st.booleans())
fixed_specs = st.builds(
    lambda v: {"kind": "Fixed", "value": v},
    st.one_of(
        st.none(), st.integers(-1000, 1000), st.floats(-1e3, 1e3, allow_nan=False), st.text(max_size=5),
        st.booleans(),
    ),
)


def any_specs() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(int_specs(), float_specs(), choice_specs(), boolean_specs, fixed_specs)


def finite_specs(small: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """Definitions with a finite grid (``small``: at most 3 values)."""
    if small:
        return st.one_of(
            int_specs(max_span=2),
            float_specs(stepped=True, max_steps=2),
            choice_specs(
                st.one_of(
                    st.lists(st.integers(-5, 5), min_size=1, max_size=3, unique=True),
                    st.lists(st.sampled_from("abcdef"), min_size=1, max_size=3, unique=True),
                    st.lists(st.booleans(), min_size=1, max_size=2, unique=True),
                )
            ),
            boolean_specs,
            fixed_specs,
        ).filter(lambda s: _finite(s) and len({_key(v) for v in make(s).grid_values()}) <= 3)
    return st.one_of(
        int_specs(max_span=20), float_specs(stepped=True, max_steps=20), choice_specs(), boolean_specs, fixed_specs
    ).filter(_finite)


def _finite(spec: dict[str, Any]) -> bool:
    return make(spec).grid_values() is not None


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------
def _same(a: Any, b: Any) -> bool:
    """Equal values of equal type; floats up to rounding noise."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return type(a) is type(b) and a == b


def _exact(a: Any, b: Any) -> bool:
    """Equal values of the same type (so True is not 1 and 1.0 is not 1)."""
    return type(a) is type(b) and a == b


def _key(v: Any) -> tuple[str, Any]:
    """Hashable identity of a value that keeps True apart from 1 and 1.0 apart from 1."""
    return (type(v).__name__, v)


def _step_index(d: P.HyperParameter, v: float) -> float:
    """Independent recomputation of the (fractional) grid index of ``v``."""
    lo, hi, step = d.min_value, d.max_value, d.step
    if d.sampling == "linear":
        return (v - lo) / step
    if d.sampling == "log":
        return math.log(v / lo) / math.log(step)
    return math.log((hi + lo - v) / lo) / math.log(step)


def _grid_point(d: P.HyperParameter, k: int) -> float:
    lo, hi, step = d.min_value, d.max_value, d.step
    if d.sampling == "linear":
        return lo + k * step
    if d.sampling == "log":
        return lo * step**k
    return hi + lo - lo * step**k


def _is_numeric_definition(d: P.HyperParameter) -> bool:
    return isinstance(d, (P.Int, P.Float))


# ------------------------------------------------------------------------------------------------
# 1. from_unit stays in the domain
# ------------------------------------------------------------------------------------------------
@SETTINGS
@given(spec=any_specs(), us=st.lists(UNIT, min_size=1, max_size=20))
def test_from_unit_lies_in_the_domain(spec, us):
    d = make(spec)
    for u in [0.0, 1.0, 0.5, *us]:
        v = d.from_unit(u)
        assert d.contains(v), (d, u, v)
        if isinstance(d, P.Int):
            assert type(v) is int
            assert d.min_value <= v <= d.max_value
        elif isinstance(d, P.Float):
            assert type(v) is float
            assert d.min_value <= v <= d.max_value
        elif isinstance(d, P.Choice):
            assert any(_exact(v, c) for c in d.values)
        elif isinstance(d, P.Boolean):
            assert isinstance(v, bool)
        else:
            assert v == d.value
        if _is_numeric_definition(d) and d.step is not None:
            index = _step_index(d, v)
            k = round(index)
            # on the grid, up to float noise: a millionth of a step
            gap = abs(_grid_point(d, k + 1) - _grid_point(d, k))
            assert math.isclose(v, _grid_point(d, k), rel_tol=1e-11, abs_tol=1e-6 * gap), (d, v, index)
            assert 0 <= k < len(d.grid_values())
            assert any(_same(v, g) if isinstance(d, P.Float) else v == g for g in d.grid_values())


@SETTINGS
@given(spec=any_specs(), u=UNIT)
def test_from_unit_of_to_unit_is_stable(spec, u):
    """A value produced by from_unit maps back to itself through to_unit/from_unit."""
    d = make(spec)
    v = d.from_unit(u)
    p = d.to_unit(v)
    assert 0.0 <= p <= 1.0
    w = d.from_unit(p)
    if isinstance(d, P.Float) and d.step is None:
        assert math.isclose(w, v, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, abs(d.max_value)))
    else:
        assert _same(w, v), (d, u, v, p, w)


@SETTINGS
@given(spec=any_specs())
def test_default_is_in_the_domain(spec):
    d = make(spec)
    assert d.contains(d.default)
    assert d.contains(d.from_unit(d.to_unit(d.default)))


@SETTINGS
@given(
    spec=st.one_of(int_specs(), float_specs(stepped=True)).filter(lambda s: s["step"] is not None),
    data=st.data(),
)
def test_a_default_near_a_grid_value_is_that_grid_value(spec, data):
    grid = make(spec).grid_values()
    target = data.draw(st.sampled_from(grid))
    if spec["kind"] == "Float":
        default = target * (1.0 + data.draw(st.floats(-1e-13, 1e-13)))
        default = min(max(default, spec["min_value"]), spec["max_value"])
    else:
        default = target
    d = make({**spec, "default": default})
    assert any(_exact(d.default, g) for g in grid), (d.default, grid)
    assert grid_size([d]) == len(grid) == len({_key(g) for g in grid})


# ------------------------------------------------------------------------------------------------
# 2. Encode/decode round trips
# ------------------------------------------------------------------------------------------------
@SETTINGS
@given(spec=any_specs())
def test_grid_values_round_trip_through_the_unit_interval(spec):
    d = make(spec)
    grid = d.grid_values()
    assume(grid is not None)
    assert len(grid) >= 1
    units = []
    for v in grid:
        assert d.contains(v), (d, v)
        p = d.to_unit(v)
        assert 0.0 <= p <= 1.0
        units.append(p)
        back = d.from_unit(p)
        if isinstance(d, P.Float):
            assert type(back) is float and math.isclose(back, v, rel_tol=1e-12, abs_tol=1e-12), (d, v, back)
        else:
            assert _exact(back, v), (d, v, p, back)
        if isinstance(d, P.Int):
            assert type(v) is int
    # distinct values map to distinct points of [0, 1]
    assert len(set(units)) == len({_key(v) for v in grid})


@SETTINGS
@given(spec=float_specs(stepped=False), t=UNIT)
def test_continuous_float_round_trips(spec, t):
    d = make(spec)
    x = min(max(d.min_value + t * (d.max_value - d.min_value), d.min_value), d.max_value)
    p = d.to_unit(x)
    assert 0.0 <= p <= 1.0
    assert math.isclose(d.from_unit(p), x, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, abs(d.max_value)))


@SETTINGS
@given(spec=int_specs().filter(lambda s: s["sampling"] != "linear" and s["step"] is None))
def test_unstepped_log_int_reaches_every_integer(spec):
    d = make(spec)
    assert d.grid_values() == tuple(range(d.min_value, d.max_value + 1))
    for v in d.grid_values():
        assert d.from_unit(d.to_unit(v)) == v


@SETTINGS
@given(spec=any_specs(), conditions=st.booleans())
def test_definition_serialize_round_trips_through_json(spec, conditions):
    parents = (P.Parent("p", ["a", "b"]), P.Parent("q", [1])) if conditions else ()
    d = make(spec, "some/name", parents)
    text = json.dumps(P.serialize(d), allow_nan=False)
    back = P.deserialize(json.loads(text))
    assert type(back) is type(d)
    assert back == d
    assert back.same_definition(d)
    assert back.get_config() == d.get_config()
    assert repr(back) == repr(d)


# ------------------------------------------------------------------------------------------------
# Random conditional spaces: a forest of nodes; a parent (Choice or Boolean) has children declared
# inside conditional_scope(parent, subset of its values); children may be parents in turn (two
# levels of conditions at most).
# ------------------------------------------------------------------------------------------------
class Node:
    def __init__(self, name: str, spec: dict[str, Any], children: list[tuple[list[Any], Node]]):
        self.name, self.spec, self.children = name, spec, children

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {self.spec!r}, {self.children!r})"


_parent_specs = st.one_of(
    choice_specs(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3, unique=True)),
    choice_specs(st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True)),
    boolean_specs,
)


def _domain(spec: dict[str, Any]) -> list[Any]:
    return list(make(spec).grid_values())


@st.composite
def forests(draw, leaf_specs: st.SearchStrategy, max_roots: int = 3):
    counter = iter(range(10_000))

    def node(depth: int) -> Node:
        name = f"n{next(counter)}"
        if depth < 2 and draw(st.booleans()):
            spec = draw(_parent_specs)
            domain = _domain(spec)
            children = []
            for _ in range(draw(st.integers(1, 2))):
                cond = draw(st.lists(st.sampled_from(domain), min_size=1, max_size=len(domain), unique=True))
                children.append((cond, node(depth + 1)))
            return Node(name, spec, children)
        return Node(name, draw(leaf_specs), [])

    return [node(0) for _ in range(draw(st.integers(1, max_roots)))]


def build(hp: HyperParameters, forest: list[Node]) -> dict[str, Any]:
    """The build(hp) function the forest describes; returns what each hp.X(...) call returned."""
    returned: dict[str, Any] = {}

    def declare(n: Node) -> None:
        returned[n.name] = define(hp, n.spec, n.name)
        for cond, child in n.children:
            with hp.conditional_scope(n.name, cond):
                declare(child)

    for root in forest:
        declare(root)
    return returned


def _holds(value: Any, cond: list[Any]) -> bool:
    return any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in cond)


def expected_activity(forest: list[Node], config: dict[str, Any]) -> dict[str, bool]:
    """Which names must be active, computed from the forest alone (the parent's value read from config)."""
    active: dict[str, bool] = {}

    def visit(n: Node, is_active: bool) -> None:
        active[n.name] = is_active
        for cond, child in n.children:
            visit(child, is_active and n.name in config and _holds(config[n.name], cond))

    for root in forest:
        visit(root, True)
    return active


def expected_grid_count(forest: list[Node]) -> int:
    def count(n: Node) -> int:
        domain = _domain(n.spec)
        if not n.children:
            return len({_key(v) for v in domain})
        return sum(math.prod(count(c) for cond, c in n.children if _holds(v, cond)) for v in domain)

    return math.prod(count(r) for r in forest)


def defaults_by_walking(forest: list[Node]) -> dict[str, Any]:
    values: dict[str, Any] = {}

    def visit(n: Node) -> None:
        values[n.name] = make(n.spec).default
        for cond, child in n.children:
            if _holds(values[n.name], cond):
                visit(child)

    for root in forest:
        visit(root)
    return values


def check_configuration(forest: list[Node], space: list[P.HyperParameter], config: dict[str, Any]) -> None:
    """Property 3 for one configuration: presence iff active; rebuilding with it returns exactly it."""
    activity = expected_activity(forest, config)
    assert set(config) == {name for name, on in activity.items() if on}, (config, activity)
    by_name = {d.name: d for d in space}
    for name, value in config.items():
        assert by_name[name].contains(value), (name, value)

    hp = HyperParameters()
    hp.values = dict(config)
    returned = build(hp, forest)
    assert set(returned) == set(activity)
    for name, on in activity.items():
        if on:
            assert _exact(returned[name], config[name]), (name, returned[name], config[name])
            assert name in hp
            assert _exact(hp[name], config[name])
        else:
            assert returned[name] is None, (name, returned[name])
            assert name not in hp.values
            assert name not in hp
            with pytest.raises(ValueError):
                hp.get(name)
    assert hp.values == config
    assert len(hp.space) == len(space)


def _first_build(forest: list[Node]) -> tuple[HyperParameters, dict[str, Any]]:
    hp = HyperParameters()
    returned = build(hp, forest)
    return hp, returned


# ------------------------------------------------------------------------------------------------
# 3. Conditional activity
# ------------------------------------------------------------------------------------------------
@SETTINGS
@given(forest=forests(any_specs()), seeds=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=5))
def test_conditional_activity_on_random_walks(forest, seeds):
    hp, returned = _first_build(forest)
    space = hp.space
    # The first build answers every definition with its default (or None when inactive).
    defaults = defaults_by_walking(forest)
    assert hp.values == defaults
    for name, value in returned.items():
        if name in defaults:
            assert _exact(value, defaults[name])
        else:
            assert value is None
    for seed in seeds:
        rng = random.Random(seed)
        config = values_by_walking(space, lambda d, rng=rng: d.from_unit(rng.random()))
        check_configuration(forest, space, config)


@SETTINGS
@given(forest=forests(finite_specs(small=True)))
def test_conditional_activity_on_the_whole_grid(forest):
    assume(expected_grid_count(forest) <= 3000)
    hp, _ = _first_build(forest)
    space = hp.space
    configs = list(iter_grid(space))
    for i, config in enumerate(configs):
        if i < 200:  # rebuilding is the slow part; the activity check below covers every configuration
            check_configuration(forest, space, config)
        else:
            activity = expected_activity(forest, config)
            assert set(config) == {name for name, on in activity.items() if on}


# ------------------------------------------------------------------------------------------------
# 4. Grid enumeration
# ------------------------------------------------------------------------------------------------
@SETTINGS
@given(forest=forests(finite_specs(small=True)))
def test_iter_grid_visits_each_configuration_once(forest):
    count = expected_grid_count(forest)
    assume(count <= 3000)
    hp, _ = _first_build(forest)
    configs = list(iter_grid(hp.space))
    keys = [config_key(c) for c in configs]
    assert len(keys) == len(set(keys)), "iter_grid yielded a configuration twice"
    assert len(configs) == count
    assert grid_size(hp.space) == count
    assert configs[0] == hp.values == defaults_by_walking(forest)


@SETTINGS
@given(specs=st.lists(finite_specs(), min_size=1, max_size=4))
def test_iter_grid_on_a_flat_space(specs):
    hp = HyperParameters()
    for i, spec in enumerate(specs):
        define(hp, spec, f"p{i}")
    space = hp.space
    expected = math.prod(len({_key(v) for v in d.grid_values()}) for d in space)
    assume(expected <= 5000)
    configs = list(iter_grid(space))
    assert len({config_key(c) for c in configs}) == len(configs) == expected
    assert grid_size(space) == expected
    assert configs[0] == {d.name: d.default for d in space} == hp.values
    # every axis starts with the default and contains no value twice
    for d in space:
        axis = grid_axis(d)
        assert _same(axis[0], d.default)
        assert len({_key(v) for v in axis}) == len(axis)
    # the last-declared parameter varies fastest
    if len(configs) > 1 and len(space[-1].grid_values()) > 1:
        assert configs[0][space[-1].name] != configs[1][space[-1].name]


@SETTINGS
@given(specs=st.lists(any_specs(), min_size=1, max_size=4))
def test_grid_size_is_none_exactly_for_continuous_spaces(specs):
    space = [make(s, f"p{i}") for i, s in enumerate(specs)]
    continuous = any(d.grid_values() is None for d in space)
    size = grid_size(space, limit=10**12)
    if continuous:
        assert size is None
    else:
        assert size == math.prod(len({_key(v) for v in d.grid_values()}) for d in space)
        assert size == math.prod(len(grid_axis(d)) for d in space)


# ------------------------------------------------------------------------------------------------
# 2 (cont.). The unit-cube encoder
# ------------------------------------------------------------------------------------------------
def _check_encoding(encoder: UnitCubeEncoder, space: list[P.HyperParameter], config: dict[str, Any]) -> None:
    vector = encoder.encode(config)
    assert vector.shape == (encoder.dim,)
    finite = vector[~np.isnan(vector)]
    assert np.all((finite >= 0.0) & (finite <= 1.0)), vector
    # dimensions are NaN exactly for inactive parameters (the first definition of a name owns them)
    owners: set[str] = set()
    for d, where in zip(encoder.space, encoder.slices, strict=True):
        part = vector[where]
        owns = d.name in config and d.name not in owners and d.is_active(config)
        if owns:
            owners.add(d.name)
            assert not np.any(np.isnan(part)), (d, part)
        else:
            assert np.all(np.isnan(part)), (d, part)
    decoded = encoder.decode(vector)
    assert set(decoded) == set(config)
    for name, value in config.items():
        got = decoded[name]
        if isinstance(value, float) and isinstance(got, float):
            assert math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, abs(value))), (name, value, got)
        else:
            assert got == value and type(got) is type(value), (name, value, got)


@SETTINGS
@given(forest=forests(any_specs()), seeds=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=5))
def test_encoder_round_trips_random_configurations(forest, seeds):
    hp, _ = _first_build(forest)
    space = hp.space
    encoder = UnitCubeEncoder(space)
    assert encoder.dim == sum(
        len(d.grid_values()) if isinstance(d, P.Boolean) or (isinstance(d, P.Choice) and not d.ordered) else 1
        for d in space
        if not isinstance(d, P.Fixed)
    )
    _check_encoding(encoder, space, hp.values)
    for seed in seeds:
        rng = random.Random(seed)
        config = values_by_walking(space, lambda d, rng=rng: d.from_unit(rng.random()))
        _check_encoding(encoder, space, config)


@SETTINGS
@given(forest=forests(finite_specs(small=True)))
def test_encoder_round_trips_every_grid_configuration(forest):
    assume(expected_grid_count(forest) <= 500)
    hp, _ = _first_build(forest)
    encoder = UnitCubeEncoder(hp.space)
    for config in iter_grid(hp.space):
        _check_encoding(encoder, hp.space, config)


@SETTINGS
@given(forest=forests(any_specs()), us=st.lists(UNIT, min_size=40, max_size=40))
def test_decode_of_any_point_is_a_valid_configuration(forest, us):
    hp, _ = _first_build(forest)
    encoder = UnitCubeEncoder(hp.space)
    vector = np.array((us * (encoder.dim // len(us) + 1))[: encoder.dim], dtype=float)
    config = encoder.decode(vector)
    check_configuration(forest, hp.space, config)


# ------------------------------------------------------------------------------------------------
# 5. HyperParameters config round trip
# ------------------------------------------------------------------------------------------------
@SETTINGS
@given(forest=forests(any_specs()), seed=st.integers(0, 2**32 - 1), scope=st.sampled_from([None, "blk"]))
def test_hyperparameters_config_round_trips_through_json(forest, seed, scope):
    hp = HyperParameters()
    if scope:
        with hp.name_scope(scope):
            build(hp, forest)
    else:
        build(hp, forest)
    rng = random.Random(seed)
    hp.values = values_by_walking(hp.space, lambda d: d.from_unit(rng.random()))

    config = hp.get_config()
    text = json.dumps(config, allow_nan=False)  # plain JSON, nothing custom
    restored = HyperParameters.from_config(json.loads(text))
    assert json.dumps(restored.get_config(), allow_nan=False) == text
    assert restored.values == hp.values
    assert restored.space == hp.space
    assert all(a.same_definition(b) for a, b in zip(restored.space, hp.space, strict=True))

    copy = hp.copy()
    assert copy.values == hp.values and copy.space == hp.space
    copy.values["__extra__"] = 1
    assert "__extra__" not in hp.values

    # Re-running the build on the restored container finds every definition and keeps the values.
    if scope:
        with restored.name_scope(scope):
            returned = build(restored, forest)
    else:
        returned = build(restored, forest)
    assert len(restored.space) == len(hp.space)
    assert restored.values == hp.values
    for name, value in returned.items():
        full = f"{scope}/{name}" if scope else name
        if full in hp.values:
            assert _exact(value, hp.values[full])
        else:
            assert value is None
