"""``HyperModel``: ``build(hp)`` returns a model, ``fit(hp, model, ...)`` trains it.

This module stays free of Keras: the default ``fit`` calls ``model.fit``, whatever the model is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperknob.exceptions import FatalValueError
from hyperknob.space.hyperparameters import HyperParameters

__all__ = ["HyperModel", "get_hypermodel"]


class HyperModel:
    """Subclass and implement ``build(hp)``; override ``fit`` to tune training arguments too.

    ``tunable=False`` builds with a copy of ``hp``, so the parameters it declares keep their
    defaults and never enter the search space (KerasTuner's meaning).
    """

    def __init__(self, name: str | None = None, tunable: bool = True) -> None:
        self.name = name
        self.tunable = tunable
        self._build = self.build
        self.build = self._build_wrapper  # type: ignore[method-assign]

    def build(self, hp: HyperParameters) -> Any:
        raise NotImplementedError("Implement build(hp) and return a model.")

    def _build_wrapper(self, hp: HyperParameters, *args: Any, **kwargs: Any) -> Any:
        if not self.tunable:
            hp = hp.copy()
        return self._build(hp, *args, **kwargs)

    def declare_hyperparameters(self, hp: HyperParameters) -> None:
        pass

    def fit(self, hp: HyperParameters, model: Any, *args: Any, **kwargs: Any) -> Any:
        """Train ``model``; returns what ``model.fit`` returns (a History, a float or a dict)."""
        return model.fit(*args, **kwargs)


class DefaultHyperModel(HyperModel):
    """Wraps a plain ``build(hp)`` function."""

    def __init__(self, build: Callable[[HyperParameters], Any], name: str | None = None, tunable: bool = True) -> None:
        super().__init__(name=name, tunable=tunable)
        self.build_fn = build

    def build(self, hp: HyperParameters) -> Any:
        return self.build_fn(hp)


def get_hypermodel(hypermodel: Any) -> HyperModel | None:
    if hypermodel is None:
        return None
    if isinstance(hypermodel, HyperModel):
        return hypermodel
    if not callable(hypermodel):
        raise FatalValueError(
            f"hypermodel={hypermodel!r} is neither a HyperModel nor a callable build(hp). "
            "Pass a function that takes hp and returns a model, or a HyperModel instance."
        )
    return DefaultHyperModel(hypermodel)
