"""What an importance method found, as data (``Importances``) and as plain sentences.

Every estimate carries a 90% interval, so "x does not matter" is a claim about the interval (its
upper end is small), never about a point estimate that happens to be small.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

__all__ = ["MATTERS", "NEGLIGIBLE", "Estimate", "Importances", "PairEstimate"]

MATTERS = 0.05  # a share at least this large (and an interval clear of ~0) matters
NEGLIGIBLE = 0.02  # an interval whose upper end is below this: the parameter never mattered


class Estimate(NamedTuple):
    """One parameter's importance and its 90% interval."""

    name: str
    value: float
    low: float
    high: float


class PairEstimate(NamedTuple):
    """The share two parameters explain together beyond their separate effects, with its interval."""

    names: tuple[str, str]
    value: float
    low: float
    high: float


def _pct(low: float, high: float) -> str:
    return f"{low:.2f}-{high:.2f}"


@dataclasses.dataclass(frozen=True)
class Importances:
    """The result of ``report.importance``: ``main`` sorted by importance (largest first),
    ``pairs`` (fANOVA only) likewise; values are shares of the target's variance (fANOVA) or
    normalised divergences between the best trials and all trials (PED-ANOVA)."""

    method: str  # "fanova" or "ped-anova"
    target: str  # the metric explained
    maximise: bool
    n_trials: int  # trials the estimate was made from
    main: list[Estimate]
    pairs: list[PairEstimate]
    note: str = ""
    best: dict[str, Any] = dataclasses.field(default_factory=dict)  # the best trial's values
    quantile: float | None = None  # PED-ANOVA: the share of trials counted as the best

    def get(self, name: str) -> Estimate:
        """The estimate of one parameter (``KeyError`` if it was not modelled)."""
        for e in self.main:
            if e.name == name:
                return e
        raise KeyError(name)

    def as_shares(self) -> dict[str, float]:
        """Each parameter's main value, scaled to sum to 1 (equal shares when all are 0)."""
        total = sum(max(e.value, 0.0) for e in self.main)
        if total <= 0:
            return {e.name: 1.0 / len(self.main) for e in self.main}
        return {e.name: max(e.value, 0.0) / total for e in self.main}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: what ``hyperknob importance --json`` prints."""
        return {
            "method": self.method, "target": self.target, "direction": "max" if self.maximise else "min",
            "n_trials": self.n_trials, "note": self.note, "quantile": self.quantile, "interval": 0.9,
            "main": [e._asdict() for e in self.main],
            "pairs": [{"names": list(p.names), "value": p.value, "low": p.low, "high": p.high} for p in self.pairs],
            "sentences": self.sentences(),
        }

    def negligible(self) -> list[Estimate]:
        """Parameters whose interval stays under ``NEGLIGIBLE``, alone and in every pair."""
        paired = {n for p in self.pairs if p.value >= MATTERS for n in p.names}
        return [e for e in self.main if e.high < NEGLIGIBLE and e.name not in paired]

    def interacting(self) -> list[PairEstimate]:
        return [p for p in self.pairs if p.value >= MATTERS and p.low > 0.01]

    def sentences(self) -> list[str]:
        """Plain-English lines: which parameters matter, which never did, which pairs interact."""
        out = [self.note] if self.note else []
        if self.method == "ped-anova":
            what = f"of what sets the best {100 * (self.quantile or 0.1):.0f}% of trials apart"
        else:
            what = f"of the variance of {self.target}"
        matters = [e for e in self.main if e.value >= MATTERS and e.low > 0.01]
        negligible = {e.name for e in self.negligible()}
        for rank, e in enumerate(matters):
            if rank == 0:
                out.append(f"`{e.name}` matters most: {e.value:.2f} {what} (90% interval {_pct(e.low, e.high)}).")
            else:
                out.append(f"`{e.name}` matters too: {e.value:.2f} (interval {_pct(e.low, e.high)}).")
        if not matters:
            out.append("No parameter clearly matters yet (every interval reaches down to about 0): run more trials.")
        for e in self.main:
            if e in matters or e.name in negligible:
                continue
            out.append(f"`{e.name}` may matter a little ({e.value:.2f}, interval {_pct(e.low, e.high)}): "
                       "more trials would tell.")
        for e in self.main:
            if e.name in negligible:
                value = self.best.get(e.name)
                shown = f"{value:.4g}" if isinstance(value, float) else repr(value)
                used = f" (the best trial used {shown})" if e.name in self.best else ""
                out.append(f"`{e.name}` never mattered ({e.value:.2f}, interval {_pct(e.low, e.high)}): "
                           f"fix it{used}.")
        for p in self.interacting():
            a, b = p.names
            out.append(f"`{a}` and `{b}` interact: together they explain {p.value:.2f} (interval "
                       f"{_pct(p.low, p.high)}) beyond their separate effects; tune them together.")
        if self.method == "fanova" and self.main:
            alone = sum(e.value for e in self.main)
            if alone < 0.6:
                out.append(f"The parameters' separate effects explain {alone:.2f} of the variance; the rest "
                           "comes from parameters acting together (or noise).")
        if self.method == "ped-anova":
            out.append("PED-ANOVA looks at one parameter at a time: pairs that only work together "
                       "show up in fANOVA (--method fanova).")
        return out
