"""Differences between two arms of an experiment, paired by replication (common random numbers).

Both arms run on the same replication seeds, so replication ``i`` of the variant and of the
baseline share their luck wherever the policy does not change it. The paired interval is the
Student-t interval of the per-replication differences; the unpaired (Welch) interval treats the
arms as independent samples. Pairing narrows the interval when the arms are positively
correlated across replications, and widens it when they are negatively correlated (as when a
policy moves deportations from one group to another that shares the arrest capacity): the
``pairing_narrows`` column says which.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.outputs.outcomes import units
from simulation.outputs.summary import KEYS
from simulation.theory import t_quantile_975

DIFFERENCE_COLUMNS = [
    "variant", *KEYS, "base_mean", "variant_mean", "difference", "ci_low", "ci_high",
    "unpaired_ci_low", "unpaired_ci_high", "correlation", "pairing_narrows", "n", "unit",
]  # fmt: skip


def paired_interval(base: np.ndarray, variant: np.ndarray) -> tuple[float, float, float]:
    """Mean difference (variant - base) and its paired Student-t 95% interval."""
    d = np.asarray(variant, dtype=float) - np.asarray(base, dtype=float)
    n = len(d)
    mean = float(d.mean()) if n else math.nan
    if n < 2:
        return mean, math.nan, math.nan
    half = t_quantile_975(n - 1) * float(d.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def welch_interval(base: np.ndarray, variant: np.ndarray) -> tuple[float, float]:
    """95% interval of the difference of means treating the arms as independent (Welch)."""
    b, v = np.asarray(base, dtype=float), np.asarray(variant, dtype=float)
    if len(b) < 2 or len(v) < 2:
        return math.nan, math.nan
    vb, vv = b.var(ddof=1) / len(b), v.var(ddof=1) / len(v)
    mean = float(v.mean() - b.mean())
    if vb + vv == 0:
        return mean, mean
    dof = (vb + vv) ** 2 / (vb**2 / (len(b) - 1) + vv**2 / (len(v) - 1))
    half = _t975(dof) * math.sqrt(vb + vv)
    return mean - half, mean + half


def _t975(dof: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, dof))


def correlation(base: np.ndarray, variant: np.ndarray) -> float:
    """Pearson correlation of the arms across replications (NaN if either is constant)."""
    b, v = np.asarray(base, dtype=float), np.asarray(variant, dtype=float)
    if len(b) < 2 or b.std() == 0 or v.std() == 0:
        return math.nan
    return float(np.corrcoef(b, v)[0, 1])


def differences(outcomes: pd.DataFrame, baseline: str = "baseline") -> pd.DataFrame:
    """One row per variant and outcome: means, difference, paired and unpaired intervals.

    ``outcomes`` is the long per-replication frame with a ``variant`` column. Replications are
    paired by their ``replication`` number; a pair where either arm has no value (a date never
    reached) is left out, and ``n`` counts the pairs used.
    """
    wide = outcomes.set_index([*KEYS, "replication", "variant"])["value"].unstack("variant")
    variants = [v for v in dict.fromkeys(outcomes["variant"]) if v != baseline]
    unit = units()
    rows = []
    for keys, block in wide.groupby(level=list(range(len(KEYS))), sort=False):
        for name in variants:
            both = block[[baseline, name]].dropna()
            b, v = both[baseline].to_numpy(), both[name].to_numpy()
            diff, low, high = paired_interval(b, v)
            u_low, u_high = welch_interval(b, v)
            rows.append(
                {
                    "variant": name,
                    **dict(zip(KEYS, keys, strict=True)),
                    "base_mean": float(b.mean()) if len(b) else math.nan,
                    "variant_mean": float(v.mean()) if len(v) else math.nan,
                    "difference": diff,
                    "ci_low": low,
                    "ci_high": high,
                    "unpaired_ci_low": u_low,
                    "unpaired_ci_high": u_high,
                    "correlation": correlation(b, v),
                    "pairing_narrows": bool(high - low < u_high - u_low),
                    "n": len(b),
                    "unit": unit.get(str(keys[0]), ""),
                }
            )
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)
