"""``report.importance(study)``: one door to both importance methods.

fANOVA (the default) says how much of the score's variance each parameter and each pair explains
over the whole space; PED-ANOVA says what the best trials have in common. Both give 90% intervals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hyperknob.report.fanova import fanova
from hyperknob.report.importances import Importances
from hyperknob.report.ped_anova import QUANTILE, ped_anova

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = ["METHODS", "importance"]

METHODS = ("fanova", "ped-anova")


def importance(study: Study, method: str = "fanova", seed: int = 0, *, quantile: float = QUANTILE) -> Importances:
    """Which hyperparameters of ``study`` matter, with 90% intervals: ``method="fanova"`` (main
    effects and pairs, over a random forest of the trials) or ``"ped-anova"`` (what sets the best
    ``quantile`` of trials apart). A Pareto study is explained by its first objective (the result's
    ``note`` says so). Needs scikit-learn for fANOVA (``pip install 'hyperknob[sklearn]'``)."""
    name = method.lower().replace("_", "-")
    if name in ("pedanova", "ped-anova"):
        return ped_anova(study, seed=seed, quantile=quantile)
    if name == "fanova":
        return fanova(study, seed=seed)
    raise ValueError(f"method must be one of {list(METHODS)}, received {method!r}.")
