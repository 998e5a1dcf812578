"""The report of benchmarks/multifidelity.py: quantiles over seeds, the per-problem summary of
each optimiser against the reference (``summarise``) and its Markdown tables (``markdown``)."""
from __future__ import annotations

import math
import statistics

from _multifidelity_rows import FACTOR, FRACTIONS, MAX_EPOCHS, OPTIMIZERS, REFERENCE


def quantile(vals: list[float], q: float) -> float:
    s = sorted(vals)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    if s[hi] == math.inf:
        return s[lo] if pos == lo else math.inf
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def stats(vals: list[float]) -> dict:
    return {"median": quantile(vals, 0.5), "q25": quantile(vals, 0.25),
            "q75": quantile(vals, 0.75), "n": len(vals)}


def best_so_far(vals: list[float]) -> list[float]:
    out, best = [], -math.inf
    for v in vals:
        if v == v:  # NaN (no val_accuracy) never counts
            best = max(best, v)
        out.append(best)
    return out


def summarise(raw: dict, problems: list[str], optimizers: list[str], budgets: dict) -> dict:
    out = {}
    for pname in problems:
        ref_runs = [r for r in raw.get(pname, {}).get(REFERENCE, {}).values() if "error" not in r]
        ref_epochs = (statistics.median(r["epochs"] for r in ref_runs) if ref_runs
                      else budgets[pname])
        ref_score = (statistics.median(max(best_so_far(r["vals"])) for r in ref_runs)
                     if ref_runs else None)
        rows = {}
        for o in optimizers:
            runs = [r for r in raw.get(pname, {}).get(o, {}).values() if "error" not in r]
            if not runs:
                continue
            per: dict = {f"best_at_{int(f * 100)}": [] for f in FRACTIONS}
            per.update(final=[], epochs=[], wall_s=[], trials=[], epochs_to_ref=[],
                       wall_to_ref=[])
            for r in runs:
                bsf = best_so_far(r["vals"])
                for f in FRACTIONS:
                    n = max(1, min(len(bsf), int(math.floor(f * ref_epochs))))
                    per[f"best_at_{int(f * 100)}"].append(bsf[n - 1])
                per["final"].append(bsf[-1])
                per["epochs"].append(len(bsf))
                per["wall_s"].append(r["wall_s"])
                per["trials"].append(r["trials"])
                hit = next((i for i, b in enumerate(bsf)
                            if ref_score is not None and b >= ref_score - 1e-9), None)
                per["epochs_to_ref"].append(math.inf if hit is None else hit + 1)
                per["wall_to_ref"].append(math.inf if hit is None else r["times"][hit])
            row = {k: stats(v) for k, v in per.items()}
            row["reached"] = sum(v != math.inf for v in per["epochs_to_ref"])
            row["seeds"] = len(runs)
            row["per_seed"] = per
            longest = max(len(r["vals"]) for r in runs)
            row["median_curve"] = [statistics.median(best_so_far(r["vals"])[min(i, len(r["vals"]) - 1)]
                                                     for r in runs) for i in range(longest)]
            rows[o] = row
        goal = {}
        for o, row in rows.items():
            if not o.startswith("hk_") or ref_score is None:
                continue
            reach = row["epochs_to_ref"]["median"]
            goal[o] = {"epochs_to_ref_over_ref_epochs": reach / ref_epochs,
                       "reaches_with_half": reach <= 0.5 * ref_epochs,
                       "ends_at_least_as_good": row["final"]["median"] >= ref_score - 1e-9,
                       "at_equal_budget_at_least_as_good":
                           row["best_at_100"]["median"] >= ref_score - 1e-9}
            goal[o]["met"] = goal[o]["reaches_with_half"] and goal[o]["ends_at_least_as_good"]
        out[pname] = {"ref_epochs": ref_epochs, "ref_score": ref_score, "budget": budgets[pname],
                      "optimizers": rows, "goal": goal}
    return out


def _f(s: dict, digits: int = 4) -> str:
    if s["median"] == math.inf:
        return "not reached"
    q75 = "inf" if s["q75"] == math.inf else f"{s['q75']:.{digits}f}"
    return f"{s['median']:.{digits}f} ({s['q25']:.{digits}f}-{q75})"


def _e(s: dict) -> str:
    if s["median"] == math.inf:
        return "not reached"
    q75 = "not reached" if s["q75"] == math.inf else f"{s['q75']:.0f}"
    return f"{s['median']:.0f} ({s['q25']:.0f}-{q75})"


def markdown(summary: dict, optimizers: list[str]) -> str:
    from _multifidelity_problems import PROBLEMS

    lines = []
    for pname, s in summary.items():
        E, S = s["ref_epochs"], s["ref_score"]
        unit = "simulated s" if PROBLEMS[pname].kind == "synthetic" else "s"
        lines += [f"\n### {pname}: {PROBLEMS[pname].note}\n",
                  f"Reference (keras-tuner Hyperband, max_epochs={MAX_EPOCHS}, factor={FACTOR}): "
                  f"median {E:.0f} epochs (E), median final best "
                  + ("n/a" if S is None else f"{S:.4f} (S)") + ". "
                  "Medians over seeds, interquartile range in parentheses.\n",
                  f"| optimiser | best @ 25% E | best @ 50% E | best @ 100% E | epochs to reach S "
                  f"(seeds) | final best | epochs trained | trials | wall {unit} |",
                  "|---|---|---|---|---|---|---|---|---|"]
        ref_wall = s["optimizers"].get(REFERENCE, {}).get("wall_s", {}).get("median")
        for o in optimizers:
            row = s["optimizers"].get(o)
            if row is None:
                continue
            wall = f"{row['wall_s']['median']:.1f}"
            if ref_wall:
                wall += f" ({row['wall_s']['median'] / ref_wall:.2f}x)"
            lines.append(
                f"| {OPTIMIZERS[o]} | {_f(row['best_at_25'])} | {_f(row['best_at_50'])} | "
                f"{_f(row['best_at_100'])} | {_e(row['epochs_to_ref'])} "
                f"({row['reached']}/{row['seeds']}) | {_f(row['final'])} | "
                f"{row['epochs']['median']:.0f} | {row['trials']['median']:.0f} | {wall} |")
        if s["goal"]:
            lines.append("")
            for o, g in s["goal"].items():
                lines.append(
                    f"- {OPTIMIZERS[o]}: reaches S after {g['epochs_to_ref_over_ref_epochs']:.2f} E "
                    f"(goal <= 0.5: {'yes' if g['reaches_with_half'] else 'no'}); final best "
                    f"{'>=' if g['ends_at_least_as_good'] else '<'} S; goal "
                    f"{'MET' if g['met'] else 'not met'}")
    return "\n".join(lines)
