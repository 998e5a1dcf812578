"""Workers as Dask tasks on a LocalCluster, meeting in an SQLite study."""

from __future__ import annotations

import os

import pytest

distributed = pytest.importorskip("distributed")

import hyperknob as hk  # noqa: E402
from hyperknob._types import TrialStatus  # noqa: E402
from hyperknob.executors.dask import optimize_on_dask, search_on_dask  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def test_a_search_runs_as_dask_tasks(tmp_path, client):
    def objective(hp):
        import time

        time.sleep(0.05)
        return (hp.Float("x", -1, 1) - 0.3) ** 2

    study = hk.create_study(str(tmp_path), "dask", algorithm="tpe", seed=1)
    optimize_on_dask(client, study, objective, n_workers=2, n_trials=20)
    trials = study.trials
    assert [t.number for t in trials] == list(range(20))
    assert all(t.status == TrialStatus.COMPLETED for t in trials)
    pids = {int(t.worker.rsplit(":", 2)[1]) for t in trials}
    worker_pids = set(client.run(os.getpid).values())
    assert pids <= worker_pids and len(pids) == 2 and os.getpid() not in pids


def test_a_tuner_is_built_inside_each_task(tmp_path, client):
    directory = str(tmp_path)

    def make_tuner():
        class Black(hk.BaseTuner):
            def run_trial(self, trial, *args, **kwargs):
                return {"loss": trial.hyperparameters.Float("x", 0, 1)}

        return Black(oracle=hk.oracles.RandomSearchOracle(objective="loss", max_trials=10, seed=0),
                     directory=directory, project_name="t")

    make_tuner()  # create the study once, here
    search_on_dask(client, make_tuner, n_workers=2)
    trials = hk.load_study(directory, "t").trials
    assert len(trials) == 10 and all(t.status == TrialStatus.COMPLETED for t in trials)


def test_an_in_memory_study_is_refused(client):
    study = hk.create_study(storage=":memory:")
    with pytest.raises(ValueError, match="every worker process can open"):
        optimize_on_dask(client, study, lambda hp: 0.0, n_workers=2, n_trials=2)


def test_tasks_keep_the_studys_settings(tmp_path, client):
    """The failure limit travels with the study: with none set, every failing trial is recorded
    and no task stops the search (a task with the default limit of 3 would raise)."""
    def objective(hp):
        hp.Float("x", 0, 1)
        raise RuntimeError("always fails")

    study = hk.create_study(str(tmp_path), "s", max_consecutive_failed_trials=None, seed=0)
    optimize_on_dask(client, study, objective, n_workers=2, n_trials=8)
    assert [t.status for t in study.trials] == [TrialStatus.FAILED] * 8
