"""How the tuner's search space is formed: predefined hyperparameters, tune_new_entries,
allow_new_entries, HyperModel(tunable=False), conditional branches, declare_hyperparameters."""

import importlib
import os

from dt_common import Facts, exc_fact, raises

kt = importlib.import_module(os.environ["KT_MODULE"])  # the one switch line

F = Facts(kt)


def make_tuner(base, hypermodel, **kwargs):
    records = []

    class T(base):
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            before = dict(hp.values)
            self.hypermodel.build(hp)
            records.append({"before_build": before, "after_build": dict(hp.values)})
            return float(sum(v for v in hp.values.values() if isinstance(v, (int, float)) and not isinstance(v, bool)))

    kwargs.setdefault("directory", F.tmpdir())
    kwargs.setdefault("project_name", "s")
    kwargs.setdefault("overwrite", True)
    return T(hypermodel, **kwargs), records


def build_ab(hp):
    hp.Int("a", 0, 9)
    hp.Int("b", 100, 200)
    return None


@F.section
def tune_new_entries_false():
    hps = kt.HyperParameters()
    hps.Int("a", 0, 9)
    tuner, records = make_tuner(kt.RandomSearch, build_ab, hyperparameters=hps, tune_new_entries=False,
                                max_trials=4, seed=3)
    space_names = [p.name for p in tuner.oracle.get_space().space]
    tuner.search(verbose=0)
    return {
        "space_names": space_names,
        "n_trials": len(records),
        "b_before_build": [r["before_build"].get("b") for r in records],
        "b_after_build": [r["after_build"].get("b") for r in records],
        "a_in_range": all(0 <= r["before_build"]["a"] <= 9 for r in records),
        "a_tuned": len({r["before_build"]["a"] for r in records}) > 1,
    }


@F.section
def tune_new_entries_false_needs_hyperparameters():
    return raises(lambda: kt.RandomSearch(build_ab, tune_new_entries=False, max_trials=1,
                                          directory=F.tmpdir(), overwrite=True), kt)


@F.section
def allow_new_entries_false_rejects_unknown():
    hps = kt.HyperParameters()
    hps.Int("a", 0, 9)
    phase = "init"
    try:
        tuner, records = make_tuner(kt.RandomSearch, build_ab, hyperparameters=hps, allow_new_entries=False,
                                    max_trials=2, seed=1)
        phase = "search"
        tuner.search(verbose=0)
    except Exception as exc:  # noqa: BLE001
        return {"raised": exc_fact(exc, kt), "phase": phase}
    return {"raised": None, "n_trials": len(records)}


@F.section
def allow_new_entries_false_needs_hyperparameters():
    return raises(lambda: kt.RandomSearch(build_ab, allow_new_entries=False, max_trials=1,
                                          directory=F.tmpdir(), overwrite=True), kt)


@F.section
def allow_new_entries_false_known_only_is_fine():
    hps = kt.HyperParameters()
    hps.Int("a", 0, 9)
    hps.Int("b", 100, 200)
    tuner, records = make_tuner(kt.RandomSearch, build_ab, hyperparameters=hps, allow_new_entries=False,
                                max_trials=3, seed=1)
    tuner.search(verbose=0)
    return {"n_trials": len(records), "keys": sorted({k for r in records for k in r["before_build"]})}


def build_override(hp):
    hp.Int("a", 0, 100)
    hp.Choice("c", ["x", "y"])
    return None


@F.section
def predefined_hyperparameters_override_build():
    hps = kt.HyperParameters()
    hps.Int("a", 5, 6)
    tuner, records = make_tuner(kt.GridSearch, build_override, hyperparameters=hps)
    tuner.search(verbose=0)
    seen = sorted((r["after_build"]["a"], r["after_build"]["c"]) for r in records)
    return {"n_trials": len(records), "seen": seen}


class Untunable(kt.HyperModel):
    def build(self, hp):
        hp.Int("x", 3, 9)
        hp.Choice("act", ["relu", "tanh"])
        return None


@F.section
def hypermodel_tunable_false():
    tuner, records = make_tuner(kt.RandomSearch, Untunable(tunable=False), max_trials=3, seed=1)
    space_names = [p.name for p in tuner.oracle.get_space().space]
    tuner.search(verbose=0)
    return {
        "space_names": space_names,
        "n_trials": len(records),
        "before_build": [r["before_build"] for r in records],
        "x_after_build": [r["after_build"].get("x") for r in records],
    }


@F.section
def hypermodel_tunable_false_with_predefined():
    hps = kt.HyperParameters()
    hps.Int("x", 20, 21)
    tuner, records = make_tuner(kt.GridSearch, Untunable(tunable=False), hyperparameters=hps)
    tuner.search(verbose=0)
    return {
        "space_names": [p.name for p in tuner.oracle.get_space().space],
        "x_values": sorted(r["after_build"].get("x") for r in records),
        "act_values": sorted({r["after_build"].get("act") for r in records}),
    }


@F.section
def hypermodel_tunable_false_with_same_predefined():
    hps = kt.HyperParameters()
    hps.Int("x", 3, 9)
    tuner, records = make_tuner(kt.GridSearch, Untunable(tunable=False), hyperparameters=hps)
    tuner.search(verbose=0)
    return {
        "space_names": [p.name for p in tuner.oracle.get_space().space],
        "x_values": sorted(r["after_build"].get("x") for r in records),
    }


@F.section
def hypermodel_tunable_true():
    tuner, records = make_tuner(kt.GridSearch, Untunable(tunable=True))
    tuner.search(verbose=0)
    return {
        "space_names": [p.name for p in tuner.oracle.get_space().space],
        "n_trials": len(records),
    }


def cond_build(hp):
    model = hp.Choice("model", ["lin", "tree", "net"])
    with hp.conditional_scope("model", ["tree"]):
        hp.Int("depth", 1, 8)
    with hp.conditional_scope("model", ["net"]):
        hp.Int("units", 8, 64, step=8)
        with hp.conditional_scope("units", [8, 16]):
            hp.Boolean("small_net_flag")
    hp.Float("lr", 0.01, 0.1)
    return model


@F.section
def conditional_space_and_trials():
    tuner, records = make_tuner(kt.RandomSearch, cond_build, max_trials=12, seed=2)
    space_names = sorted(p.name for p in tuner.oracle.get_space().space)
    tuner.search(verbose=0)
    ok = True
    for r in records:
        v = r["before_build"]
        ok &= ("depth" in v) == (v["model"] == "tree")
        ok &= ("units" in v) == (v["model"] == "net")
        ok &= ("small_net_flag" in v) == (v["model"] == "net" and v.get("units") in (8, 16))
        ok &= "lr" in v
    return {"space_names": space_names, "n_trials": len(records), "only_active_values": bool(ok),
            "before_equals_after_build": all(r["before_build"] == r["after_build"] for r in records)}


class Declaring(kt.HyperModel):
    def declare_hyperparameters(self, hp):
        hp.Choice("declared", ["p", "q"])

    def build(self, hp):
        hp.Int("built", 0, 1)
        return None


@F.section
def declare_hyperparameters_enters_space():
    tuner, records = make_tuner(kt.GridSearch, Declaring())
    names = sorted(p.name for p in tuner.oracle.get_space().space)
    tuner.search(verbose=0)
    return {"space_names": names, "n_trials": len(records),
            "seen": sorted((r["before_build"].get("declared"), r["before_build"].get("built")) for r in records)}


@F.section
def fixed_values_in_every_trial():
    def build(hp):
        hp.Fixed("const", 42)
        hp.Choice("c", [1, 2])

    tuner, records = make_tuner(kt.GridSearch, build)
    tuner.search(verbose=0)
    return {"n_trials": len(records), "const": [r["before_build"].get("const") for r in records]}


F.dump()
