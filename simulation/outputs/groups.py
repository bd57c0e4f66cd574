"""Grouped statistics on numpy arrays without a Python loop per group: rows sorted into runs
of equal keys, then per-run counts, sums and quantiles (numpy's own arithmetic, so the values
equal those of ``np.quantile`` applied group by group)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
    return _numpy_quantile(lambda i: ordered[first + i], count, q)


def _numpy_quantile(
    kth: Callable[[np.ndarray], np.ndarray], count: np.ndarray, q: float
) -> np.ndarray:
    """numpy's linear quantile of runs ``count`` long whose ``i``-th smallest is ``kth(i)``."""
    virtual = (count - 1) * q
    below = np.floor(virtual)
    last = virtual >= count - 1  # numpy takes the last value for both neighbours
    lo = np.where(last, count - 1, below).astype(np.int64)
    hi = np.where(last, count - 1, below + 1).astype(np.int64)
    a, b, weight = kth(lo), kth(hi), virtual - below
    step = b - a
    return np.where(weight >= 0.5, b - step * (1 - weight), a + step * weight)


def _pandas_quantile(
    kth: Callable[[np.ndarray], np.ndarray], count: np.ndarray, q: float
) -> np.ndarray:
    """pandas' groupby ``quantile`` (linear: ``v[i] + (v[i+1] - v[i]) * frac``) of runs
    ``count`` long whose ``i``-th smallest is ``kth(i)``, float for float."""
    position = q * (count - 1).astype(float)
    below = position.astype(np.int64)
    frac = position % 1
    low, high = kth(below), kth(np.minimum(below + 1, count - 1))
    return np.where(frac == 0.0, low, low + (high - low) * frac)


class Waits:
    """Values (waits) with the indices of the non-zero ones in ascending order of value: the
    one sort that every grouping of the same values (by day, by class) shares. Waits are
    mostly exactly 0 (nobody queued): only the others are sorted."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values
        nonzero = np.flatnonzero(values != 0.0)
        self.nonzero = nonzero[np.argsort(values[nonzero])]

    def quantile(self, q: float) -> float:
        """``np.quantile(values, q)`` (0.0 when there are none), read from the sorted
        non-zero values and the count of zeros: :meth:`KeyedValues.quantile` of one key,
        without grouping anything."""
        count = len(self.values)
        if len(self.nonzero) == 0:  # none, or only zeros
            return 0.0
        negatives = int(np.count_nonzero(self.values < 0.0))
        zeros = count - len(self.nonzero)

        def kth(i: np.ndarray) -> np.ndarray:
            inner = np.clip(np.where(i < negatives, i, i - zeros), 0, len(self.nonzero) - 1)
            value = self.values[self.nonzero[inner]]
            return np.where((i >= negatives) & (i < negatives + zeros), 0.0, value)

        return float(_numpy_quantile(kth, np.array([count]), q)[0])


class KeyedValues:
    """Values grouped by an integer key in ``range(keys)``, ready for order statistics.

    The non-zero values, in value order (:class:`Waits`), are sorted by key with a stable
    radix sort of small integers; a key's ``i``-th smallest value is read from its negatives,
    its zeros (counted) or its positives. The same multiset as a full sort of each key's
    values, so the same quantiles, 3-10x faster (a quicksort of many ties is slow too)."""

    def __init__(self, key: np.ndarray, values: Waits | np.ndarray, keys: int) -> None:
        waits = values if isinstance(values, Waits) else Waits(values)
        k = key[waits.nonzero]
        small = np.int16 if keys <= np.iinfo(np.int16).max else np.int64
        by_key = waits.nonzero[np.argsort(k.astype(small), kind="stable")]
        v = waits.values[by_key]
        self.count = np.bincount(key, minlength=keys)
        self.zeros = self.count - np.bincount(k, minlength=keys)
        self.negatives = np.bincount(key[by_key][v < 0], minlength=keys)
        self.sorted = np.r_[v, 0.0]  # a spare: indexing never fails
        self.first = np.r_[0, np.cumsum(self.count - self.zeros)[:-1]]

    def kth(self, i: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """The ``i``-th smallest value of each key in ``keys``."""
        neg, zeros = self.negatives[keys], self.zeros[keys]
        inner = self.first[keys] + np.where(i < neg, i, i - zeros)
        value = self.sorted[np.clip(inner, 0, len(self.sorted) - 1)]
        return np.where((i >= neg) & (i < neg + zeros), 0.0, value)

    def quantile(self, q: float, how: str = "numpy") -> tuple[np.ndarray, np.ndarray]:
        """The keys holding values and the ``q`` quantile of each, as ``np.quantile`` or, with
        ``how="pandas"``, as a pandas groupby computes it."""
        present = np.flatnonzero(self.count)
        quantile = _pandas_quantile if how == "pandas" else _numpy_quantile
        return present, quantile(lambda i: self.kth(i, present), self.count[present], q)
