"""The study's search space as this process knows it: the stored definitions (JSON, as the study's
configuration holds them), the parsed definitions, and the names the user predefined."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from hyperknob.exceptions import SearchSpaceError, StorageError
from hyperknob.space import parameters as P
from hyperknob.space.hyperparameters import HyperParameters

__all__ = ["StudySpace"]


def _parsed(config: Sequence[dict[str, Any]]) -> list[P.HyperParameter]:
    """The stored definitions parsed; one that no longer parses was damaged in storage, which is
    not the user's search space being wrong, so it says so."""
    try:
        return [P.deserialize(c) for c in config]
    except (SearchSpaceError, KeyError, TypeError, ValueError) as exc:
        raise StorageError(
            f"The study's stored search space cannot be read ({exc}): the study file is damaged or was changed "
            "by hand. Restore it from a backup, or copy its trials with `hyperknob recover PROJECT --to NEW`."
        ) from exc


class StudySpace:
    """Kept in step with the stored configuration by ``set_config`` (every claim reads it), so a
    definition another worker stored is known here at the next proposal."""

    def __init__(self, config: Sequence[dict[str, Any]], predefined: Iterable[str]) -> None:
        self.config: list[dict[str, Any]] = list(config)
        self.definitions = _parsed(self.config)
        self.predefined = frozenset(predefined)

    def set_config(self, config: Sequence[dict[str, Any]]) -> None:
        if list(config) != self.config:
            self.config = list(config)
            self.definitions = _parsed(self.config)

    def unknown(self, items: Iterable[P.HyperParameter]) -> list[P.HyperParameter]:
        """The definitions among ``items`` the study has not seen (a name under other conditions
        is another definition)."""
        known = {(p.name, p.conditions) for p in self.definitions}
        return [p for p in items if (p.name, p.conditions) not in known]

    def new_hyperparameters(self) -> HyperParameters:
        """Empty hyperparameters with the study's space. The user's predefined entries override what
        the build function declares, also when a finished trial's hyperparameters build its model
        again (get_best_models, a retrain)."""
        hps = HyperParameters.from_config({"space": self.config, "values": {}})
        hps._override_names = set(self.predefined)
        return hps

    def defaults(self) -> HyperParameters:
        """The space with every active parameter at its default (``Study.get_space``)."""
        hps = self.new_hyperparameters()
        for hp in hps.space:
            if hp.name not in hps.values and hps.is_active(hp):
                hps.values[hp.name] = hp.default
        return hps
