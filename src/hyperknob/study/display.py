"""The live console display of a search: a callback, never part of the algorithm.

In a terminal a small live panel shows the trial count against the budget, the current trial's
values, the best so far with its values, the elapsed time and an estimate of the time left; each
finished trial also leaves one line in the scroll-back. Elsewhere (logs, CI, notebooks' captured
output) only those lines are printed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from hyperknob._text import printable
from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.study.callbacks import StudyCallback
from hyperknob.study.warm_start import describe_source

if TYPE_CHECKING:
    from hyperknob.study.study import Study
    from hyperknob.study.trial import Trial

__all__ = ["ProgressDisplay", "default_callbacks", "format_duration", "format_value"]


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}h {m:02d}m {s:02d}s"


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)


def _values_text(values: dict[str, Any], limit: int = 8) -> str:
    items = [f"{printable(k)}={printable(format_value(v))}" for k, v in list(values.items())[:limit]]
    if len(values) > limit:
        items.append(f"... (+{len(values) - limit})")
    return ", ".join(items) or "default configuration"


class ProgressDisplay(StudyCallback):
    def __init__(self, n_trials: int | None = None) -> None:
        from rich.console import Console

        self.console = Console(highlight=False, soft_wrap=True)
        self.n_trials = n_trials
        self._live: Any = None
        self._started = 0.0
        self._durations: list[float] = []
        self._trial_started = 0.0
        self._current: Trial | None = None
        self._study: Study | None = None
        self._best: FrozenTrial | None = None
        self._count = 0

    # --- budget and estimates -------------------------------------------------------------------
    def _budget(self, study: Study) -> tuple[int, int | None]:
        done = len([t for t in study.get_trials() if t.status != TrialStatus.RUNNING])
        if self.n_trials is not None:
            return self._count, self.n_trials
        return done, study.settings.max_trials

    def _eta(self, done: int, total: int | None) -> str:
        if total is None or not self._durations:
            return "?"
        mean = sum(self._durations) / len(self._durations)
        return format_duration(max(total - done, 0) * mean)

    def _panel(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        study = self._study
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold")
        table.add_column()
        if study is None:
            return table
        done, total = self._budget(study)
        # Stored text goes in as Text: never parsed as markup (docs/architecture.md: hyperknob/_text.py).
        budget = f"{done}/{total if total is not None else '∞'} trials"
        table.add_row("Search", Text(f"{printable(study.name)}  ·  {budget}"))
        if self._current is not None:
            running = format_duration(time.monotonic() - self._trial_started)
            values = _values_text(self._current.hyperparameters.values)
            table.add_row(f"Trial {self._current.trial_id}", Text(f"{values}  ·  running {running}"))
        if self._best is not None:
            best = f"{printable(study.objective.name)}={format_value(self._best.score)} (trial {self._best.trial_id})"
            table.add_row("Best so far", Text(f"{best}: {_values_text(dict(self._best.values))}"))
        elapsed = format_duration(time.monotonic() - self._started)
        table.add_row("Elapsed", f"{elapsed}  ·  left ~{self._eta(done, total)}")
        return table

    # --- callbacks ------------------------------------------------------------------------------
    def on_search_begin(self, study: Study) -> None:
        self._study = study
        self._started = time.monotonic()
        best = study.get_best_trials(1)
        self._best = best[0] if best else None
        if self.console.is_terminal:
            from rich.live import Live

            self._live = Live(get_renderable=self._panel, console=self.console, refresh_per_second=2, transient=True)
            self._live.start()

    def on_trial_begin(self, study: Study, trial: Trial) -> None:
        self._current = trial
        self._trial_started = time.monotonic()
        if self._live is None:
            done, total = self._budget(study)
            from rich.text import Text

            self.console.print(Text.assemble(
                ("Search:", "bold"),
                f" trial {trial.trial_id} ({done + 1}/{total if total is not None else '∞'}): "
                f"{_values_text(trial.hyperparameters.values)}",
            ))

    def on_trial_end(self, study: Study, trial: Trial, frozen: FrozenTrial) -> None:
        took = time.monotonic() - self._trial_started
        self._durations.append(took)
        self._current = None
        if frozen.status != TrialStatus.INVALID:
            self._count += 1
        if frozen.status == TrialStatus.COMPLETED and frozen.has_finite_score():
            if (self._best is None
                    or study.objective.sort_key(frozen.score) < study.objective.sort_key(self._best.score)):
                self._best = frozen
        done, total = self._budget(study)
        if frozen.score is not None:
            score = f"{printable(study.objective.name)}={format_value(frozen.score)}"
        else:
            score = frozen.status.value
        if self._best is not None:
            best = f"best {format_value(self._best.score)} (trial {self._best.trial_id})"
        else:
            best = "best: none yet"
        status = "" if frozen.status == TrialStatus.COMPLETED else f" [{frozen.status.value}]"
        self.console.print(
            f"Trial {frozen.trial_id}{status} done in {took:.2f}s  ·  {score}  ·  {best}  ·  "
            f"{done}/{total if total is not None else '∞'}  ·  "
            f"elapsed {format_duration(time.monotonic() - self._started)}  ·  left ~{self._eta(done, total)}",
            markup=False,
        )

    def on_search_end(self, study: Study) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        reason = {"budget": "budget reached", "exhausted": study.sampler.exhausted_message(), "timeout": "timeout"}.get(
            study.stop_reason or "", "done"
        )
        if self._best:
            name = printable(study.objective.name)
            best = f"best {name}={format_value(self._best.score)} (trial {self._best.trial_id})"
        else:
            best = "no completed trial"
        described = study.sampler.describe()
        algorithm = f" Algorithm: {described}." if described != study.sampler.name else ""
        self.console.print(
            f"Search finished ({reason}) in {format_duration(time.monotonic() - self._started)}; {best}.{algorithm}",
            markup=False,
        )
        for summary in study.warm_start.summaries if study.warm_start is not None else []:
            self.console.print(f"Warm start from {printable(describe_source(summary))}.", markup=False)


def default_callbacks(verbose: int | str, n_trials: int | None = None) -> list[StudyCallback]:
    if verbose in (0, False, "0", None):
        return []
    return [ProgressDisplay(n_trials)]
