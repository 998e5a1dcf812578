"""Stored text as it may reach a terminal.

Everything a study holds (parameter names, choice values, messages, study names) may have been
written by someone else: a shared PostgreSQL study, a study file from a colleague. So it is data,
never markup and never terminal control. ``printable`` shows every control character as its
escape (``\\x1b``) instead of sending it; callers pass the result to rich as ``Text``, which is never
parsed for markup.
"""

from __future__ import annotations

from typing import Any

__all__ = ["printable"]

_KEPT = "\n\t"


def printable(value: Any) -> str:
    """``value`` as text with every non-printable character (ESC, BEL, the C1 controls, bidi
    overrides) written as its Python escape; newlines and tabs are kept."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in _KEPT else ascii(ch)[1:-1] for ch in text)
