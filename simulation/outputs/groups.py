"""Grouped statistics on numpy arrays without a Python loop per group: rows sorted into runs
of equal keys, then per-run counts, sums and quantiles (numpy's own arithmetic, so the values
equal those of ``np.quantile`` applied group by group)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def text_ranks(names: Sequence[str]) -> np.ndarray:
    """Each name's rank in sorted (code point) order: what a groupby sorting by the names
    as text orders by, for codes that index ``names``."""
    ranks = np.empty(len(names), dtype=np.int64)
    ranks[np.argsort(np.array(names, dtype=str), kind="stable")] = np.arange(len(names))
    return ranks


def runs(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The start and length of each run of equal values in a sorted ``key``."""
    if len(key) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return first, np.diff(np.r_[first, len(key)])


def run_quantile(ordered: np.ndarray, first: np.ndarray, count: np.ndarray, q: float) -> np.ndarray:
    """``np.quantile(run, q)`` (linear interpolation) of each run of ``ordered``, whose values
    are sorted within each run (runs start at ``first``, ``count`` long, none empty). The
    index, weight and interpolation are numpy's, step for step, so the floats are equal."""
    virtual = (count - 1) * q
    below = np.floor(virtual)
    last = virtual >= count - 1  # numpy takes the last value for both neighbours
    lo = first + np.where(last, count - 1, below).astype(np.int64)
    hi = first + np.where(last, count - 1, below + 1).astype(np.int64)
    a, b, weight = ordered[lo], ordered[hi], virtual - below
    step = b - a
    return np.where(weight >= 0.5, b - step * (1 - weight), a + step * weight)
