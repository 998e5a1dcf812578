"""The metrics every Keras trial records about its model (issue #24): ``model_params``,
``model_size_bytes`` and ``predict_latency_ms``, at each epoch the trial reports."""

from __future__ import annotations

import math

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import hyperknob as kt  # noqa: E402
from hyperknob.objective import Direction  # noqa: E402

CHEAP = ("model_params", "model_size_bytes", "predict_latency_ms")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    return x[:64], y[:64], x[64:], y[64:]


def build_model(hp):
    model = keras.Sequential([
        keras.Input((8,)),
        keras.layers.Dense(hp.Choice("units", [4, 16]), activation="relu"),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def expected_params(units):
    return 8 * units + units + units * 2 + 2  # two Dense layers' kernels and biases, all trainable


def test_every_trial_records_its_model_size_and_latency_at_each_epoch(tmp_path, data):
    x, y, xv, yv = data
    tuner = kt.GridSearch(build_model, objective="val_accuracy", directory=str(tmp_path), project_name="g")
    tuner.search(x, y, epochs=3, validation_data=(xv, yv), batch_size=32, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert sorted(t.hyperparameters.get("units") for t in trials) == [4, 16]
    for trial in trials:
        units = trial.hyperparameters.get("units")
        model = build_model(trial.hyperparameters)
        assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == expected_params(units)
        epochs = [o.step for o in trial.metrics.get_history("val_accuracy")]
        assert epochs == [0, 1, 2]
        for name in CHEAP:
            history = trial.metrics.get_history(name)
            assert [o.step for o in history] == epochs  # present wherever the objective is
            assert len({o.mean() for o in history}) == 1  # one value per model
        assert trial.metrics.get_last_value("model_params") == expected_params(units)
        assert trial.metrics.get_last_value("model_size_bytes") == 4 * model.count_params()  # float32
        latency = trial.metrics.get_last_value("predict_latency_ms")
        assert latency > 0 and math.isfinite(latency)
        assert trial.metrics.get_direction("model_params") == Direction.MIN
    tuner.results_summary()  # KerasTuner's summary is unchanged by the extra metrics


def test_model_params_is_a_minimised_objective(tmp_path, data):
    x, y, xv, yv = data
    tuner = kt.GridSearch(build_model, objective="model_params", directory=str(tmp_path), project_name="p")
    assert tuner.oracle.objective.direction == Direction.MIN  # inferred from the name
    tuner.search(x, y, epochs=2, validation_data=(xv, yv), batch_size=32, verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.hyperparameters.get("units") == 4
    assert best.score == expected_params(4)
    assert tuner.get_best_models(1)[0].count_params() == expected_params(4)


def test_a_model_with_named_inputs_is_timed_on_one_sample_of_each(tmp_path, data):
    x, y, _, _ = data

    def build(hp):
        a, b = keras.Input((5,), name="a"), keras.Input((3,), name="b")
        merged = keras.layers.Concatenate()([keras.layers.Dense(hp.Choice("units", [4]))(a), b])
        model = keras.Model({"a": a, "b": b}, keras.layers.Dense(2, activation="softmax")(merged))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    tuner = kt.GridSearch(build, objective="loss", directory=str(tmp_path), project_name="d")
    tuner.search({"a": x[:, :5], "b": x[:, 5:]}, y, epochs=2, batch_size=32, verbose=0)
    (trial,) = tuner.oracle.trials.values()
    assert trial.metrics.get_last_value("model_params") == 5 * 4 + 4 + 7 * 2 + 2
    assert [o.step for o in trial.metrics.get_history("predict_latency_ms")] == [0, 1]
    assert trial.metrics.get_last_value("predict_latency_ms") > 0


class Batches(keras.utils.PyDataset):
    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return self.x[32 * i:32 * (i + 1)], self.y[32 * i:32 * (i + 1)]


def test_without_array_inputs_latency_is_left_out_and_the_sizes_kept(tmp_path, data):
    x, y, _, _ = data
    tuner = kt.GridSearch(build_model, objective="loss", max_trials=1, directory=str(tmp_path), project_name="ds")
    tuner.search(Batches(x, y), epochs=2, verbose=0)
    (trial,) = tuner.oracle.trials.values()
    assert not trial.metrics.exists("predict_latency_ms")
    assert [o.step for o in trial.metrics.get_history("model_params")] == [0, 1]


def test_the_metrics_can_be_turned_off(tmp_path, data, monkeypatch):
    x, y, _, _ = data
    tuner = kt.GridSearch(build_model, objective="loss", max_trials=1, directory=str(tmp_path), project_name="a")
    tuner.cheap_metrics = False
    tuner.search(x, y, epochs=1, verbose=0)
    monkeypatch.setenv("HYPERKNOB_CHEAP_METRICS", "0")
    other = kt.GridSearch(build_model, objective="loss", max_trials=1, directory=str(tmp_path), project_name="b")
    other.search(x, y, epochs=1, verbose=0)
    for t in (tuner, other):
        (trial,) = t.oracle.trials.values()
        assert trial.metrics.exists("loss")
        assert not any(trial.metrics.exists(name) for name in CHEAP)


def test_a_hypermodel_fit_returning_a_dict_gets_them_too(tmp_path, data):
    x, y, _, _ = data

    class DictFit(kt.HyperModel):
        def build(self, hp):
            return build_model(hp)

        def fit(self, hp, model, *args, callbacks=None, **kwargs):
            model.fit(*args, **kwargs)  # the trial's callbacks are dropped: no epoch is reported
            return {"loss": float(model.evaluate(*args[:2], verbose=0)[0])}

    objective = [kt.Objective("loss", "min"), kt.Objective("model_params", "min")]
    tuner = kt.GridSearch(DictFit(), objective=objective, max_trials=1, directory=str(tmp_path), project_name="f")
    tuner.search(x, y, epochs=1, verbose=0)
    (trial,) = tuner.oracle.trials.values()
    assert trial.status == "COMPLETED"
    for name in CHEAP:
        assert [o.step for o in trial.metrics.get_history(name)] == [0]


def test_they_join_an_accuracy_in_a_multi_objective_at_its_best_epoch(tmp_path, data):
    x, y, xv, yv = data
    objective = [kt.Objective("val_accuracy", "max"), kt.Objective("model_params", "min")]
    tuner = kt.GridSearch(build_model, objective=objective, directory=str(tmp_path), project_name="m")
    tuner.search(x, y, epochs=2, validation_data=(xv, yv), batch_size=32, verbose=0)
    for trial in tuner.oracle.trials.values():
        assert trial.status == "COMPLETED"
        assert trial.best_step in (0, 1) and trial.score is not None


def test_a_pareto_search_of_accuracy_against_size_returns_the_front(tmp_path, data):
    x, y, xv, yv = data
    objective = [kt.Objective("val_accuracy", "max"), kt.Objective("model_params", "min")]
    tuner = kt.GridSearch(build_model, objective=objective, pareto=True, directory=str(tmp_path), project_name="p",
                          constraints=[kt.Constraint("model_params", "<=", 200)])
    tuner.search(x, y, epochs=2, validation_data=(xv, yv), batch_size=32, verbose=0)
    best = tuner.oracle.get_best_trials(2)
    # units=16 (178 parameters) meets the bound; both models are kept, the front is ordered by accuracy
    assert tuner.oracle.study.is_pareto and len(tuner.oracle.trials) == 2
    front = tuner.oracle.study.best_trials
    for t in front:
        assert t.objective_values[1] == expected_params(t.values["units"])
    accuracies = [t.objective_values[0] for t in front]
    assert accuracies == sorted(accuracies, reverse=True)
    assert [t.hyperparameters.values for t in best][: len(front)] == [dict(t.values) for t in front]
    assert tuner.get_best_hyperparameters(1)[0].values == dict(front[0].values)
