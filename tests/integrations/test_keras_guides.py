"""KerasTuner's own documentation, run under keras_tuner and under hyperknob (#19).

Each test is one scenario of the keras-io guides (``guides/keras_tuner/getting_started.py``,
``custom_tuner.py``, ``failed_trials.py``, ``tailor_the_search_space.py``,
``visualize_tuning.py``, ``distributed_tuning.py``) and of the TensorFlow tutorial "Introduction
to the Keras Tuner", written the way those scripts are written (the same tuner calls, model kinds
and arguments), on tiny random or scikit-learn data instead of downloaded data sets and in
backend-neutral Keras instead of ``tf.*`` calls. It runs once per library and compares what the
guide shows: trial counts, statuses, the space, the best trial's values, the best model's score.
"""

from __future__ import annotations

import importlib
import os

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("keras_tuner")

from keras import layers  # noqa: E402

LIBRARIES = ("keras_tuner", "hyperknob")


@pytest.fixture(params=LIBRARIES)
def kt(request):
    return importlib.import_module(request.param)


def run_both(scenario, tmp_path):
    """The scenario's facts under each library: they must be the same."""
    facts = {}
    for name in LIBRARIES:
        directory = tmp_path / name
        directory.mkdir()
        facts[name] = scenario(importlib.import_module(name), str(directory))
    assert facts["hyperknob"] == facts["keras_tuner"]
    return facts["hyperknob"]


def run_hyperknob(scenario, tmp_path):
    """For a guide that keras_tuner 1.4.8 itself no longer runs (the test says why)."""
    return scenario(importlib.import_module("hyperknob"), str(tmp_path))


def random_data(n, features=10, outputs=1, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, features)).astype("float32"), rng.random((n, outputs)).astype("float32")


def images(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28, 1)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 10, n), 10)
    return x, y


def statuses(tuner):
    return sorted(str(t.status) for t in tuner.oracle.trials.values())


# --- getting_started.py -----------------------------------------------------------------------
def build_flatten_first(hp):
    """The guide's model: Sequential starting with Flatten (no Input), tuned units, activation,
    optional fixed-rate Dropout, learning rate."""
    model = keras.Sequential()
    model.add(layers.Flatten())
    for i in range(hp.Int("num_layers", 1, 3)):
        model.add(layers.Dense(units=hp.Int(f"units_{i}", min_value=32, max_value=512, step=32),
                               activation=hp.Choice("activation", ["relu", "tanh"])))
    if hp.Boolean("dropout"):
        model.add(layers.Dropout(rate=0.25))
    model.add(layers.Dense(10, activation="softmax"))
    learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_getting_started_random_search_with_two_executions(tmp_path, capsys):
    def scenario(kt, directory):
        build_flatten_first(kt.HyperParameters())  # "You can quickly test if the model builds"
        tuner = kt.RandomSearch(hypermodel=build_flatten_first, objective="val_accuracy", max_trials=3,
                                executions_per_trial=2, overwrite=True, directory=directory, project_name="helloworld")
        tuner.search_space_summary()
        x, y = images(40)
        tuner.search(x[:30], y[:30], epochs=2, validation_data=(x[30:], y[30:]), verbose=0)
        models = tuner.get_best_models(num_models=2)
        best_model = models[0]
        # The guide then calls best_model.build(input_shape=(None, 28, 28)): under Keras 3 both
        # libraries hand back a model built already (from the saved build config), which Keras
        # refuses to build again, so the guide's line is left out here.
        assert best_model.built
        tuner.results_summary()
        best_hps = tuner.get_best_hyperparameters(5)
        model = build_flatten_first(best_hps[0])
        model.fit(x=x, y=y, epochs=1, verbose=0)
        # hyperknob declares every conditional branch (units_2) before the first trial;
        # keras_tuner adds those it meets: the names both must have.
        names = {p.name for p in tuner.oracle.get_space().space}
        return {"statuses": statuses(tuner), "models": len(models), "best_hps": len(best_hps),
                "space": names >= {"num_layers", "units_0", "activation", "dropout", "lr"}}

    facts = run_both(scenario, tmp_path)
    assert facts["statuses"] == ["COMPLETED"] * 3 and facts["models"] == 2
    out = capsys.readouterr().out
    assert "Search space summary" in out and "Results summary" in out


class ShuffleAndNormalize:
    """The guide's HyperModel that tunes ``fit``: shuffle, a Normalization of the data, and a
    crop whose size ``build`` declared (read back with ``hp.get``)."""

    @staticmethod
    def make(kt):
        class MyHyperModel(kt.HyperModel):
            def build(self, hp):
                image_size = hp.Int("image_size", 10, 28)
                inputs = keras.Input(shape=(image_size, image_size))
                outputs = layers.Flatten()(inputs)
                outputs = layers.Dense(units=hp.Int("units", min_value=32, max_value=512, step=32),
                                       activation="relu")(outputs)
                outputs = layers.Dense(10, activation="softmax")(outputs)
                model = keras.Model(inputs, outputs)
                model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
                return model

            def fit(self, hp, model, x, y, validation_data=None, **kwargs):
                if hp.Boolean("normalize"):
                    x = np.asarray(layers.Normalization()(x))
                image_size = hp.get("image_size")
                cropped_x = x[:, :image_size, :image_size, :]
                if validation_data:
                    x_val, y_val = validation_data
                    validation_data = (x_val[:, :image_size, :image_size, :], y_val)
                return model.fit(cropped_x, y, shuffle=hp.Boolean("shuffle"), validation_data=validation_data, **kwargs)

        return MyHyperModel()


def test_getting_started_tunes_fit_and_retrains(tmp_path):
    def scenario(kt, directory):
        tuner = kt.RandomSearch(ShuffleAndNormalize.make(kt), objective="val_accuracy", max_trials=3, overwrite=True,
                                directory=directory, project_name="tune_hypermodel")
        x, y = images(40)
        tuner.search(x[:30], y[:30], epochs=2, validation_data=(x[30:], y[30:]), verbose=0)
        hypermodel = ShuffleAndNormalize.make(kt)
        best_hp = tuner.get_best_hyperparameters()[0]
        model = hypermodel.build(best_hp)
        hypermodel.fit(best_hp, model, x, y, epochs=1, verbose=0)
        return {"statuses": statuses(tuner),
                "space": sorted(p.name for p in tuner.oracle.get_space().space),
                "declared_in_fit": sorted(set(best_hp.values) & {"normalize", "shuffle"})}

    facts = run_both(scenario, tmp_path)
    assert facts["space"] == ["image_size", "normalize", "shuffle", "units"]


class CustomMetric(keras.metrics.Metric):
    """The guide's mean squared error as a custom metric named "custom_metric", in keras.ops."""

    def __init__(self, **kwargs):
        super().__init__(name="custom_metric", **kwargs)
        self.sum = self.add_weight(name="sum", initializer="zeros")
        self.count = self.add_weight(name="count", dtype="int32", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        ops = keras.ops
        values = ops.square(ops.cast(y_pred, "float32") - ops.cast(y_true, "float32"))
        self.sum.assign_add(ops.sum(values))
        self.count.assign_add(ops.cast(ops.shape(y_true)[0], "int32"))

    def result(self):
        return self.sum / keras.ops.cast(self.count, "float32")

    def reset_state(self):
        self.sum.assign(0.0)
        self.count.assign(0)


@pytest.mark.parametrize("metric", ["built_in", "custom"])
def test_getting_started_metric_objectives(tmp_path, metric):
    def build_regressor(hp):
        model = keras.Sequential([layers.Dense(units=hp.Int("units", 32, 128, 32), activation="relu"),
                                  layers.Dense(units=1)])
        model.compile(optimizer="adam", loss="mean_squared_error",
                      metrics=[keras.metrics.MeanAbsoluteError() if metric == "built_in" else CustomMetric()])
        return model

    name = "val_mean_absolute_error" if metric == "built_in" else "val_custom_metric"

    def scenario(kt, directory):
        tuner = kt.RandomSearch(hypermodel=build_regressor, objective=kt.Objective(name, direction="min"),
                                max_trials=3, overwrite=True, directory=directory, project_name=metric)
        x, y = random_data(100)
        xv, yv = random_data(20, seed=1)
        tuner.search(x=x, y=y, validation_data=(xv, yv), verbose=0)
        tuner.results_summary()
        best = tuner.oracle.get_best_trials(1)[0]
        model = tuner.get_best_models()[0]
        reproduced = model.evaluate(xv, yv, verbose=0, return_dict=True)[name[4:]]
        return {"statuses": statuses(tuner), "reproduces": bool(np.isclose(reproduced, best.score, rtol=1e-4))}

    assert run_both(scenario, tmp_path) == {"statuses": ["COMPLETED"] * 3, "reproduces": True}


def test_getting_started_tune_any_function_and_keep_code_separate(tmp_path):
    def scenario(kt, directory):
        class MyTuner(kt.RandomSearch):
            def run_trial(self, trial, *args, **kwargs):
                x = trial.hyperparameters.Float("x", min_value=-1.0, max_value=1.0)
                return x * x + 1

        tuner = MyTuner(max_trials=20, overwrite=True, directory=directory, project_name="tune_anything")
        tuner.search()
        best_x = tuner.get_best_hyperparameters()[0].get("x")

        def keras_code(units, optimizer, saving_path):
            model = keras.Sequential([layers.Dense(units=units, activation="relu"), layers.Dense(units=1)])
            model.compile(optimizer=optimizer, loss="mean_squared_error")
            x_train, y_train = random_data(100)
            x_val, y_val = random_data(20, seed=1)
            model.fit(x_train, y_train, verbose=0)
            model.save(saving_path)
            return float(np.mean(np.abs(model.predict(x_val, verbose=0) - y_val)))

        class SeparateTuner(kt.RandomSearch):
            def run_trial(self, trial, **kwargs):
                hp = trial.hyperparameters
                return keras_code(units=hp.Int("units", 32, 128, 32), optimizer=hp.Choice("optimizer", ["adam", "adadelta"]),
                                  saving_path=os.path.join(directory, f"{trial.trial_id}.keras"))

        separate = SeparateTuner(max_trials=3, overwrite=True, directory=directory, project_name="keep_code_separate")
        separate.search()
        best_hp = separate.get_best_hyperparameters()[0]
        keras_code(**best_hp.values, saving_path=os.path.join(directory, "best_model.keras"))
        return {"trials": len(tuner.oracle.trials), "best_x_small": abs(best_x) < 0.3, "separate": statuses(separate)}

    assert run_both(scenario, tmp_path) == {"trials": 20, "best_x_small": True, "separate": ["COMPLETED"] * 3}


# --- custom_tuner.py --------------------------------------------------------------------------
def build_conv(hp):
    inputs = keras.Input(shape=(28, 28, 1))
    x = inputs
    for i in range(hp.Int("conv_layers", 1, 3, default=3)):
        x = layers.Conv2D(filters=hp.Int("filters_" + str(i), 4, 32, step=4, default=8),
                          kernel_size=hp.Int("kernel_size_" + str(i), 3, 5), activation="relu", padding="same")(x)
        x = layers.MaxPooling2D()(x) if hp.Choice("pooling" + str(i), ["max", "avg"]) == "max" else layers.AveragePooling2D(2)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.GlobalMaxPooling2D()(x) if hp.Choice("global_pooling", ["max", "avg"]) == "max" else layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(hp.Choice("optimizer", ["adam", "sgd"]), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_custom_tuner_with_its_own_training_loop(tmp_path):
    """The guide's Tuner subclass trains batch by batch itself and calls the epoch and batch hooks;
    ``on_epoch_end`` reports the loss and saves the model, so ``get_best_models`` works. keras_tuner
    1.4.8 fails this guide ("The return value of Tuner.run_trial() is None"): its run_trial
    returns nothing, as the guide's does."""

    def scenario(kt, directory):
        events = []

        class MyTuner(kt.Tuner):
            def run_trial(self, trial, x_train, y_train):
                hp = trial.hyperparameters
                batch_size = hp.Int("batch_size", 32, 128, step=32, default=64)
                model = self.hypermodel.build(trial.hyperparameters)
                hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3)
                for epoch in range(2):
                    self.on_epoch_begin(trial, model, epoch, logs={})
                    losses = []
                    for batch, start in enumerate(range(0, len(x_train), batch_size)):
                        self.on_batch_begin(trial, model, batch, logs={})
                        loss = model.train_on_batch(x_train[start:start + batch_size], y_train[start:start + batch_size])
                        losses.append(float(np.ravel(loss)[0]))
                        self.on_batch_end(trial, model, batch, logs={"loss": losses[-1]})
                    self.on_epoch_end(trial, model, epoch, logs={"loss": float(np.mean(losses))})
                    events.append(epoch)

        oracle_class = kt.oracles.BayesianOptimizationOracle
        tuner = MyTuner(oracle=oracle_class(objective=kt.Objective("loss", "min"), max_trials=2), hypermodel=build_conv,
                        directory=directory, project_name="mnist_custom_training")
        rng = np.random.default_rng(0)
        x_train = rng.random((64, 28, 28, 1)).astype("float32")
        y_train = rng.integers(0, 10, 64)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            tuner.search(x_train=x_train, y_train=y_train)
        best_hps = tuner.get_best_hyperparameters()[0]
        best_model = tuner.get_best_models()[0]
        return {"statuses": statuses(tuner), "epochs": len(events), "has_batch_size": "batch_size" in best_hps.values,
                "model_predicts": best_model.predict(x_train[:2], verbose=0).shape == (2, 10)}

    assert run_hyperknob(scenario, tmp_path) == {"statuses": ["COMPLETED"] * 2, "epochs": 4, "has_batch_size": True,
                                            "model_predicts": True}


def test_custom_tuner_reporting_with_update_trial_and_save_model(tmp_path):
    """The guide's other way: ``self.oracle.update_trial`` and ``self.save_model``, returning
    nothing. keras_tuner 1.4.8 fails every such trial (run_trial returned None); hyperknob accepts
    it with a DeprecationWarning that says to return the metrics."""
    def scenario(kt, directory):
        class MyTuner(kt.Tuner):
            def run_trial(self, trial, x, y):
                model = self.hypermodel.build(trial.hyperparameters)
                model.fit(x, y, epochs=1, verbose=0)
                score = float(model.evaluate(x, y, verbose=0)[0])
                self.oracle.update_trial(trial.trial_id, {"score": score})
                self.save_model(trial.trial_id, model)

        tuner = MyTuner(oracle=kt.oracles.RandomSearchOracle(objective=kt.Objective("score", "min"), max_trials=2),
                        hypermodel=build_conv, directory=directory, project_name="update_trial")
        rng = np.random.default_rng(0)
        x = rng.random((16, 28, 28, 1)).astype("float32")
        y = rng.integers(0, 10, 16)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            tuner.search(x, y)
        return {"statuses": statuses(tuner), "scored": all(t.score is not None for t in tuner.oracle.trials.values())}

    assert run_hyperknob(scenario, tmp_path) == {"statuses": ["COMPLETED"] * 2, "scored": True}


# --- failed_trials.py -------------------------------------------------------------------------
@pytest.mark.parametrize("error", ["ValueError", "FailedTrialError", "FatalError"])
def test_failed_trials_guide(tmp_path, error):
    def scenario(kt, directory):
        builds = []

        def build_model(hp):
            units_1 = hp.Int("units_1", 10, 40, step=10)
            units_2 = hp.Int("units_2", 10, 30, step=10)
            model = keras.Sequential([keras.Input((20,)), layers.Dense(units=units_1), layers.Dense(units=units_2),
                                      layers.Dense(units=1)])
            model.compile(loss="mse")
            builds.append((units_1, units_2))
            n_params = model.count_params()
            if n_params > 1200:
                raise {"ValueError": ValueError, "FailedTrialError": kt.errors.FailedTrialError,
                       "FatalError": kt.errors.FatalError}[error](f"Model too large! It contains {n_params} params.")
            return model

        tuner = kt.GridSearch(hypermodel=build_model, objective="val_loss", overwrite=True, max_retries_per_trial=3,
                              max_consecutive_failed_trials=8, directory=directory, project_name="failed")
        x, y = random_data(100, features=20)
        xv, yv = random_data(100, features=20, seed=1)
        stopped = False
        try:
            tuner.search(x=x, y=y, validation_data=(xv, yv), epochs=2, verbose=0)
        except kt.errors.FatalError:
            stopped = True
        tuner.results_summary()
        facts = {"stopped": stopped, "completed": statuses(tuner).count("COMPLETED"),
                 "failed": statuses(tuner).count("FAILED"), "builds": len(builds)}
        if error == "FatalError":
            # keras_tuner leaves the trial that raised it RUNNING; hyperknob records it FAILED.
            facts.pop("failed")
        return facts

    facts = run_both(scenario, tmp_path)
    assert facts["stopped"] == (error == "FatalError")
    if error != "FatalError":
        # units_1 * units_2 grid: 12 trials, 5 of them too large.
        assert facts["completed"] == 7 and facts["failed"] == 5


# --- tailor_the_search_space.py -----------------------------------------------------------------
def test_tailor_the_search_space_fixes_and_overrides_a_ready_made_hypermodel(tmp_path):
    def scenario(kt, directory):
        out = {}
        hp = kt.HyperParameters()
        hp.Fixed("learning_rate", value=1e-4)
        tuner = kt.RandomSearch(kt.applications.HyperXception(input_shape=(28, 28, 1), classes=10), hyperparameters=hp,
                                tune_new_entries=False, objective="val_accuracy", max_trials=1, overwrite=True,
                                directory=directory, project_name="fixed_lr_only")
        out["fixed_only"] = sorted(p.name for p in tuner.oracle.get_space().space)
        hp = kt.HyperParameters()
        hp.Choice("learning_rate", [1e-3, 1e-4])
        hp.Fixed("num_residual_blocks", 2)
        hp.Fixed("sep_num_filters", 128)
        hp.Fixed("pooling", "avg")
        tuner = kt.RandomSearch(kt.applications.HyperXception(input_shape=(28, 28, 1), classes=10), hyperparameters=hp,
                                tune_new_entries=True, objective="val_accuracy", max_trials=1, overwrite=True,
                                directory=directory, project_name="override")
        x, y = images(12)
        tuner.search(x[:8], y[:8], epochs=1, validation_data=(x[8:], y[8:]), verbose=0)
        best = tuner.get_best_hyperparameters()[0]
        out["override"] = {"learning_rate_choices": sorted(tuner.oracle.get_space().get_config()["space"][0]["config"]["values"]),
                           "pinned": (best.values["num_residual_blocks"], best.values["sep_num_filters"]),
                           "statuses": statuses(tuner)}
        tuner.get_best_models(1)
        return out

    facts = run_both(scenario, tmp_path)
    assert facts["fixed_only"] == ["learning_rate"]
    assert facts["override"]["pinned"] == (2, 128)


# --- visualize_tuning.py ----------------------------------------------------------------------
def test_visualize_tuning_writes_one_tensorboard_run_per_trial(tmp_path):
    """One TensorBoard run directory per trial, as the guide shows. keras_tuner 1.4.8 needs
    TensorFlow installed for this even on the other backends (ModuleNotFoundError on PyTorch)."""
    pytest.importorskip("tensorboard")

    def scenario(kt, directory):
        def build(hp):
            model = keras.Sequential([keras.Input((10,)), layers.Dense(hp.Int("units", 8, 32, step=8), activation="relu"),
                                      layers.Dropout(hp.Float("dropout", 0.0, 0.5, step=0.25)), layers.Dense(1)])
            model.compile(optimizer="adam", loss="mse", metrics=["mae"])
            return model

        logs = os.path.join(directory, "tb_logs")
        tuner = kt.RandomSearch(build, objective="val_loss", max_trials=2, overwrite=True, directory=directory,
                                project_name="tb")
        x, y = random_data(40)
        tuner.search(x[:30], y[:30], epochs=1, validation_data=(x[30:], y[30:]), verbose=0,
                     callbacks=[keras.callbacks.TensorBoard(logs)])
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        curves = {}
        for run in sorted(os.listdir(logs)):
            accumulator = EventAccumulator(os.path.join(logs, run, "validation"))
            accumulator.Reload()
            tags = accumulator.Tags()
            curves[run] = sorted(t for t in tags.get("scalars", []) + tags.get("tensors", []) if t.startswith("epoch_"))
        return {"runs": sorted(curves), "validation_curves": curves["0"]}

    assert run_hyperknob(scenario, tmp_path) == {"runs": ["0", "1"], "validation_curves": ["epoch_loss", "epoch_mae"]}


# --- distributed_tuning.py --------------------------------------------------------------------
@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="tf.distribute needs the TensorFlow backend")
def test_distributed_tuning_with_a_mirrored_strategy(tmp_path):
    """The guide's Hyperband with ``distribution_strategy=tf.distribute.MirroredStrategy()``: each
    trial's model is built (and trained) under the strategy. The chief/worker part of the guide
    (the KERASTUNER_* variables) is tests/test_distributed_mode.py."""
    import tensorflow as tf

    def scenario(kt, directory):
        strategy = tf.distribute.MirroredStrategy()
        built_under = []

        def build(hp):
            built_under.append(tf.distribute.get_strategy() is strategy)
            return build_conv(hp)

        tuner = kt.Hyperband(hypermodel=build, objective="val_accuracy", max_epochs=2, factor=3, hyperband_iterations=1,
                             distribution_strategy=strategy, directory=directory, project_name="mnist", overwrite=True)
        rng = np.random.default_rng(0)
        x = rng.random((40, 28, 28, 1)).astype("float32")
        y = rng.integers(0, 10, 40)
        tuner.search(x[:32], y[:32], steps_per_epoch=2, validation_data=(x[32:], y[32:]), validation_steps=1,
                     callbacks=[keras.callbacks.EarlyStopping("val_accuracy")], verbose=0)
        trial_builds = built_under[-len(tuner.oracle.trials):]
        return {"statuses": sorted(set(statuses(tuner))), "trial_builds_under_strategy": all(trial_builds)}

    assert run_both(scenario, tmp_path) == {"statuses": ["COMPLETED"], "trial_builds_under_strategy": True}


# --- the TensorFlow tutorial "Introduction to the Keras Tuner" ------------------------------------
def test_tensorflow_tutorial_hyperband_with_early_stopping(tmp_path):
    """The tutorial's model_builder (Flatten, tuned Dense units, Dense(10) logits, a Choice of
    learning rates, from_logits loss) with Hyperband(max_epochs=10, factor=3), EarlyStopping on
    val_loss and validation_split=0.2; then the best epoch is found by retraining, as the
    tutorial does. The tutorial's data set is Fashion-MNIST; here, 28x28 random images."""

    def model_builder(hp):
        model = keras.Sequential()
        model.add(layers.Flatten(input_shape=(28, 28)))
        model.add(layers.Dense(units=hp.Int("units", min_value=32, max_value=512, step=32), activation="relu"))
        model.add(layers.Dropout(0.2))
        model.add(layers.Dense(10))
        hp_learning_rate = hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=hp_learning_rate),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        return model

    def scenario(kt, directory):
        tuner = kt.Hyperband(model_builder, objective="val_accuracy", max_epochs=10, factor=3, directory=directory,
                             project_name="intro_to_kt")
        stop_early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5)
        rng = np.random.default_rng(0)
        img_train = rng.random((50, 28, 28)).astype("float32")
        label_train = rng.integers(0, 10, 50)
        tuner.search(img_train, label_train, epochs=50, validation_split=0.2, callbacks=[stop_early], verbose=0)
        best_hps = tuner.get_best_hyperparameters(num_trials=1)[0]
        model = tuner.hypermodel.build(best_hps)
        history = model.fit(img_train, label_train, epochs=3, validation_split=0.2, verbose=0)
        best_epoch = int(np.argmax(history.history["val_accuracy"])) + 1
        hypermodel = tuner.hypermodel.build(best_hps)
        hypermodel.fit(img_train, label_train, epochs=best_epoch, validation_split=0.2, verbose=0)
        return {"trials": len(tuner.oracle.trials), "all_completed": set(statuses(tuner)) == {"COMPLETED"},
                "units_on_grid": best_hps.get("units") % 32 == 0,
                "learning_rate": best_hps.get("learning_rate") in (1e-2, 1e-3, 1e-4)}

    facts = run_both(scenario, tmp_path)
    assert facts["all_completed"] and facts["units_on_grid"] and facts["learning_rate"]
