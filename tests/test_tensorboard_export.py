"""TensorBoard HParams export, read back with TensorBoard's own event reader (no TensorFlow)."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorboardX")
pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402

import hyperknob as hk  # noqa: E402
from hyperknob.report.tensorboard import export_tensorboard  # noqa: E402


def test_every_trial_is_a_run_with_its_hyperparameters_and_metrics(tmp_path):
    def objective(hp, trial):
        x = hp.Float("x", 0.0, 1.0)
        units = hp.Int("units", 8, 64, step=8)
        kind = hp.Choice("kind", ["a", "b"])
        for epoch in range(3):
            trial.report(epoch, {"loss": x + 1.0 / (epoch + 1), "val_loss": x + units / 100})
        if kind == "b" and x > 0.8:
            raise RuntimeError("diverged")
        return {"loss": x, "val_loss": x + units / 100}

    study = hk.optimize(objective, n_trials=8, storage=":memory:", objective="val_loss", seed=3, verbose=0,
                        max_consecutive_failed_trials=None)
    runs = export_tensorboard(study, str(tmp_path))
    assert len(runs) == 8
    for run, trial in zip(runs, study.trials, strict=True):
        acc = EventAccumulator(run)
        acc.Reload()
        content = acc.PluginTagToContent("hparams")
        start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
        stored = {}
        for name, value in start.hparams.items():
            kind = value.WhichOneof("kind")
            stored[name] = getattr(value, kind)
        assert stored["x"] == pytest.approx(trial.values["x"]) and stored["units"] == trial.values["units"]
        assert stored["kind"] == trial.values["kind"] and stored["status"] == trial.status.value
        for metric in ("loss", "val_loss"):
            assert [(e.step, pytest.approx(e.value, abs=1e-6)) for e in acc.Scalars(metric)] == [
                (p.step, p.value) for p in trial.metrics[metric]
            ]
        if trial.status == "COMPLETED":
            assert acc.Scalars("score")[0].value == pytest.approx(trial.score, abs=1e-6)
