"""KerasTuner's ``Tuner``: a ``BaseTuner`` whose trials build a model with the hypermodel and fit it.

Nothing here imports Keras or any integration: a framework's models are trained by the
``ModelRunner`` its integration announces (see ``model_runner``); any other model only needs
``compile`` (when compile overrides are given) and ``fit``.
"""

from __future__ import annotations

from typing import Any

from hyperknob.exceptions import FatalTypeError
from hyperknob.oracles.oracle import Oracle
from hyperknob.space.hyperparameters import HyperParameters
from hyperknob.study.trial import Trial
from hyperknob.tuners.base_tuner import BaseTuner
from hyperknob.tuners.model_runner import active_runners, runner_for

__all__ = ["Tuner", "oracle_arguments"]


def oracle_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """A named tuner's own arguments (its ``locals()``) less those that belong to ``Tuner``: what
    its oracle takes."""
    return {k: v for k, v in arguments.items() if k not in ("self", "hypermodel", "kwargs", "__class__")}


class Tuner(BaseTuner):
    """Builds ``hypermodel.build(hp)``, optionally recompiles it, and returns ``hypermodel.fit(...)``.

    ``executions_per_trial`` fits that many fresh models and averages their metrics;
    ``optimizer``, ``loss`` and ``metrics`` recompile each model with those instead of build's.
    """

    # Set by the Keras callback around on_epoch_end (read with getattr: unset means False).
    _epoch_hook_from_fit: bool

    def __init__(
        self,
        oracle: Oracle,
        hypermodel: Any = None,
        max_model_size: int | None = None,
        optimizer: Any = None,
        loss: Any = None,
        metrics: Any = None,
        distribution_strategy: Any = None,
        directory: str | None = None,
        project_name: str | None = None,
        logger: Any = None,
        tuner_id: str | None = None,
        overwrite: bool = False,
        executions_per_trial: int = 1,
        **kwargs: Any,
    ) -> None:
        if hypermodel is None and type(self).run_trial is Tuner.run_trial:
            raise ValueError(
                "Received hypermodel=None. A Tuner without a hypermodel must define the search in "
                "run_trial(): subclass it and override run_trial(trial, *args, **kwargs), or pass "
                "hypermodel=build_fn."
            )
        if not isinstance(executions_per_trial, int) or executions_per_trial < 1:
            raise ValueError(f"executions_per_trial must be a positive integer, received {executions_per_trial!r}.")
        super().__init__(
            oracle=oracle, hypermodel=hypermodel, directory=directory, project_name=project_name,
            overwrite=overwrite, tuner_id=tuner_id, logger=logger, **kwargs,
        )
        self.max_model_size = max_model_size
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.distribution_strategy = distribution_strategy
        self.executions_per_trial = executions_per_trial

    def _build_hypermodel(self, hp: HyperParameters) -> Any:
        for active in active_runners():
            active.release_state()  # the previous model's framework state (Keras: clear_session)
        if self.hypermodel is None:
            raise FatalTypeError(
                f"{type(self).__name__} has no hypermodel: pass hypermodel=build_fn, or override run_trial()."
            )
        if self.distribution_strategy is not None:
            # KerasTuner builds (and so compiles) under the strategy's scope: a
            # tf.distribute.MirroredStrategy then trains each trial on all its devices.
            with self.distribution_strategy.scope():
                model = self.hypermodel.build(hp)
        else:
            model = self.hypermodel.build(hp)
        if model is None:
            raise FatalTypeError(
                "The hypermodel's build(hp) returned None. Make build(hp) return the model it builds."
            )
        given = (("optimizer", self.optimizer), ("loss", self.loss), ("metrics", self.metrics))
        overrides = {k: v for k, v in given if v is not None}
        if overrides:
            runner = runner_for(model)
            if runner is not None:
                runner.recompile(model, overrides)
            else:
                model.compile(**overrides)
        return model

    def run_trial(self, trial: Trial, *args: Any, **kwargs: Any) -> Any:
        """Build and fit (``executions_per_trial`` times); returns the History, or a list of them.

        A Keras model is fitted with per-epoch reporting, a best-epoch checkpoint and fresh copies of
        the user's callbacks (see ``hyperknob.integrations.keras``)."""
        hp = trial.hyperparameters
        model = self._build_hypermodel(hp)
        runner = runner_for(model)
        if runner is not None:
            return runner.run_trial(self, trial, model, *args, **kwargs)
        results = []
        for execution in range(self.executions_per_trial):
            if execution:
                model = self._build_hypermodel(hp)
            results.append(self.hypermodel.fit(hp, model, *args, **kwargs))  # type: ignore[union-attr]
        return results[0] if len(results) == 1 else results

    def load_model(self, trial: Trial) -> Any:
        """The trial's model with the weights of its best epoch (Keras models)."""
        runners = active_runners()
        if not runners:
            raise FileNotFoundError(
                f"Trial {trial.trial_id} has no saved model: hyperknob saves the models of Keras trials only. "
                "Rebuild it with tuner.hypermodel.build(trial.hyperparameters) and train it instead."
            )
        return runners[0].load_best_model(self, trial)

    # KerasTuner's training hooks; called from inside model.fit for Keras models.
    def on_epoch_begin(self, trial: Trial, model: Any, epoch: int, logs: Any = None) -> None:
        pass

    def on_epoch_end(self, trial: Trial, model: Any, epoch: int, logs: Any = None) -> None:
        """Record an epoch of a custom training loop (KerasTuner's documented way: a ``run_trial``
        that trains by itself calls ``self.on_epoch_end(trial, model, epoch, logs={...})``): its
        logs go into the trial and the model is saved when the objective improved. Inside
        ``model.fit`` the trial's own callback has recorded the epoch already; an override is a
        hook and need not call this."""
        if getattr(self, "_epoch_hook_from_fit", False) or model is None:
            return
        runner = runner_for(model)
        if runner is not None:
            runner.record_epoch(self, trial, model, epoch, logs)

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        """Save ``model`` as the trial's checkpoint, which ``get_best_models()`` loads (KerasTuner's
        way for a ``run_trial`` that reports with ``oracle.update_trial``)."""
        runner = runner_for(model)
        if runner is None:
            raise TypeError(
                f"save_model() saves Keras models; received {type(model).__name__}. Save it yourself in run_trial()."
            )
        runner.save_model(self, trial_id, model)

    def on_batch_begin(self, trial: Trial, model: Any, batch: int, logs: Any = None) -> None:
        pass

    def on_batch_end(self, trial: Trial, model: Any, batch: int, logs: Any = None) -> None:
        pass
