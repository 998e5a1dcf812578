"""The storage contract as a pytest suite: subclass ``StorageContract`` and provide ``make_storage``.

Every backend (in-memory, SQLite, PostgreSQL, ...) must pass the same tests, so the study layer
can rely on them without knowing which one it talks to.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.storage.base import Proposal, Storage

__all__ = ["StorageContract"]


def _propose_counter(trials: Sequence[FrozenTrial], number: int, config: Any) -> Proposal:
    return Proposal({"n": number})


def _never_orphan(trial: FrozenTrial) -> bool:
    return False


class StorageContract:
    """Mix into a pytest test class and implement ``make_storage(self, tmp_path)``."""

    def make_storage(self, tmp_path: Any) -> Storage:
        raise NotImplementedError

    def _claim(self, storage: Storage, study_id: int, max_trials: int | None = None, worker: str = "w", **kw: Any):
        return storage.claim_trial(
            study_id, kw.get("propose", _propose_counter), worker=worker, max_trials=max_trials,
            is_orphan=kw.get("is_orphan", _never_orphan),
        )

    def test_create_load_list_delete(self, tmp_path: Any) -> None:
        storage = self.make_storage(tmp_path)
        record = storage.create_study("a", {"k": [1, 2], "nested": {"x": 1.5}})
        assert storage.load_study("a") == record
        assert record.config == {"k": [1, 2], "nested": {"x": 1.5}}
        again = storage.create_study("a", {"other": True})
        assert again.study_id == record.study_id and again.config == record.config
        storage.create_study("b", {})
        assert [r.name for r in storage.list_studies()] == ["a", "b"]
        storage.delete_study("a")
        assert storage.load_study("a") is None

    def test_overwrite_drops_trials(self, tmp_path: Any) -> None:
        storage = self.make_storage(tmp_path)
        record = storage.create_study("a", {})
        self._claim(storage, record.study_id)
        fresh = storage.create_study("a", {}, overwrite=True)
        assert storage.get_trials(fresh.study_id) == []

    def test_claims_number_trials_in_order_and_respect_the_budget(self, tmp_path: Any) -> None:
        storage = self.make_storage(tmp_path)
        sid = storage.create_study("a", {}).study_id
        claims = [self._claim(storage, sid, max_trials=3) for _ in range(4)]
        assert [c.trial.number for c in claims[:3]] == [0, 1, 2]
        assert [c.trial.values for c in claims[:3]] == [{"n": 0}, {"n": 1}, {"n": 2}]
        assert claims[3].trial is None and claims[3].reason == "budget"
        assert all(t.status == TrialStatus.RUNNING for t in storage.get_trials(sid))

    def test_budget_in_the_study_config_wins(self, tmp_path: Any) -> None:
        storage = self.make_storage(tmp_path)
        sid = storage.create_study("a", {"max_trials": 1}).study_id
        assert self._claim(storage, sid, max_trials=10).trial is not None
        assert self._claim(storage, sid, max_trials=10).reason == "budget"

    def test_propose_can_refuse(self, tmp_path: Any) -> None:
        storage = self.make_storage(tmp_path)
        sid = storage.create_study("a", {}).study_id
        claim = self._claim(storage, sid, propose=lambda trials, n, c: "exhausted")
        assert claim.trial is None and claim.reason == "exhausted"
        assert storage.get_trials(sid) == []

    def test_propose_sees_existing_trials_and_config(self, tmp_path: Any) -> None:
        storage = self.make_storage(tmp_path)
        sid = storage.create_study("a", {"space": ["s"]}).study_id
        seen = []

        def propose(trials: Sequence[FrozenTrial], n: int, config: Any) -> Proposal:
            seen.append(([t.number for t in trials], n, config["space"]))
            return Proposal({"n": n})

        for _ in range(3):
            self._claim(storage, sid, propose=propose)
        assert seen == [([], 0, ["s"]), ([0], 1, ["s"]), ([0, 1], 2, ["s"])]

    def test_orphans_are_taken_over_before_new_trials(self, tmp_path: Any) -> None:
        storage = self.make_storage(tmp_path)
        sid = storage.create_study("a", {}).study_id
        first = self._claim(storage, sid, worker="dead").trial
        storage.report(sid, first.number, 0, {"loss": 1.0})
        claim = self._claim(storage, sid, worker="alive", is_orphan=lambda t: t.worker == "dead")
        assert claim.resumed and claim.trial.number == first.number
        assert claim.trial.run_count == 2 and claim.trial.worker == "alive" and claim.trial.metrics == {}
        assert storage.get_trial(sid, first.number).worker == "alive"

    def test_report_and_finish_round_trip(self, tmp_path: Any) -> None:
        storage = self.make_storage(tmp_path)
        sid = storage.create_study("a", {}).study_id
        trial = self._claim(storage, sid).trial
        storage.report(sid, trial.number, 0, {"loss": 2.0, "acc": 0.1})
        storage.report(sid, trial.number, 1, {"loss": 1.0})
        storage.report(sid, trial.number, 1, {"loss": 0.5})  # the same step again replaces it
        done = storage.finish_trial(sid, trial.number, TrialStatus.COMPLETED, score=0.5, best_step=1, message=None)
        assert done.status == TrialStatus.COMPLETED and done.score == 0.5 and done.best_step == 1
        stored = storage.get_trial(sid, trial.number)
        assert [(p.step, p.value) for p in stored.metrics["loss"]] == [(0, 2.0), (1, 0.5)]
        assert [(p.step, p.value) for p in stored.metrics["acc"]] == [(0, 0.1)]
        assert stored.datetime_complete is not None and stored.datetime_start is not None
        assert stored.datetime_complete >= stored.datetime_start

    def test_update_trial_keeps_unicode_text_and_nan_metrics(self, tmp_path: Any) -> None:
        storage = self.make_storage(tmp_path)
        sid = storage.create_study("a", {}).study_id
        trial = self._claim(storage, sid).trial
        storage.report(sid, trial.number, 0, {"loss": float("nan")})
        storage.update_trial(
            sid, trial.number, status=TrialStatus.FAILED, message="Traceback… ✗", user_attrs={"k": [1]}
        )
        stored = storage.get_trial(sid, trial.number)
        assert stored.message == "Traceback… ✗" and stored.user_attrs == {"k": [1]}
        assert math.isnan(stored.metrics["loss"][0].value)

    def test_update_study_config_is_read_modify_write(self, tmp_path: Any) -> None:
        storage = self.make_storage(tmp_path)
        sid = storage.create_study("a", {"space": []}).study_id

        def add(tag: str) -> None:
            for _ in range(10):
                storage.update_study_config(sid, lambda c: {**c, "space": [*c["space"], tag]})

        threads = [threading.Thread(target=add, args=(t,)) for t in "xy"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        record = storage.load_study("a")
        assert record is not None
        space = record.config["space"]
        assert sorted(space) == ["x"] * 10 + ["y"] * 10

    def test_threads_claim_unique_numbers_within_a_shared_budget(self, tmp_path: Any) -> None:
        storage = self.make_storage(tmp_path)
        sid = storage.create_study("a", {}).study_id
        got: list[int] = []

        def work() -> None:
            while True:
                claim = self._claim(storage, sid, max_trials=40)
                if claim.trial is None:
                    return
                got.append(claim.trial.number)
                storage.finish_trial(sid, claim.trial.number, TrialStatus.COMPLETED, score=1.0)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got) == list(range(40))
        assert len(storage.get_trials(sid, [TrialStatus.COMPLETED])) == 40
