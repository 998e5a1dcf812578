"""The interface between ``Tuner`` and a framework integration: how a framework's models are
trained, checkpointed and loaded again.

The tuner layer knows no framework. An integration (today only Keras, in
``hyperknob.integrations.keras.runner``) implements ``ModelRunner`` and announces itself with an
entry point in the ``hyperknob.model_runners`` group, named after the framework's top-level
module::

    [project.entry-points."hyperknob.model_runners"]
    keras = "hyperknob.integrations.keras.runner:KerasRunner"

A runner is loaded only once its framework has been imported by the user's code (``"keras" in
sys.modules``), so a scikit-learn or plain search never imports Keras. The dependency runs one way:
the integration imports the tuner, the tuner never imports the integration.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from hyperknob.study.trial import Trial
    from hyperknob.tuners.tuner import Tuner

__all__ = ["GROUP", "ModelRunner", "active_runners", "declaration_scope", "register_model_runner", "runner_for"]

GROUP = "hyperknob.model_runners"


@runtime_checkable
class ModelRunner(Protocol):
    """What ``Tuner`` asks of a framework. Every method receives the tuner, so a runner keeps no
    state of its own beyond what it stores on the tuner or in the trial's directory."""

    def accepts(self, model: Any) -> bool:
        """Whether ``model`` is one of this framework's models."""

    def declaration_scope(self) -> contextlib.AbstractContextManager[Any]:
        """The context in which models built only to learn the search space are built."""

    def release_state(self) -> None:
        """Forget the previous trial's framework state before the next build."""

    def recompile(self, model: Any, overrides: dict[str, Any]) -> None:
        """Compile ``model`` again with the tuner's ``optimizer``/``loss``/``metrics``."""

    def run_trial(self, tuner: Tuner, trial: Trial, model: Any, *fit_args: Any, **fit_kwargs: Any) -> Any:
        """Train ``model`` (and fresh builds for further executions), reporting every epoch."""

    def continue_from(self, tuner: Tuner, model: Any, parent_id: str) -> None:
        """Load the state trial ``parent_id`` ended with into ``model`` (a schedule's promotion)."""

    def load_best_model(self, tuner: Tuner, trial: Trial) -> Any:
        """The trial's model with its best epoch's weights."""

    def record_epoch(self, tuner: Tuner, trial: Trial, model: Any, epoch: int, logs: Any) -> None:
        """Record an epoch of a custom training loop (``Tuner.on_epoch_end``)."""

    def save_model(self, tuner: Tuner, trial_id: str, model: Any) -> None:
        """Write ``model`` as the trial's checkpoint (``Tuner.save_model``)."""


_registered: list[ModelRunner] = []
_loaded: dict[str, ModelRunner] = {}


def register_model_runner(runner: ModelRunner) -> None:
    """Use ``runner`` in this process in addition to those the installed packages announce (a
    framework integration that is not installed as a package, or a test)."""
    if not isinstance(runner, ModelRunner):
        raise TypeError(f"{type(runner).__name__} does not implement hyperknob.tuners.model_runner.ModelRunner.")
    if runner not in _registered:
        _registered.append(runner)


def active_runners() -> list[ModelRunner]:
    """The runners whose framework this process has imported: registered ones first, then those
    announced by entry points (each loaded once)."""
    runners = list(_registered)
    for point in _announced():
        if point.name in sys.modules:
            if point.name not in _loaded:
                _loaded[point.name] = point.load()()
            runners.append(_loaded[point.name])
    return runners


def runner_for(model: Any) -> ModelRunner | None:
    """The runner that trains ``model``, or None for a model no integration knows (the tuner then
    calls ``hypermodel.fit`` and saves nothing)."""
    return next((runner for runner in active_runners() if runner.accepts(model)), None)


@contextlib.contextmanager
def declaration_scope() -> Iterator[None]:
    """Every active runner's declaration scope, entered together."""
    with contextlib.ExitStack() as stack:
        for runner in active_runners():
            stack.enter_context(runner.declaration_scope())
        yield


_announced_cache: list[Any] | None = None


def _announced() -> list[Any]:
    global _announced_cache
    if _announced_cache is None:
        _announced_cache = list(entry_points(group=GROUP))
    return _announced_cache
