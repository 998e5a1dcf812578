"""TensorBoard HParams for any study, on every Keras backend: one run per trial with its
hyperparameters and its per-step metrics, written with tensorboardX (no TensorFlow needed).

    hyperknob tensorboard runs/hello_world --logdir runs/hello_world/tensorboard
    tensorboard --logdir runs/hello_world/tensorboard      # then the HPARAMS tab
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from hyperknob._types import TrialStatus

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = ["export_tensorboard"]


def _hparam(value: Any) -> bool | str | float | int | None:
    if value is None:
        return None
    if isinstance(value, (bool, str, int, float)):
        return value
    return str(value)


def export_tensorboard(study: Study, logdir: str) -> list[str]:
    """Write one TensorBoard run per finished trial under ``logdir``; returns the run folders.

    The HParams table gets every hyperparameter, the trial's score (as ``score``) and its status;
    the scalars tab gets each reported metric per step. Re-exporting replaces the earlier runs."""
    try:
        from tensorboardX import SummaryWriter
        from tensorboardX.summary import hparams as hparams_summaries
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "TensorBoard export needs tensorboardX: pip install 'hyperknob[tensorboard]'."
        ) from exc
    import shutil

    runs = []
    for trial in study.get_trials():
        if not trial.status.is_finished:
            continue
        run = os.path.join(logdir, f"trial_{trial.trial_id}")
        shutil.rmtree(run, ignore_errors=True)
        writer = SummaryWriter(run)
        try:
            for name, points in trial.metrics.items():
                for point in points:
                    writer.add_scalar(name, point.value, point.step)
            hparams = {k: v for k, v in ((k, _hparam(v)) for k, v in trial.values.items()) if v is not None}
            hparams["status"] = trial.status.value
            score = trial.score if trial.score is not None and math.isfinite(trial.score) else float("nan")
            metrics = {"score": score if trial.status == TrialStatus.COMPLETED else float("nan")}
            # The HParams summaries go into this run's own event file (add_hparams would open a
            # second writer on the same folder, whose file can collide with this one's name).
            for summary in hparams_summaries(hparams, metrics):
                writer.file_writer.add_summary(summary)
            writer.add_scalar("score", metrics["score"], trial.best_step or 0)
        finally:
            writer.close()
        runs.append(run)
    return runs
