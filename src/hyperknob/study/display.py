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

MAX_TRACEBACK_LINES = 30  # a failed trial's traceback on screen: its first line and its last lines

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
    def __init__(self, n_trials: int | None = None, live: bool = True) -> None:
        from rich.console import Console

        self.console = Console(highlight=False, soft_wrap=True)
        self.n_trials = n_trials
        # live=False steps aside for another progress display (Keras's bar): a panel redrawn under
        # a bar that rewrites its own line turns every redraw of the bar into a line of its own.
        self.live = live
        self._live: Any = None
        self._started = 0.0
        self._durations: list[float] = []
        self._trial_started = 0.0
        self._current: Trial | None = None
        self._study: Study | None = None
        self._best: FrozenTrial | None = None
        self._count = 0
        self._reasons_shown: set[str] = set()

    # --- budget and estimates -------------------------------------------------------------------
    def _budget(self, study: Study) -> tuple[int, int | None]:
        done = len([t for t in study.get_trials() if t.status != TrialStatus.RUNNING])
        if self.n_trials is not None:
            return self._count, self.n_trials
        planned = study.sampler.planned_trials()  # Hyperband's schedule, when it has an end
        limits = [n for n in (study.settings.max_trials, planned) if n is not None]
        return done, min(limits) if limits else None

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
        if self.live and self.console.is_terminal:
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
        if frozen.status == TrialStatus.FAILED and frozen.message:
            self._say_failure(frozen)

    def _say_failure(self, frozen: FrozenTrial) -> None:
        """A failed trial's reason on screen, with its traceback as KerasTuner prints it: the
        reason is what the user needs to fix the next run, not something to dig out of the study."""
        from rich.text import Text

        lines = printable(frozen.message or "").rstrip().splitlines()
        if len(lines) > MAX_TRACEBACK_LINES:
            cut = len(lines) - MAX_TRACEBACK_LINES
            lines = [lines[0], f"  ... ({cut} more lines: `hyperknob trials PROJECT --status FAILED`)",
                     *lines[-(MAX_TRACEBACK_LINES - 1):]]
        reason = lines[-1] if lines else ""
        self.console.print(Text.assemble((f"Trial {frozen.trial_id} failed: ", "bold red"), reason))
        if len(lines) > 1 and reason not in self._reasons_shown:  # one traceback per reason, not per trial
            self._reasons_shown.add(reason)
            self.console.print(Text("\n".join(lines), style="dim"))

    def on_search_end(self, study: Study) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        elapsed = format_duration(time.monotonic() - self._started)
        if study.stop_reason in ("interrupted", "error"):
            self._say_stopped(study, elapsed)
            return
        reason = {"budget": "budget reached", "exhausted": study.sampler.exhausted_message(), "timeout": "timeout"}.get(
            study.stop_reason or "", "done"
        )
        best = self._best_text(study) or "no completed trial"
        described = study.sampler.describe()
        algorithm = f" Algorithm: {described}." if described != study.sampler.name else ""
        self.console.print(
            f"Search finished ({reason}) in {elapsed}; {best}.{algorithm}",
            markup=False,
        )
        for summary in study.warm_start.summaries if study.warm_start is not None else []:
            self.console.print(f"Warm start from {printable(describe_source(summary))}.", markup=False)


    def _best_text(self, study: Study) -> str:
        """``best val_accuracy=0.98 (trial 03)``, or "" before any trial completed."""
        if self._best is None:
            return ""
        name = printable(study.objective.name)
        return f"best {name}={format_value(self._best.score)} (trial {self._best.trial_id})"

    def _say_stopped(self, study: Study, elapsed: str) -> None:
        """A search that did not finish says so, and how to go on: an interruption loses nothing."""
        kept = len([t for t in study.get_trials() if t.status == TrialStatus.COMPLETED])
        best = f"; {self._best_text(study)}" if self._best else ""
        if study.stop_reason == "interrupted":
            self.console.print(
                f"Search interrupted after {elapsed}: {kept} completed trials are kept{best}. Run the same "
                "search again to resume it (the interrupted trial runs again).",
                markup=False,
            )
        else:
            error = study.stop_error
            first = printable(str(error)).strip().splitlines()[:1] if error is not None else []
            said = f" ({type(error).__name__}: {first[0]})" if first else ""
            self.console.print(
                f"Search stopped by an error after {elapsed}{said}; {kept} completed trials are kept{best}.",
                markup=False,
            )


def default_callbacks(verbose: int | str, n_trials: int | None = None, live: bool = True) -> list[StudyCallback]:
    if verbose in (0, False, "0", None):
        return []
    return [ProgressDisplay(n_trials, live=live)]
