"""The rows of benchmarks/multifidelity.py and the budget they share: which optimisers run (and
their labels, the reference first), Hyperband's epochs and factor, which rows stop when the
reference's epochs are spent, the seeds keras-tuner's oracle gets, and the line a child prints its
result on. Imported by the runners (``_multifidelity_runners``), the report
(``_multifidelity_report``) and the command itself."""
from __future__ import annotations

MARK = "@@MULTIFIDELITY-RESULT@@"

MAX_EPOCHS, FACTOR = 20, 3

# key -> label ; order is the table's order. The reference runs first.
OPTIMIZERS = {
    "kt_hyperband": "keras-tuner Hyperband",
    "hk_hyperband": "hyperknob Hyperband",
    "hk_asha": "hyperknob ASHA",
    "hk_bohb": "hyperknob BOHB",
    "hk_asha_tpe": "hyperknob ASHA + TPE",
    "hk_asha_gp": "hyperknob ASHA + GP",
    "hk_asha_budget": "hyperknob ASHA + GP budget model",
    "hk_random_median": "hyperknob random + MedianPruner",
    "optuna_tpe_hb": "optuna TPE + HyperbandPruner",
}
REFERENCE = "kt_hyperband"
# row -> ASHA's arguments besides max_epochs (factor FACTOR unless given)
ASHA_ROWS: dict[str, dict] = {
    "hk_asha": {"sampler": "random"},
    "hk_asha_tpe": {"sampler": "tpe"},
    "hk_asha_gp": {"sampler": "gp"},
    "hk_asha_budget": {"sampler": "gp", "budget_model": True, "factor": 2, "min_epochs": 2},
}
CAPPED = (*ASHA_ROWS, "hk_random_median", "optuna_tpe_hb")  # stopped when the budget is spent
FRACTIONS = (0.25, 0.5, 1.0)

# keras-tuner's oracle draws hyperparameter j of its search from random.Random(seed_state) and adds
# 1 to seed_state per value drawn, so searches with seeds s and s + 3 (three hyperparameters) try the
# same configurations shifted by one, and seeds 0..19 are about three independent searches, not
# twenty; its seed 0 means "pick one at random" (1..10000). Its seeds are spread this far apart
# (one search draws a few hundred values) so that every seed is an independent search.
KT_SEED_STRIDE = 1_000_003


def kt_seed(seed: int) -> int:
    """The seed keras-tuner's oracle gets for benchmark seed ``seed`` (see KT_SEED_STRIDE)."""
    return (seed + 1) * KT_SEED_STRIDE
