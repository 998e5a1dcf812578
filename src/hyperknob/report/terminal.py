"""Rows of stored data as a terminal table, or as JSON for scripts (the CLI's output).

Stored text is data: every title, header and cell is a rich ``Text`` (never parsed as markup) with
its control characters shown as escapes (``hyperknob._text.printable``). Numbers, statuses and
times never wrap, so a table at 80 columns keeps them whole; long text is cut with an ellipsis.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Literal

from hyperknob._text import printable
from hyperknob.report.tables import display_cell

__all__ = ["print_rows", "rows_table"]

# Short headers for the terminal, and the columns that never wrap.
_HEADERS = {"number": "#", "duration_s": "time", "best_step": "step"}
_WHOLE = {"number", "status", "score", "duration_s", "started", "trial", "trial_id", "best_step"}


def print_rows(args: argparse.Namespace, data: Any, table: Any = None) -> None:
    """``data`` as JSON when the command was given ``--json`` (or has no table), else ``table``."""
    if getattr(args, "json", False) or table is None:
        print(json.dumps(data, indent=1, default=str))
        return
    from rich.console import Console

    Console().print(table)


def rows_table(rows: list[dict[str, Any]], title: str) -> Any:
    """A rich table of ``rows`` (dicts with the same keys), cells formatted by ``display_cell``;
    an all-empty ``message`` column is left out."""
    from rich.box import SIMPLE_HEAD
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(printable(title)), show_lines=False, box=SIMPLE_HEAD, pad_edge=False)
    columns = list(rows[0]) if rows else []
    columns = [c for c in columns if c != "message" or any(row[c] for row in rows)]
    for column in columns:
        justify: Literal["right", "left"] = "right" if column in ("number", "score", "duration_s") else "left"
        header = _HEADERS.get(column, column.removeprefix("param_"))
        whole = column in _WHOLE
        table.add_column(Text(printable(header)), justify=justify, no_wrap=whole,
                         overflow="fold" if whole else "ellipsis", min_width=None if whole else 4)
    for row in rows:
        table.add_row(*(Text(printable(display_cell(c, row[c])), no_wrap=c != "message") for c in columns))
    return table
