"""Every example runs on small local data, and runs the same with only its import line changed to
KerasTuner's (the examples are ports: `import keras_tuner as kt` -> `import hyperknob as kt`)."""

from __future__ import annotations

import pathlib
import re
import runpy

import pytest

pytest.importorskip("keras")
from sklearn.datasets import load_digits

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
PORTED = ["hello_world_mnist.py", "tune_depth.py", "tuned_fit.py", "custom_run_trial.py"]
IMPORT_LINE = re.compile(r"^import hyperknob as kt\b", re.MULTILINE)


@pytest.fixture(scope="module")
def small_images():
    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")  # 8x8 stands in for 28x28 or 32x32
    return (images[:160], digits.target[:160]), (images[160:220], digits.target[160:220])


def _run(path: pathlib.Path, data, directory: pathlib.Path):
    namespace = runpy.run_path(str(path), run_name="example")
    return namespace, namespace["main"](data=data, max_trials=2, epochs=1, directory=str(directory))


def _default_build_names(namespace) -> set[str]:
    """The hyperparameters a build with defaults declares (what both tuners learn before trial 1)."""
    import hyperknob

    hp = hyperknob.HyperParameters()
    if "build_model" in namespace:
        namespace["build_model"](hp)
    elif "MyHyperModel" in namespace:
        namespace["MyHyperModel"]().build(hp)
    return set(hp.values)


@pytest.mark.parametrize("name", PORTED)
def test_example_runs_under_hyperknob_and_keras_tuner(name, small_images, tmp_path):
    source = (EXAMPLES / name).read_text()
    assert len(IMPORT_LINE.findall(source)) == 1
    namespace, tuner = _run(EXAMPLES / name, small_images, tmp_path / "hk")
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 2 and all(t.status == "COMPLETED" for t in trials)

    pytest.importorskip("keras_tuner")
    ported = tmp_path / name
    ported.write_text(IMPORT_LINE.sub("import keras_tuner as kt", source))
    _, original = _run(ported, small_images, tmp_path / "kt")
    assert len(original.oracle.trials) == 2
    # Both learned at least the space a default build declares (later trials may add more, by chance).
    defaults = _default_build_names(namespace)
    assert defaults <= {p.name for p in original.oracle.get_space().space}
    assert defaults <= {p.name for p in tuner.oracle.get_space().space}


def test_the_main_job_script_runs_small(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setattr(sys, "argv", ["hello_world.py", "--max-trials", "2", "--epochs", "2", "--directory", str(tmp_path)])
    runpy.run_path(str(EXAMPLES / "hello_world.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "Results summary" in out and "Saved best model, re-evaluated" in out and "Retrained from scratch" in out
    # The search is shown while it runs (Keras quiet, the search's display on), and the end says where to look.
    assert out.count(" done in ") == 2 and "Search finished (budget reached)" in out
    assert "hyperknob importance" in out and "hyperknob report" in out


@pytest.mark.parametrize("tuner", ["hyperband", "asha", "bohb"])
def test_schedule_example_runs(tuner, tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    namespace = runpy.run_path(str(EXAMPLES / "hyperband_digits.py"), run_name="example")
    result = namespace["main"](["--tuner", tuner, "--max-epochs", "3", "--max-trials", "6", "--directory", str(tmp_path)])
    trials = result.oracle.study.trials
    assert len(trials) == 6 and all(t.status == "COMPLETED" for t in trials)
    assert any("tuner/trial_id" in t.values for t in trials)
    assert "trials," in capsys.readouterr().out
