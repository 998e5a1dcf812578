"""``kt.applications``: KerasTuner's image hypermodels, on tiny images (#19).

The space each declares is compared with keras_tuner's own (names, kinds, choices, ranges,
defaults), its errors with keras_tuner's, and each one searches end to end for one epoch on a
few 32x32x3 images, with ``get_best_models()`` reproducing the best score.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import hyperknob as kt  # noqa: E402
from hyperknob.applications import HyperEfficientNet, HyperImageAugment, HyperResNet, HyperXception  # noqa: E402

SHAPE = (32, 32, 3)


def describe_space(hp) -> list[tuple]:
    """What a user sees of a space: each parameter's name, kind and settings."""
    described = []
    for p in hp.space:
        config = p.get_config()
        kind = type(p).__name__
        keys = ("values", "min_value", "max_value", "step", "sampling", "default", "value")
        settings = {k: config[k] for k in keys if k in config}
        if settings.get("step") is None:
            settings.pop("step", None)
        if kind in ("Int", "Float") and settings.get("default") is None:
            settings["default"] = settings.get("min_value")
        if kind == "Choice" and settings.get("default") is None:
            settings["default"] = settings["values"][0]
        described.append((config["name"], kind, settings))
    return sorted(described, key=lambda d: d[0])


def declared(library, make):
    hp = library.HyperParameters()
    make(library).build(hp)
    return describe_space(hp)


CASES = {
    "resnet": lambda lib: lib.applications.HyperResNet(input_shape=SHAPE, classes=3),
    "resnet-no-top": lambda lib: lib.applications.HyperResNet(input_shape=SHAPE, include_top=False),
    "xception": lambda lib: lib.applications.HyperXception(input_shape=SHAPE, classes=3),
    "augment-randaugment": lambda lib: lib.applications.HyperImageAugment(input_shape=SHAPE),
    "augment-all-in-turn": lambda lib: lib.applications.HyperImageAugment(
        input_shape=SHAPE, augment_layers=0, rotate=[0.2, 0.3], translate_x=0.1, translate_y=None, contrast=None
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_declares_the_same_space_as_keras_tuner(case):
    keras_tuner = pytest.importorskip("keras_tuner")
    importlib.import_module("keras_tuner.applications")  # the builders use lib.applications

    assert declared(kt, CASES[case]) == declared(keras_tuner, CASES[case])


def test_efficientnet_declares_keras_tuners_space():
    """keras_tuner's HyperEfficientNet always downloads ImageNet weights, so its space is checked
    against its documented values instead of a run of keras_tuner."""
    hp = kt.HyperParameters()
    HyperEfficientNet(input_shape=SHAPE, classes=3, weights=None).build(hp)
    space = {name: (kind, settings) for name, kind, settings in describe_space(hp)}
    assert space["version"] == ("Choice", {"values": [f"B{i}" for i in range(8)], "default": "B0"})
    assert space["pooling"] == ("Choice", {"values": ["avg", "max"], "default": "avg"})
    assert space["top_dropout_rate"][1] == {"min_value": 0.2, "max_value": 0.8, "step": 0.2, "sampling": "linear", "default": 0.2}
    assert space["learning_rate"] == ("Choice", {"values": [0.1, 0.01, 0.001], "default": 0.01})


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda lib: lib.applications.HyperResNet(input_shape=SHAPE), "classes"),
        (lambda lib: lib.applications.HyperXception(input_shape=SHAPE), "classes"),
        (lambda lib: lib.applications.HyperResNet(classes=3), "input_shape"),
        (lambda lib: lib.applications.HyperImageAugment(), "input_shape"),
        (lambda lib: lib.applications.HyperImageAugment(input_shape=SHAPE, rotate="big"), "rotate"),
        (lambda lib: lib.applications.HyperImageAugment(input_shape=SHAPE, augment_layers=1.5), "augment_layers"),
        (lambda lib: lib.applications.HyperEfficientNet(input_shape=SHAPE), "classes"),
        (lambda lib: lib.applications.HyperEfficientNet(input_shape=SHAPE, classes=3, augmentation_model="flip"),
         "augmentation_model"),
    ],
)
def test_the_same_errors_as_keras_tuner(make, words):
    keras_tuner = pytest.importorskip("keras_tuner")
    importlib.import_module("keras_tuner.applications")  # the builders use lib.applications

    with pytest.raises(ValueError) as theirs:
        make(keras_tuner)
    with pytest.raises(ValueError, match=words):
        make(kt)
    assert words in str(theirs.value)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    x = rng.random((12, *SHAPE)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 12), 3)
    return x[:8], y[:8], x[8:], y[8:]


def search_one_trial(tmp_path, hypermodel, images, **fixed):
    x, y, xv, yv = images
    hp = kt.HyperParameters()
    for name, value in fixed.items():
        hp.Fixed(name, value)
    tuner = kt.RandomSearch(hypermodel, objective="val_accuracy", max_trials=1, hyperparameters=hp, seed=0,
                            directory=str(tmp_path), project_name="p")
    tuner.search(x, y, epochs=1, batch_size=4, validation_data=(xv, yv), verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.status == "COMPLETED"
    model = tuner.get_best_models(1)[0]
    assert model.predict(xv, verbose=0).shape == (len(xv), 3)
    _, accuracy = model.evaluate(xv, yv, verbose=0)
    assert best.score == pytest.approx(accuracy)
    return tuner


def test_resnet_searches_on_tiny_images(tmp_path, images):
    search_one_trial(tmp_path, HyperResNet(input_shape=SHAPE, classes=3), images)


@pytest.mark.parametrize("version", ["v1", "next"])
def test_resnet_other_versions_search(tmp_path, images, version):
    search_one_trial(tmp_path, HyperResNet(input_shape=SHAPE, classes=3), images, version=version, conv4_depth=6)


def test_xception_searches_on_tiny_images(tmp_path, images):
    search_one_trial(tmp_path, HyperXception(input_shape=SHAPE, classes=3), images, sep_num_filters=128,
                     num_residual_blocks=2)


def test_efficientnet_with_augmentation_searches_on_tiny_images(tmp_path, images):
    augment = HyperImageAugment(input_shape=SHAPE, augment_layers=1)
    hypermodel = HyperEfficientNet(input_shape=SHAPE, classes=3, augmentation_model=augment, weights=None)
    tuner = search_one_trial(tmp_path, hypermodel, images, version="B0")
    assert "factor_rotate" in tuner.oracle.get_space()


def test_augment_keeps_the_image_shape():
    for augment_layers in (0, 2):
        hp = _hp_with(augment_layers=augment_layers, factor_rotate=0.2, factor_contrast=0.3)
        model = HyperImageAugment(input_shape=SHAPE, augment_layers=augment_layers).build(hp)
        x = np.random.default_rng(0).random((4, *SHAPE)).astype("float32")
        out = np.asarray(model(x, training=True))
        assert out.shape == x.shape
        assert not np.allclose(out, x)


def _hp_with(**values):
    hp = kt.HyperParameters()
    for name, value in values.items():
        hp.Fixed(name, value)
    return hp
