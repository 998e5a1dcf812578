"""One Keras trial: build, (re)compile, fit with the trial's callbacks, once per execution.

User callbacks are deep-copied for each execution so that each starts fresh (an EarlyStopping's
patience, a TensorBoard directory per trial). The Keras state of the previous trial is released
with ``clear_session(free_memory=False)``: Python's reference counting frees the models, and the
full garbage collection KerasTuner runs twice per trial (about half a second each with torch
loaded) is left to Python's own schedule.

Every trial also records three metrics of its model, at each epoch it reports, for use as
objectives or constraints: ``model_params`` (trainable parameters), ``model_size_bytes`` (the size
of its weights) and ``predict_latency_ms`` (the median time of a one-sample prediction). Set
``tuner.cheap_metrics = False``, or the environment variable ``HYPERKNOB_CHEAP_METRICS=0``, to
leave them out.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import re
import statistics
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

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
    "CHEAP_METRICS_ENV",
    "CheapMetrics",
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

CHEAP_METRICS_ENV = "HYPERKNOB_CHEAP_METRICS"  # "0" (or false/no/off) leaves the model's metrics out
LATENCY_WARMUP_CALLS = 2
LATENCY_CALLS = 10
LATENCY_BUDGET_S = 0.2  # the timed calls stop once they took this long (at least one is timed)


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
    # One per trial: the latency is measured once, on the first execution's model.
    cheap = CheapMetrics(sample_input(fit_args, fit_kwargs)) if cheap_metrics_enabled(tuner) else None
    for execution in range(tuner.executions_per_trial):
        model = first_model if execution == 0 else tuner._build_hypermodel(hp)
        check_model_size(tuner, model)
        reporter = TrialCallback(tuner, trial, path, best, resume, input_spec=spec, extra_metrics=cheap)
        callbacks = [*_copy_callbacks(user_callbacks, tuner, trial, execution), reporter]
        if _overrides_batch_hooks(tuner):
            callbacks.append(BatchHooks(tuner, trial))
        result = tuner.hypermodel.fit(hp, model, *fit_args, callbacks=callbacks, **fit_kwargs)  # type: ignore[union-attr]
        if cheap is not None:
            result = _with_cheap_metrics(tuner, trial, reporter, result, cheap(model))
        results.append(result)
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


def cheap_metrics_enabled(tuner: Tuner) -> bool:
    """Whether trials record their model's cheap metrics: yes unless ``tuner.cheap_metrics`` is
    false or the environment variable says no."""
    if os.environ.get(CHEAP_METRICS_ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return False
    return bool(getattr(tuner, "cheap_metrics", True))


class CheapMetrics:
    """A trained model's ``model_params``, ``model_size_bytes`` and ``predict_latency_ms``.

    The sizes are read from the model's weights (no file is written); the latency is timed once,
    on the first model it is given, with ``sample`` (one sample of the trial's training inputs,
    batch size 1), and left out when there is no such sample (a ``tf.data.Dataset``, a
    ``PyDataset``, a generator) or the prediction fails."""

    def __init__(self, sample: Any) -> None:
        self.sample = sample
        self.latency_ms: float | None = None
        self._timed = False

    def __call__(self, model: Any) -> dict[str, float]:
        if not getattr(model, "built", False):
            return {}  # never built: nothing to measure
        out = {
            "model_params": float(count_trainable_params(model)),
            "model_size_bytes": float(weights_size_bytes(model)),
        }
        if not self._timed and self.sample is not None:
            self._timed = True
            self.latency_ms = predict_latency_ms(model, self.sample)
        if self.latency_ms is not None:
            out["predict_latency_ms"] = self.latency_ms
        return out


def _unique(variables: Any) -> list[Any]:
    seen: set[int] = set()
    out = []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _size(variable: Any) -> int:
    return int(math.prod(int(d) for d in variable.shape))


def count_trainable_params(model: Any) -> int:
    """The number of trainable parameters (the elements of ``model.trainable_weights``)."""
    return sum(_size(v) for v in _unique(model.trainable_weights))


def _itemsize(dtype: Any) -> int:
    name = keras.backend.standardize_dtype(dtype)
    try:
        return int(np.dtype(name).itemsize)
    except TypeError:  # bfloat16, float8_* without ml_dtypes: the bits are in the name
        bits = re.search(r"\d+", name)
        return max(1, int(bits.group()) // 8) if bits else 4


def weights_size_bytes(model: Any) -> int:
    """The size of the model's weights in bytes (trainable and not, each in its own dtype)."""
    return sum(_size(v) * _itemsize(v.dtype) for v in _unique(model.weights))


def sample_input(fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> Any:
    """The first sample of ``fit``'s ``x`` (batch size 1; dicts and lists of arrays for models
    with several inputs), or None when ``x`` is not made of arrays."""
    return _first_sample(fit_args[0] if fit_args else fit_kwargs.get("x"))


def _first_sample(x: Any) -> Any:
    if isinstance(x, Mapping):
        parts = {k: _first_sample(v) for k, v in x.items()}
        return None if not parts or any(v is None for v in parts.values()) else parts
    if isinstance(x, (list, tuple)):
        items = [_first_sample(v) for v in x]
        if not items or any(v is None for v in items):
            return None
        return items if isinstance(x, list) else tuple(items)
    shape = getattr(x, "shape", None)
    try:
        if shape is None or len(shape) < 1 or shape[0] is None or int(shape[0]) < 1:
            return None
        return x[:1]
    except (TypeError, ValueError, IndexError, KeyError):
        return None


def predict_latency_ms(model: Any, sample: Any) -> float | None:
    """The median time of ``model.predict_on_batch(sample)`` in milliseconds, after warm-up calls
    (which build and compile the prediction function); None when the prediction fails."""
    try:
        for _ in range(LATENCY_WARMUP_CALLS):
            model.predict_on_batch(sample)
        times: list[float] = []
        start = time.perf_counter()
        for _ in range(LATENCY_CALLS):
            begin = time.perf_counter()
            model.predict_on_batch(sample)
            end = time.perf_counter()
            times.append(end - begin)
            if end - start >= LATENCY_BUDGET_S:
                break
    except Exception as exc:  # a model that cannot predict one sample: the metric is left out
        logger.debug("predict_latency_ms not measured: %s: %s", type(exc).__name__, exc)
        return None
    return statistics.median(times) * 1000.0


def _with_cheap_metrics(tuner: Tuner, trial: Trial, reporter: TrialCallback, result: Any,
                        values: Mapping[str, float]) -> Any:
    """``fit``'s result with the model's cheap metrics in it, so that an objective naming them
    finds them there: a History gets them at each of its epochs (the callback reported them with
    each epoch already), a dict of metrics gets them beside its own; after a ``HyperModel.fit``
    that reported no epoch and returned a number, they are reported at step 0."""
    if not values:
        return result
    history = getattr(result, "history", None)
    if isinstance(history, dict):
        epochs = len(getattr(result, "epoch", None) or []) or max((len(v) for v in history.values()), default=0)
        if epochs:
            for name, value in values.items():
                history.setdefault(name, [value] * epochs)
        return result
    if isinstance(result, Mapping):
        return {**result, **{name: value for name, value in values.items() if name not in result}}
    if not reporter.reported:
        tuner.study.report(trial, 0, dict(values))
    return result


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
