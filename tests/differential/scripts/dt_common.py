"""Shared helpers for the differential scripts (not a test module).

Each script selects its tuning library with one line,
``kt = importlib.import_module(os.environ["KT_MODULE"])``, runs named sections, and prints a
single JSON document of observable facts after the ``@@FACTS@@`` marker. A section that raises
is recorded as ``{"__raised__": ...}`` so one broken feature cannot hide the other facts.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
import sys
import tempfile
import traceback

MARKER = "@@FACTS@@"

_BUILTIN_EXCEPTIONS = (
    ValueError,
    TypeError,
    KeyError,
    RuntimeError,
    AttributeError,
    NotImplementedError,
)


def exc_fact(exc: BaseException, kt=None) -> dict:
    """What an exception *is* (class-hierarchy membership), not what it says."""
    fact = {cls.__name__: isinstance(exc, cls) for cls in _BUILTIN_EXCEPTIONS}
    if kt is not None:
        errors = getattr(kt, "errors", None)
        for name in ("FatalError", "FailedTrialError"):
            cls = getattr(errors, name, None)
            fact[name] = isinstance(exc, cls) if isinstance(cls, type) else None
    return fact


def raises(fn, kt=None):
    """None when ``fn()`` returns normally, else the exception's class membership."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - any error is a fact here
        return exc_fact(exc, kt)
    return None


def clean(value):
    """JSON-friendly copy: tuples to lists, NaN/inf to strings, unknown objects to their type name."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return float(value)
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return clean(value.item())
    return f"<{type(value).__name__}>"


def type_name(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if value is None:
        return "None"
    return type(value).__name__


class Facts:
    def __init__(self, kt):
        self.kt = kt
        self.data: dict = {}
        self._dirs: list[str] = []

    def tmpdir(self) -> str:
        d = tempfile.mkdtemp(prefix="kt_diff_")
        self._dirs.append(d)
        return d

    def section(self, fn):
        """Decorator: run ``fn()`` now and store its result under the function's name."""
        name = fn.__name__
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                self.data[name] = clean(fn())
        except Exception as exc:  # noqa: BLE001
            self.data[name] = {"__raised__": exc_fact(exc, self.kt), "type": type(exc).__name__}
            traceback.print_exc(file=sys.stderr)
        return fn

    def dump(self) -> None:
        for d in self._dirs:
            shutil.rmtree(d, ignore_errors=True)
        sys.stdout.write("\n" + MARKER + json.dumps(self.data, sort_keys=True) + "\n")
        sys.stdout.flush()


def quiet_call(fn, *args, **kwargs):
    """Call ``fn`` with stdout captured; returns (result, captured_text)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        result = fn(*args, **kwargs)
    return result, buf.getvalue()
