"""The model-based tuners through every door: KerasTuner-shaped tuners, the plain study, ask/tell."""

from __future__ import annotations

import pytest

import hyperknob as kt
from hyperknob.testing.functions import OPTIMA, branin


class Branin(kt.BayesianOptimization):
    def run_trial(self, trial, *args, **kwargs):
        return branin(trial.hyperparameters)


def test_bayesian_optimization_tuner_keeps_keras_tuner_arguments(tmp_path):
    tuner = Branin(max_trials=15, num_initial_points=5, alpha=1e-4, beta=2.6, seed=1,
                   directory=str(tmp_path), project_name="bo")
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 15 and all(t.status == "COMPLETED" for t in trials)
    assert len({tuple(sorted(t.hyperparameters.values.items())) for t in trials}) == 15
    assert tuner.oracle.get_best_trials(1)[0].score - OPTIMA["branin"] < 5.0


def test_bad_gp_settings_fail_when_the_tuner_is_made(tmp_path):
    with pytest.raises(ValueError, match="num_initial_points"):
        Branin(num_initial_points=0, directory=str(tmp_path))


@pytest.mark.parametrize("algorithm", ["tpe", "gp"])
def test_plain_study_and_ask_tell_use_the_model_based_samplers(algorithm):
    study = kt.optimize(branin, n_trials=20, storage=":memory:", algorithm=algorithm, seed=0, verbose=0)
    assert len(study.trials) == 20 and study.sampler.name == algorithm
    again = kt.optimize(branin, n_trials=20, storage=":memory:", algorithm=algorithm, seed=0, verbose=0)
    assert [dict(t.values) for t in again.trials] == [dict(t.values) for t in study.trials]  # seeded

    manual = kt.create_study(storage=":memory:", algorithm=algorithm, seed=0)
    for _ in range(12):
        trial = manual.ask()
        manual.tell(trial, branin(trial.hyperparameters))
    assert len(manual.trials) == 12


def test_tpe_tuner(tmp_path):
    class T(kt.TPE):
        def run_trial(self, trial, *args, **kwargs):
            return branin(trial.hyperparameters)

    tuner = T(max_trials=15, n_startup_trials=5, seed=0, directory=str(tmp_path), project_name="tpe")
    tuner.search(verbose=0)
    assert len(tuner.oracle.trials) == 15


@pytest.mark.parametrize("algorithm", ["tpe", "gp"])
def test_same_seed_same_proposals_in_fresh_interpreters(algorithm):
    import json
    import subprocess
    import sys

    code = (
        "import json, hyperknob as hk\n"
        "from hyperknob.testing.functions import branin\n"
        f"s = hk.optimize(branin, n_trials=15, storage=':memory:', algorithm={algorithm!r}, seed=3, verbose=0)\n"
        "print(json.dumps([dict(t.values) for t in s.trials]))\n"
    )
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] == runs[1] and len(json.loads(runs[0])) == 15


def test_a_resumed_model_based_study_continues_from_its_stored_trials(tmp_path):
    first = kt.optimize(branin, n_trials=12, directory=str(tmp_path), project_name="r", algorithm="tpe", seed=5, verbose=0)
    before = [dict(t.values) for t in first.trials]
    resumed = kt.create_study(str(tmp_path), "r", algorithm="tpe", seed=5)
    resumed.optimize(branin, n_trials=8, verbose=0)
    uninterrupted = kt.optimize(branin, n_trials=20, storage=":memory:", algorithm="tpe", seed=5, verbose=0)
    assert [dict(t.values) for t in resumed.trials][:12] == before
    # The sampler keeps no state of its own: stopping and resuming proposes what one run would have.
    assert [dict(t.values) for t in resumed.trials] == [dict(t.values) for t in uninterrupted.trials]
