"""The fit metric: absolute relative difference ARD = |sim - obs| / obs (as in Flee), and the
Student-t 95% interval of a simulated figure across replications."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from simulation.theory import t_quantile_975


def ard(simulated: float, observed: float) -> float:
    """``|simulated - observed| / observed``; NaN when ``observed`` is not > 0."""
    if not observed > 0:
        return math.nan
    return abs(simulated - observed) / observed


def interval(values: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    """Mean and Student-t 95% interval (mean, low, high) of per-replication ``values``; the
    interval is NaN with a single replication."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    half = t_quantile_975(len(x) - 1) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return mean, mean - half, mean + half
