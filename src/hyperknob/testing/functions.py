"""Standard test functions for samplers, written as define-by-run objectives (minimised).

``OPTIMA`` holds each function's global minimum, so a search's simple regret is
``study.best_value - OPTIMA[name]``.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["OPTIMA", "branin", "hartmann6"]

OPTIMA = {"branin": 0.397887357729738, "hartmann6": -3.32237}


def branin(hp: Any) -> float:
    """Branin on x1 in [-5, 10], x2 in [0, 15]; three global minima of 0.397887."""
    x1 = hp.Float("x1", -5.0, 10.0)
    x2 = hp.Float("x2", 0.0, 15.0)
    b, c, r, s, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
_P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]
_ALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6(hp: Any) -> float:
    """Hartmann-6 on [0, 1]^6; global minimum -3.32237."""
    x = [hp.Float(f"x{i}", 0.0, 1.0) for i in range(6)]
    return -sum(
        _ALPHA[i] * math.exp(-sum(_A[i][j] * (x[j] - _P[i][j]) ** 2 for j in range(6))) for i in range(4)
    )
