"""prob_to_value / value_to_prob of Int, Float, Choice and Boolean definitions, and the value
sets the KerasTuner docstrings promise (e.g. Int(6, 13, step=3) -> [6, 9, 12])."""

import importlib
import os

from dt_common import Facts

kt = importlib.import_module(os.environ["KT_MODULE"])  # the one switch line

F = Facts(kt)

PROBS = [0.0, 0.05, 0.1, 0.25, 0.33, 0.5, 0.66, 0.75, 0.9, 0.999]
DENSE = [i / 2000 for i in range(2000)]


def definitions():
    hp = kt.HyperParameters()
    hp.Int("int_linear", 0, 10)
    hp.Int("int_step3", 6, 13, step=3)
    hp.Int("int_log_step2", 2, 32, step=2, sampling="log")
    hp.Int("int_log", 1, 1000, sampling="log")
    hp.Int("int_reverse_log", 1, 100, sampling="reverse_log")
    hp.Float("float_linear", 0, 1)
    hp.Float("float_range", -2.0, 6.0)
    hp.Float("float_step", 0, 1, step=0.25)
    hp.Float("float_step_doc", 0, 1, step=0.2)
    hp.Float("float_log_step10", 0.001, 10, step=10, sampling="log")
    hp.Float("float_log", 1e-4, 1e-1, sampling="log")
    hp.Float("float_reverse_log", 0.1, 0.9, sampling="reverse_log")
    hp.Choice("choice", [1, 2, 4, 8])
    hp.Choice("choice_str", ["a", "b", "c"])
    hp.Boolean("boolean")
    return {p.name: p for p in hp.space}


VALUE_PROBES = {
    "int_linear": [0, 3, 10],
    "int_step3": [6, 9, 12],
    "int_log_step2": [2, 8, 32],
    "int_log": [1, 10, 1000],
    "int_reverse_log": [1, 50, 100],
    "float_linear": [0.0, 0.25, 1.0],
    "float_range": [-2.0, 0.0, 6.0],
    "float_step": [0.0, 0.5, 1.0],
    "float_step_doc": [0.0, 0.4, 0.8],
    "float_log_step10": [0.001, 0.1, 10.0],
    "float_log": [1e-4, 1e-3, 1e-1],
    "float_reverse_log": [0.1, 0.5, 0.9],
    "choice": [1, 4, 8],
    "choice_str": ["a", "c"],
    "boolean": [False, True],
}

# Definitions with a finite set of values: the whole set is compared.
FINITE = {
    "int_linear", "int_step3", "int_log_step2", "float_step", "float_step_doc", "float_log_step10",
    "choice", "choice_str", "boolean",
}

DEFS = definitions()


def _section_for(name):
    def fn():
        p = DEFS[name]
        return {
            "prob_to_value": [p.prob_to_value(x) for x in PROBS],
            "value_to_prob": [p.value_to_prob(v) for v in VALUE_PROBES[name]],
            "reachable_values": sorted({p.prob_to_value(x) for x in DENSE}) if name in FINITE else None,
            "default": p.default,
        }

    fn.__name__ = name
    return fn


for _name in VALUE_PROBES:
    F.section(_section_for(_name))


@F.section
def int_values_are_ints():
    return {name: all(isinstance(DEFS[name].prob_to_value(x), int) for x in PROBS) for name in DEFS if name.startswith("int")}


@F.section
def float_values_are_floats():
    return {name: all(isinstance(DEFS[name].prob_to_value(x), float) for x in PROBS) for name in DEFS if name.startswith("float")}


@F.section
def int_log_reachable_extremes():
    # Continuous log/reverse_log Int ranges: max_value is reachable, every value stays in range.
    out = {}
    for name in ("int_log", "int_reverse_log"):
        p = DEFS[name]
        vals = [p.prob_to_value(x) for x in DENSE]
        out[name] = {"min": min(vals), "max": max(vals), "distinct_gt_20": len(set(vals)) > 20}
    return out


F.dump()
