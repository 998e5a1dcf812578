"""Operations on a whole space (a sequence of definitions): walking its conditions, sampling it,
enumerating its grid, and keying configurations for duplicate checks.

Definitions are walked in the order they were declared, so a parent is always decided before the
parameters that depend on it. Several definitions may share a name (one per conditional branch);
the first active one decides the value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from hyperknob.space.parameters import Float, HyperParameter, serialize

__all__ = ["config_key", "grid_axis", "grid_size", "iter_grid", "merge_space_config", "values_by_walking"]


def config_key(values: Mapping[str, Any]) -> str:
    """A canonical text key of a configuration: equal configurations give equal keys."""
    return json.dumps({k: values[k] for k in sorted(values)}, sort_keys=True, default=str)


def grid_axis(hp: HyperParameter) -> tuple[Any, ...]:
    """The values grid search visits for one parameter: the default first, then the others in order.

    A continuous Float contributes ten evenly spread points (KerasTuner's ``values``).
    """
    values = hp.grid_values()
    if values is None:
        values = hp.values if isinstance(hp, Float) else ()
    default = hp.default
    rest = [v for v in values if not _same(v, default)]
    return (default, *rest)


def _same(a: Any, b: Any) -> bool:
    # Exact: a stepped default is stored as its grid value, so no tolerance is needed (and any
    # tolerance would merge distinct small values).
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def values_by_walking(space: Sequence[HyperParameter], choose: Callable[[HyperParameter], Any]) -> dict[str, Any]:
    """Values for every parameter that is active, choosing each one as the walk reaches it."""
    values: dict[str, Any] = {}
    for hp in space:
        if hp.name in values or not hp.is_active(values):
            continue
        values[hp.name] = choose(hp)
    return values


def iter_grid(space: Sequence[HyperParameter]) -> Iterator[dict[str, Any]]:
    """Every distinct active configuration once, the last-declared parameter varying fastest."""
    space = list(space)

    def walk(i: int, values: dict[str, Any]) -> Iterator[dict[str, Any]]:
        while i < len(space) and (space[i].name in values or not space[i].is_active(values)):
            i += 1
        if i == len(space):
            yield dict(values)
            return
        hp = space[i]
        for value in grid_axis(hp):
            values[hp.name] = value
            yield from walk(i + 1, values)
        del values[hp.name]

    yield from walk(0, {})


def grid_size(space: Sequence[HyperParameter], limit: int = 1_000_000) -> int | None:
    """How many configurations the space has, or None when it is continuous or larger than ``limit``."""
    counts: dict[str, int] = {}
    for hp in space:
        count = hp.grid_count()
        if count is None:
            return None
        counts.setdefault(hp.name, count)
    # Without conditions the product is exact; with them, count by walking (bounded by ``limit``).
    if all(not hp.conditions for hp in space):
        total = 1
        for count in counts.values():
            total *= count
            if total > limit:
                return None
        return total
    if any(count > limit for count in counts.values()):
        return None
    count = 0
    for _ in iter_grid(space):
        count += 1
        if count > limit:
            return None
    return count


def merge_space_config(space: Sequence[Mapping[str, Any]], new: Sequence[HyperParameter]) -> list[dict[str, Any]]:
    """A stored space (serialised definitions) with ``new`` definitions appended, each (name,
    conditions) pair once; the order of declaration is kept, so parents stay before children."""
    def key(item: Mapping[str, Any]) -> tuple[str, str]:
        return item["config"]["name"], json.dumps(item["config"].get("conditions", []), sort_keys=True)

    merged = [dict(item) for item in space]
    seen = {key(item) for item in merged}
    for hp in new:
        item = serialize(hp)
        if key(item) not in seen:
            merged.append(item)
            seen.add(key(item))
    return merged
