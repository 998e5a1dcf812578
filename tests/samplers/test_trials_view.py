"""TrialsView.tried_keys: the keys of every configuration tried, cheap on long studies."""

from __future__ import annotations

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.samplers.base import TrialKeyCache, TrialsView
from hyperknob.space.parameters import Float, Int


def _trial(number, x, status=TrialStatus.COMPLETED):
    return FrozenTrial(study_id=1, number=number, trial_id=f"t{number}", status=status,
                       values={"x": x, "n": number % 7}, score=float(x))


def _fresh_keys(trials, space):
    return TrialsView(trials, len(trials), "min", TrialKeyCache()).tried_keys(space)


def test_a_growing_study_reuses_its_finished_prefix_and_stays_exact(monkeypatch):
    space = [Float("x", 0.0, 1.0), Int("n", 0, 10)]
    trials = [_trial(i, i / 1000) for i in range(500)]
    study_keys = TrialKeyCache()  # what a Study keeps between its proposals
    assert len(TrialsView(trials, 500, "min", study_keys).tried_keys(space)) == 500
    calls = []
    real_key = TrialsView._key
    monkeypatch.setattr(TrialsView, "_key", lambda view, t, s, sig: calls.append(t.number) or real_key(view, t, s, sig))
    # The next claims see the same trial objects plus a running trial and a new finished one.
    running = _trial(500, 0.5005, TrialStatus.RUNNING)
    keys = TrialsView([*trials, running], 501, "min", study_keys).tried_keys(space)
    assert calls == [500]
    trials.append(_trial(500, 0.5005))
    trials.append(_trial(501, 0.9999))
    calls.clear()
    keys = TrialsView(trials, 502, "min", study_keys).tried_keys(space)
    assert calls == [500, 501]
    calls.clear()
    TrialsView(trials, 502).tried_keys(space)  # a view without the study's cache computes every key
    assert len(calls) == 502
    monkeypatch.undo()
    assert keys == _fresh_keys(trials, space)


def test_other_trial_objects_with_the_same_space_are_never_mistaken_for_the_prefix():
    space = [Float("x", 0.0, 1.0), Int("n", 0, 10)]
    first = [_trial(i, i / 100) for i in range(50)]
    shared = TrialKeyCache()
    TrialsView(first, 50, "min", shared).tried_keys(space)
    other = [_trial(i, 0.5 + i / 1000) for i in range(60)]  # other objects, same space and numbers
    assert TrialsView(other, 60, "min", shared).tried_keys(space) == _fresh_keys(other, space)
    shorter = first[:20]
    assert TrialsView(shorter, 20, "min", shared).tried_keys(space) == _fresh_keys(shorter, space)


def test_a_study_reuses_its_keys_from_one_proposal_to_the_next(tmp_path, monkeypatch):
    import hyperknob as hk

    study = hk.create_study(str(tmp_path), "keys", algorithm="random", seed=0)
    study.optimize(lambda hp: hp.Float("x", 0.0, 1.0), n_trials=40, verbose=0)
    calls = []
    real_key = TrialsView._key
    monkeypatch.setattr(TrialsView, "_key", lambda view, t, s, sig: calls.append(t.number) or real_key(view, t, s, sig))
    study.optimize(lambda hp: hp.Float("x", 0.0, 1.0), n_trials=1, verbose=0)
    # The 40 finished trials' keys come from the study's cache: only what changed is keyed again.
    assert len(study.trials) == 41 and len(calls) <= 2
    reopened = hk.load_study(str(tmp_path), "keys")  # a new Study object starts with an empty cache
    calls.clear()
    reopened.ask()
    assert len(calls) >= 41
