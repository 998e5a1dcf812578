"""One Keras trial: build, (re)compile, fit with the trial's callbacks, once per execution.

User callbacks are deep-copied for each execution so that each starts fresh (an EarlyStopping's
patience, a TensorBoard directory per trial). The Keras state of the previous trial is released
with ``clear_session(free_memory=False)``: Python's reference counting frees the models, and the
full garbage collection KerasTuner runs twice per trial (about half a second each with torch
loaded) is left to Python's own schedule.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from typing import TYPE_CHECKING, Any

import keras

from hyperknob.exceptions import TrialPruned
from hyperknob.integrations.keras.callbacks import (
    BatchHooks,
    TrialCallback,
    build_config_path,
)
from hyperknob.integrations.keras.input_spec import (
    build_from_input_spec,
    describe_inputs,
)
from hyperknob.integrations.keras.tensorboard import tensorboard_without_tensorflow

if TYPE_CHECKING:
    from hyperknob.study.trial import Trial
    from hyperknob.tuners.tuner import Tuner

__all__ = [
    "OversizedModelError",
    "checkpoint_path",
    "is_keras_model",
    "load_best_model",
    "load_parent_state",
    "load_trained_state",
    "resume_path",
    "run_keras_trial",
]

logger = logging.getLogger("hyperknob")

CHECKPOINT_NAME = "checkpoint.weights.h5"
RESUME_NAME = "resume.weights.h5"  # the state at the end of training, which a promotion continues


class OversizedModelError(RuntimeError):
    """The built model has more parameters than ``max_model_size``; it is not trained."""


def is_keras_model(model: Any) -> bool:
    return isinstance(model, keras.Model)


def checkpoint_path(tuner: Tuner, trial_id: str) -> str:
    return os.path.join(tuner.get_trial_dir(trial_id), CHECKPOINT_NAME)


def resume_path(tuner: Tuner, trial_id: str) -> str:
    return os.path.join(tuner.get_trial_dir(trial_id), RESUME_NAME)


def _copy_callbacks(callbacks: list[Any], tuner: Tuner, trial: Trial, execution: int) -> list[Any]:
    copied = copy.deepcopy(list(callbacks))
    for callback in copied:
        if isinstance(callback, keras.callbacks.TensorBoard):
            # One run directory per trial (and execution), as KerasTuner does.
            parts = [callback.log_dir, str(trial.trial_id)]
            if tuner.executions_per_trial > 1:
                parts.append(f"execution{execution}")
            callback.log_dir = os.path.join(*parts)
    return [tensorboard_without_tensorflow(callback) for callback in copied]


def recompile(model: Any, overrides: dict[str, Any]) -> None:
    """Compile again with the tuner's ``optimizer``/``loss``/``metrics`` in place of build's, keeping
    build's other compile arguments. An optimizer instance is copied for each model: a Keras
    optimizer cannot serve two models."""
    compiled = getattr(model, "_compile_config", None)
    kwargs = dict(compiled.config) if compiled is not None else {}
    kwargs.update(overrides)
    optimizer = kwargs.get("optimizer")
    if isinstance(optimizer, keras.optimizers.Optimizer):
        kwargs["optimizer"] = type(optimizer).from_config(optimizer.get_config())
    model.compile(**kwargs)


def check_model_size(tuner: Tuner, model: Any) -> None:
    if tuner.max_model_size is None:
        return
    size = model.count_params() if model.built else None
    if size is not None and size > tuner.max_model_size:
        raise OversizedModelError(
            f"Oversized model: {size} parameters, more than max_model_size={tuner.max_model_size}; not trained."
        )


def run_keras_trial(tuner: Tuner, trial: Trial, first_model: Any, *fit_args: Any, **fit_kwargs: Any) -> Any:
    """Fit ``first_model`` (already built) and fresh builds for further executions; returns the
    History (or what ``HyperModel.fit`` returns), a list of them with several executions."""
    user_callbacks = list(fit_kwargs.pop("callbacks", None) or [])
    hp = trial.hyperparameters
    best: list[float | None] = [None]
    path = checkpoint_path(tuner, str(trial.trial_id))
    resume = resume_path(tuner, str(trial.trial_id)) if _may_be_continued(tuner, trial) else None
    results = []
    spec = describe_inputs(fit_args, fit_kwargs)
    for execution in range(tuner.executions_per_trial):
        model = first_model if execution == 0 else tuner._build_hypermodel(hp)
        check_model_size(tuner, model)
        reporter = TrialCallback(tuner, trial, path, best, resume, input_spec=spec)
        callbacks = [*_copy_callbacks(user_callbacks, tuner, trial, execution), reporter]
        if _overrides_batch_hooks(tuner):
            callbacks.append(BatchHooks(tuner, trial))
        results.append(tuner.hypermodel.fit(hp, model, *fit_args, callbacks=callbacks, **fit_kwargs))  # type: ignore[union-attr]
        if best[0] is None and reporter.pruned_at is None:
            # The objective never appeared in an epoch's logs: ``HyperModel.fit`` returned it (a
            # float or a dict). The model as trained is what the score describes, so it is kept
            # (KerasTuner saves at every epoch then; this also covers a fit that dropped the
            # callbacks), and ``get_best_models()`` has weights to load.
            reporter.save(model)
        del model
        if reporter.pruned_at is not None:
            raise TrialPruned(f"Pruned after epoch {reporter.pruned_at} by {tuner.study.pruner!r}.")
    return results[0] if len(results) == 1 else results


def epoch_recorder(tuner: Tuner, trial: Trial, model: Any) -> TrialCallback:
    """The recorder of a custom training loop's epochs for ``trial``: one per trial, so the best
    epoch is kept over all of them."""
    recorders = tuner.__dict__.setdefault("_epoch_recorders", {})
    recorder = recorders.get(trial.trial_id)
    if recorder is None or recorder.trial is not trial:
        recorders.clear()  # one trial runs at a time in a tuner
        recorder = TrialCallback(tuner, trial, checkpoint_path(tuner, str(trial.trial_id)), [None])
        recorders[trial.trial_id] = recorder
    recorder.set_model(model)
    return recorder


def save_checkpoint(tuner: Tuner, trial_id: str, model: Any) -> None:
    """Write ``model`` as trial ``trial_id``'s checkpoint."""
    if not is_keras_model(model):
        raise TypeError(
            f"save_model() saves Keras models; received {type(model).__name__}. Save it yourself in run_trial()."
        )
    TrialCallback(tuner, None, checkpoint_path(tuner, str(trial_id)), [None]).save(model)  # type: ignore[arg-type]


def _may_be_continued(tuner: Tuner, trial: Trial) -> bool:
    """Whether a schedule may continue this trial later: only then is its end state saved (a trial
    that already trains to the schedule's ``max_epochs`` is never promoted)."""
    if not getattr(tuner, "saves_resume_state", False):
        return False
    epochs = trial.hyperparameters.values.get("tuner/epochs")
    max_epochs = getattr(tuner.oracle, "max_epochs", None)
    return epochs is None or max_epochs is None or int(epochs) < int(max_epochs)


def _overrides_batch_hooks(tuner: Tuner) -> bool:
    from hyperknob.tuners.tuner import Tuner as BaseKerasTuner

    cls = type(tuner)
    return (cls.on_batch_begin is not BaseKerasTuner.on_batch_begin
            or cls.on_batch_end is not BaseKerasTuner.on_batch_end)


def release_keras_state() -> None:
    """Forget the previous model's Keras state before the next build.

    On PyTorch, reference counting frees a finished model, so the full garbage collection
    (about 0.2 s per call with torch loaded) is skipped: 30 trials grow memory by about 1.4 MiB.
    JAX and TensorFlow keep compiled functions alive in reference cycles; without a collection JAX
    grew 74 MiB over 25 trials (24 MiB with it), so those backends pay for one collection per trial,
    a small cost next to their per-model compilation (about 1 s)."""
    keras.backend.clear_session(free_memory=keras.backend.backend() != "torch")


def load_best_model(tuner: Tuner, trial: Trial) -> Any:
    """The trial's model rebuilt from its hyperparameters, with its best epoch's weights."""
    path = checkpoint_path(tuner, str(trial.trial_id))
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"Trial {trial.trial_id} has no saved weights at {path} (it failed, or it was not a Keras trial). "
            "Rebuild it with tuner.hypermodel.build(trial.hyperparameters) and train it instead."
        )
    model = tuner._build_hypermodel(trial.hyperparameters)
    load_trained_state(model, path)
    return model


def load_trained_state(model: Any, path: str) -> None:
    """Load weights AND optimizer state saved by ``save_weights`` into a freshly built model.

    The model is built first (from the saved build config when it has no Input) and so is its
    optimizer, so the optimizer's variables (Adam's moments, the iteration count a learning-rate
    schedule reads) load too; KerasTuner skips them ("Skipping variable loading for optimizer")
    and a promoted trial restarts Adam from zero moments."""
    config_path = build_config_path(path)
    if not model.built and os.path.exists(config_path):
        with open(config_path) as f:
            model.build_from_config(json.load(f))
    if not model.built or not all(layer.built for layer in model.layers):
        # A subclassed model: its build config marks it built without building its layers.
        build_from_input_spec(model, path)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built and model.built:
        optimizer.build(model.trainable_variables)
    model.load_weights(path)


def load_parent_state(tuner: Tuner, model: Any, parent_id: str) -> None:
    """Continue the trial ``parent_id`` in ``model``: its state at the end of training, else its
    best epoch's (a parent run by code that saved no end state)."""
    for path in (resume_path(tuner, parent_id), checkpoint_path(tuner, parent_id)):
        if os.path.exists(path):
            load_trained_state(model, path)
            return
    logger.warning(
        "Trial %s has no saved state in %s; the promoted trial trains a fresh model.", parent_id,
        tuner.get_trial_dir(parent_id),
    )
