"""The define-by-run ``HyperParameters`` container that ``build(hp)`` and objectives receive.

It records definitions into a space (a list of immutable parameter definitions) and answers each
definition with the trial's value: the value the algorithm chose, the default on the very first
definition (KerasTuner's rule), or None while the parameter's conditions do not hold.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from hyperknob.exceptions import FatalRuntimeError, SearchSpaceError
from hyperknob.space import parameters as P
from hyperknob.space.conditions import Parent

__all__ = ["HyperParameters"]

Suggest = Callable[[P.HyperParameter], Any]


class HyperParameters:
    """A search space plus the current trial's values (``hp.values`` holds active values only)."""

    def __init__(self) -> None:
        self._name_scopes: list[str] = []
        self._conditions: list[Parent] = []
        self._space: list[P.HyperParameter] = []
        self._by_name: dict[str, list[P.HyperParameter]] = {}
        self.values: dict[str, Any] = {}
        # KerasTuner exposes these; its tuner uses them to visit every conditional branch.
        self.active_scopes: list[list[Parent]] = []
        self.inactive_scopes: list[list[Parent]] = []
        # Set by the study for a running trial: how to value a parameter first seen mid-trial, and
        # whether such a parameter is allowed at all (``allow_new_entries=False``).
        self._suggest: Suggest | None = None
        self._frozen_names: frozenset[str] | None = None
        # Set by the study for a running trial: told of each definition it has not seen, so the
        # space is stored as soon as it is declared, not only when the trial ends.
        self._on_new: Callable[[P.HyperParameter], None] | None = None
        # Names the user predefined in the tuner's `hyperparameters`: their definition wins over a
        # different one in build(hp), as in KerasTuner.
        self._override_names: set[str] = set()
        # Names declared through hp.X(...) on this container (as opposed to loaded from a study).
        self._declared: set[str] = set()

    # --- scopes -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def name_scope(self, name: str) -> Iterator[None]:
        """Prefix the names of parameters defined inside with ``name/``."""
        self._name_scopes.append(str(name))
        try:
            yield
        finally:
            self._name_scopes.pop()

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """Parameters defined inside are active only while ``parent_name`` holds one of ``parent_values``.

        The code inside always runs; inactive parameters return None there.
        """
        full_name = self._get_name(parent_name)
        if full_name not in self._by_name:
            known = ", ".join(sorted(self._by_name)) or "none yet"
            raise SearchSpaceError(
                f"conditional_scope('{full_name}', ...) refers to a parent that is not defined (defined: {known}). "
                "Define the parent (e.g. hp.Choice) before opening a conditional scope on it."
            )
        condition = Parent(full_name, parent_values)
        for definition in self._by_name[full_name]:
            if isinstance(definition, (P.Choice, P.Boolean, P.Fixed, P.Int)) or definition.grid_values() is not None:
                missing = [v for v in condition.values if not definition.contains(v)]
                if missing and len(self._by_name[full_name]) == 1:
                    raise SearchSpaceError(
                        f"conditional_scope('{full_name}', {list(condition.values)}): {missing} can never be taken "
                        f"by '{full_name}' ({definition!r}). Use values the parent can take."
                    )
        self._conditions.append(condition)
        if condition.is_active(self.values) and self._conditions_active(self._conditions[:-1]):
            self.active_scopes.append(list(self._conditions))
        else:
            self.inactive_scopes.append(list(self._conditions))
        try:
            yield
        finally:
            self._conditions.pop()

    @contextlib.contextmanager
    def _maybe_conditional_scope(self, parent_name: str | None, parent_values: Any) -> Iterator[None]:
        if parent_name:
            with self.conditional_scope(parent_name, parent_values):
                yield
        else:
            yield

    def _get_name(self, name: str) -> str:
        return "/".join([*self._name_scopes, str(name)])

    # --- activity ---------------------------------------------------------------------------------
    def _conditions_active(self, conditions: Sequence[Parent]) -> bool:
        return all(c.is_active(self.values) for c in conditions)

    def is_active(self, hyperparameter: P.HyperParameter | str) -> bool:
        """Whether a definition (or any definition of a name) has all its conditions met now."""
        if isinstance(hyperparameter, P.HyperParameter):
            return self._conditions_active(hyperparameter.conditions)
        return any(self._conditions_active(d.conditions) for d in self._by_name.get(str(hyperparameter), ()))

    def _find(self, name: str, conditions: Sequence[Parent]) -> P.HyperParameter | None:
        for definition in self._by_name.get(name, ()):
            if definition.conditions == tuple(conditions):
                return definition
        return None

    # --- definition -------------------------------------------------------------------------------
    def _retrieve(self, hp: P.HyperParameter) -> Any:
        existing = self._find(hp.name, hp.conditions)
        if existing is None:
            return self._register(hp)
        # A Fixed value pins whatever is declared later under its name (KerasTuner's way to fix
        # one hyperparameter of a ready-made hypermodel: ``hp.Fixed("version", "v1")``).
        pinned = isinstance(existing, P.Fixed)
        if not existing.same_definition(hp) and hp.name not in self._override_names and not pinned:
            if hp.name not in self._declared:
                raise SearchSpaceError(
                    f"'{hp.name}' is declared as {hp!r}, but the stored study defines it as {existing!r}. "
                    "A study keeps its search space: to search a changed space, start a new study "
                    "(overwrite=True or another project_name), or declare it as the study does."
                )
            raise SearchSpaceError(
                f"'{hp.name}' is declared again with a different definition: first {existing!r}, now {hp!r}. "
                "Give the second one its own name (or use hp.name_scope), or declare it the same way each time."
            )
        self._declared.add(hp.name)
        if not self.is_active(existing):
            return None
        if hp.name not in self.values:
            self.values[hp.name] = self._first_value(existing)
        return self.values[hp.name]

    def _register(self, hp: P.HyperParameter, overwrite: bool = False) -> Any:
        self._declared.add(hp.name)
        for condition in hp.conditions:
            if condition.name == hp.name:
                raise SearchSpaceError(
                    f"'{hp.name}' cannot be conditional on itself; give the conditional parameter another name."
                )
        if self._frozen_names is not None and hp.name not in self._frozen_names:
            known = ", ".join(sorted(self._frozen_names)) or "none"
            raise FatalRuntimeError(
                f"allow_new_entries=False, but the hypermodel defined a new hyperparameter {hp!r}. "
                f"The predefined space has: {known}. Add it to the `hyperparameters` you pass to the tuner, "
                "or set allow_new_entries=True."
            )
        self._space.append(hp)
        self._by_name.setdefault(hp.name, []).append(hp)
        if self._on_new is not None:
            self._on_new(hp)
        if not self.is_active(hp):
            return None
        if overwrite or hp.name not in self.values:
            self.values[hp.name] = self._first_value(hp)
        return self.values[hp.name]

    def _first_value(self, hp: P.HyperParameter) -> Any:
        if self._suggest is not None and not isinstance(hp, P.Fixed):
            return self._suggest(hp)
        return hp.default

    def Choice(
        self,
        name: str,
        values: Sequence[Any],
        ordered: bool | None = None,
        default: Any = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        """One of ``values`` (all of one type: int, float, str or bool); default: the first."""
        with self._maybe_conditional_scope(parent_name, parent_values):
            hp = P.Choice(self._get_name(name), values, ordered=ordered, default=default, conditions=self._conditions)
            return self._retrieve(hp)

    def Int(
        self,
        name: str,
        min_value: int,
        max_value: int,
        step: int | None = None,
        sampling: str = "linear",
        default: int | None = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> int | None:
        """An integer in ``[min_value, max_value]`` (both included); default: ``min_value``."""
        with self._maybe_conditional_scope(parent_name, parent_values):
            hp = P.Int(
                self._get_name(name), min_value, max_value, step=step, sampling=sampling, default=default,
                conditions=self._conditions,
            )
            value: int | None = self._retrieve(hp)
            return value

    def Float(
        self,
        name: str,
        min_value: float,
        max_value: float,
        step: float | None = None,
        sampling: str = "linear",
        default: float | None = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> float | None:
        """A real number in ``[min_value, max_value]``; default: ``min_value``."""
        with self._maybe_conditional_scope(parent_name, parent_values):
            hp = P.Float(
                self._get_name(name), min_value, max_value, step=step, sampling=sampling, default=default,
                conditions=self._conditions,
            )
            value: float | None = self._retrieve(hp)
            return value

    def Boolean(
        self, name: str, default: bool = False, parent_name: str | None = None, parent_values: Any = None
    ) -> bool | None:
        with self._maybe_conditional_scope(parent_name, parent_values):
            hp = P.Boolean(self._get_name(name), default=default, conditions=self._conditions)
            value: bool | None = self._retrieve(hp)
            return value

    def Fixed(self, name: str, value: Any, parent_name: str | None = None, parent_values: Any = None) -> Any:
        with self._maybe_conditional_scope(parent_name, parent_values):
            return self._retrieve(P.Fixed(self._get_name(name), value, conditions=self._conditions))

    # --- reading ----------------------------------------------------------------------------------
    def get(self, name: str) -> Any:
        full_name = self._get_name(name)
        if full_name in self.values:
            return self.values[full_name]
        if full_name in self._by_name:
            raise ValueError(f"'{full_name}' is currently inactive: its conditions do not hold for this trial.")
        known = ", ".join(sorted(self._by_name)) or "none"
        raise KeyError(f"'{full_name}' does not exist. Defined hyperparameters: {known}.")

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        try:
            self.get(str(name))
        except (KeyError, ValueError):
            return False
        return True

    @property
    def space(self) -> list[P.HyperParameter]:
        return list(self._space)

    def __repr__(self) -> str:
        return f"HyperParameters(values={self.values!r})"

    # --- copying and merging ----------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {"space": [P.serialize(p) for p in self._space], "values": dict(self.values)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> HyperParameters:
        hps = cls()
        for item in config.get("space", []):
            p = P.deserialize(item)
            hps._space.append(p)
            hps._by_name.setdefault(p.name, []).append(p)
        hps.values = dict(config.get("values", {}))
        return hps

    def copy(self) -> HyperParameters:
        """An independent container with the same space, values and predefined overrides."""
        hps = HyperParameters.from_config(self.get_config())
        hps._override_names = set(self._override_names)
        return hps

    def merge(self, hps: HyperParameters | Sequence[P.HyperParameter], overwrite: bool = True) -> None:
        """Add definitions from another container; ``overwrite`` replaces same-named ones' values."""
        items = hps.space if isinstance(hps, HyperParameters) else list(hps)
        for hp in items:
            existing = self._find(hp.name, hp.conditions)
            if existing is not None:
                if not overwrite:
                    continue
                self._space[self._space.index(existing)] = hp
                group = self._by_name[hp.name]
                group[group.index(existing)] = hp
                if self.is_active(hp):
                    self.values[hp.name] = hp.default
                continue
            self._register(hp, overwrite=overwrite)

    def ensure_active_values(self) -> None:
        """Give active parameters without a value a random one and drop values of inactive ones."""
        for hp in self._space:
            if self.is_active(hp):
                if hp.name not in self.values:
                    self.values[hp.name] = hp.random_sample()
            elif not self.is_active(hp.name):
                self.values.pop(hp.name, None)

    def active_space(self) -> list[P.HyperParameter]:
        """The definitions that are active for the current values."""
        return [hp for hp in self._space if self.is_active(hp)]
