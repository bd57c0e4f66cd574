"""Paired comparisons: intervals against hand computation; pairing narrows with positive
correlation and not with negative correlation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulation.experiments.paired import differences, paired_interval, welch_interval


def _long(arms: dict[str, list[float]], outcome: str = "persons_returned") -> pd.DataFrame:
    rows = [
        {"variant": arm, "replication": i, "outcome": outcome, "crossing": "", "stage": "",
         "group": "acc", "mode": "deported", "value": value}
        for arm, values in arms.items()
        for i, value in enumerate(values)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_paired_interval_by_hand() -> None:
    # differences 1, 2, 1, 2: mean 1.5, sd sqrt(1/3), n 4, t(0.975, 3) = 3.182446
    mean, low, high = paired_interval(np.array([10, 12, 14, 16]), np.array([11, 14, 15, 18]))
    half = 3.182446305284263 * math.sqrt(1 / 3) / 2
    assert mean == 1.5
    assert low == pytest.approx(1.5 - half, rel=1e-12)
    assert high == pytest.approx(1.5 + half, rel=1e-12)


def test_welch_interval_by_hand() -> None:
    # variances 20/3 and 25/3, each over n = 4: se^2 = 5/3 + 25/12 = 3.75
    # Welch dof = 3.75^2 / ((5/3)^2 / 3 + (25/12)^2 / 3) = 5.92683
    low, high = welch_interval(np.array([10, 12, 14, 16]), np.array([11, 14, 15, 18]))
    dof = 3.75**2 / ((5 / 3) ** 2 / 3 + (25 / 12) ** 2 / 3)
    half = stats.t.ppf(0.975, dof) * math.sqrt(3.75)
    assert dof == pytest.approx(5.92683, rel=1e-5)
    assert (low, high) == pytest.approx((1.5 - half, 1.5 + half), rel=1e-12)


def test_differences_table_pairs_by_replication() -> None:
    frame = _long({"baseline": [10, 12, 14, 16], "plus30": [11, 14, 15, 18]})
    table = differences(frame.sample(frac=1.0, random_state=1))  # row order must not matter
    row = table.iloc[0]
    assert (row["variant"], row["group"], row["n"]) == ("plus30", "acc", 4)
    assert (row["base_mean"], row["variant_mean"], row["difference"]) == (13.0, 14.5, 1.5)
    assert row["correlation"] == pytest.approx(
        np.corrcoef([10, 12, 14, 16], [11, 14, 15, 18])[0, 1]
    )
    assert row["pairing_narrows"]
    assert row["unit"] == "persons"


def test_pairing_does_not_narrow_under_negative_correlation() -> None:
    frame = _long({"baseline": [10, 12, 14, 16], "v": [18, 15, 14, 11]})
    row = differences(frame).iloc[0]
    assert row["correlation"] < 0
    assert not row["pairing_narrows"]
    assert row["ci_high"] - row["ci_low"] > row["unpaired_ci_high"] - row["unpaired_ci_low"]


def test_a_missing_value_drops_its_pair() -> None:
    frame = _long({"baseline": [10, np.nan, 14, 16], "v": [11, 14, 15, np.nan]})
    row = differences(frame).iloc[0]
    assert row["n"] == 2  # replications 0 and 2
    assert row["difference"] == 1.0
