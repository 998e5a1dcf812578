"""Arguments that would be silently wrong are refused with a message that names the fix (#22, item 6)."""

from __future__ import annotations

import pytest

import hyperknob as hk


def _objective(hp):
    return hp.Float("x", 0.0, 1.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_trials": 2.5}, "n_trials must be a positive integer"),
        ({"n_trials": -1}, "n_trials must be a positive integer"),
        ({"n_trials": 0}, "n_trials must be a positive integer"),
        ({"n_trials": True}, "n_trials must be a positive integer"),
        ({"timeout": -1}, "timeout must be a positive number of seconds"),
        ({"timeout": "10"}, "timeout must be a positive number of seconds"),
        ({"n_workers": 0}, "n_workers must be a positive integer"),
        ({"max_trials": 0}, "max_trials must be a positive integer"),
    ],
)
def test_optimize_refuses_arguments_that_would_be_silently_wrong(tmp_path, kwargs, match):
    study = hk.create_study(str(tmp_path), "p", algorithm="random")
    with pytest.raises(ValueError, match=match):
        study.optimize(_objective, verbose=0, **kwargs)
    assert study.trials == []  # nothing ran, nothing was stored


def test_the_one_call_door_takes_the_study_and_the_run_arguments(tmp_path):
    """README: hk.optimize(..., n_workers=N) runs workers; it used to fail in create_study."""
    study = hk.optimize(_objective, n_trials=4, directory=str(tmp_path), project_name="p", algorithm="random",
                        n_workers=2, verbose=0)
    assert len(study.trials) == 4
    with pytest.raises(TypeError, match="unexpected keyword argument 'n_trails'"):
        hk.optimize(_objective, n_trails=3, directory=str(tmp_path), project_name="q")
