"""``hyperknob importance PROJECT [--method fanova|ped-anova] [--seed N] [--json]``: a table of
which hyperparameters matter with their 90% intervals (it fits 80 columns), the pairs that
interact, then what to do next in words.

Every name and value comes from the study, so it is data: printed through ``printable`` as rich
``Text``, which is never parsed for markup.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from hyperknob._text import printable
from hyperknob.report.advice import ablation_path, ablation_sentences, edge_advice
from hyperknob.report.fanova import fanova_of_forest
from hyperknob.report.forest import Forest, TooFewTrials, trial_matrix
from hyperknob.report.importances import Importances
from hyperknob.report.ped_anova import ped_anova_of_matrix

__all__ = ["run"]

BAR = 16  # characters of the widest bar
NAME = 24  # characters of a parameter's name before it is cut


def _bar(value: float) -> str:
    return "█" * max(0, min(BAR, round(value * BAR)))


def _name(text: str) -> str:
    text = printable(text).replace("\n", "\\n").replace("\t", "\\t")
    return text if len(text) <= NAME else text[: NAME - 1] + "…"


def _tables(found: Importances) -> list[Any]:
    from rich.table import Table
    from rich.text import Text

    label = "share of variance" if found.method == "fanova" else "share (top trials)"
    title = Text(printable(f"{found.method}: {found.target}, {found.n_trials} trials"))
    main = Table(title=title, title_justify="left")
    main.add_column("parameter", no_wrap=True, max_width=NAME)
    main.add_column(label, justify="right", no_wrap=True)
    main.add_column("90% interval", justify="right", no_wrap=True)
    main.add_column("", no_wrap=True, width=BAR)
    for e in found.main:
        main.add_row(Text(_name(e.name)), f"{e.value:.3f}", f"{e.low:.3f}-{e.high:.3f}", _bar(e.value))
    out: list[Any] = [main]
    pairs = [p for p in found.pairs if p.high >= 0.01][:5]
    if pairs:
        table = Table(title="pairs: what two parameters explain together, beyond each alone", title_justify="left")
        table.add_column("pair", no_wrap=True, max_width=2 * NAME + 3)
        table.add_column("share", justify="right", no_wrap=True)
        table.add_column("90% interval", justify="right", no_wrap=True)
        for p in pairs:
            pair = Text(f"{_name(p.names[0])} × {_name(p.names[1])}")
            table.add_row(pair, f"{p.value:.3f}", f"{p.low:.3f}-{p.high:.3f}")
        out.append(table)
    return out


def run(args: argparse.Namespace, open_study: Callable[[argparse.Namespace], Any]) -> int:
    """Print the importance of the study's parameters and the advice; 1 with a clear message when
    the study has too few trials, or scikit-learn is missing."""
    study = open_study(args)
    seed = int(getattr(args, "seed", 0) or 0)
    method = getattr(args, "method", "fanova") or "fanova"
    try:
        matrix = trial_matrix(study, seed)
        forest = Forest(matrix, seed)
    except (TooFewTrials, ModuleNotFoundError) as exc:
        print(f"hyperknob: {printable(exc)}", file=sys.stderr)
        return 1
    found = fanova_of_forest(forest) if method == "fanova" else ped_anova_of_matrix(matrix, seed)
    steps = ablation_path(study, seed, forest)
    advice = [*edge_advice(forest, found), *ablation_sentences(steps, matrix.target)]
    if getattr(args, "json", False):
        data = found.to_dict()
        data["advice"] = advice
        data["ablation"] = [{"name": s.name, "before": s.before, "after": s.after, "predicted": s.predicted,
                             "gain": s.gain, "low": s.low, "high": s.high} for s in steps]
        print(json.dumps(data, indent=1, default=str))
        return 0
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    for table in _tables(found):
        console.print(table)
    for line in [*found.sentences(), *advice]:
        console.print(Text(printable(line)))
    return 0
