"""Step functions and summaries on small hand-made inputs with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulation.outputs.frames import daily_mean_max, level_at, step_function
from simulation.outputs.summary import (
    days_to_leave,
    peak_daily_crossings,
    returned_persons,
    summarise,
)


def test_step_function_orders_departures_before_arrivals_at_ties():
    _, level = step_function(np.array([1.0, 1.0, 2.0]), np.array([1.0, -1.0, 1.0]), 10.0)
    assert list(level) == [-1.0, 0.0, 1.0]


def test_daily_mean_and_max_of_a_known_queue():
    # 2 waiting from 6 h to 18 h on day 0; 1 waiting from 30 h to 54 h (end of day 2 at 72 h)
    times = np.array([6.0, 18.0, 30.0, 54.0])
    deltas = np.array([2.0, -2.0, 1.0, -1.0])
    mean, peak = daily_mean_max(*step_function(times, deltas, 72.0), days=3)
    assert mean == pytest.approx([2 * 12 / 24, 18 / 24, 6 / 24])
    assert list(peak) == [2.0, 1.0, 1.0]


def test_level_carries_across_midnight():
    t, lv = step_function(np.array([20.0, 50.0]), np.array([3.0, -3.0]), 100.0)
    assert list(level_at(t, lv, np.array([0.0, 20.0, 24.0, 49.0, 50.0]))) == [0, 3, 3, 3, 0]


def _one_outcome(values: list[float], outcome: str = "x", group: str = "") -> pd.DataFrame:
    """Long-format outcomes of one outcome over replications 0, 1, ..."""
    return pd.DataFrame(
        {
            "replication": range(len(values)),
            "outcome": outcome,
            "crossing": "",
            "stage": "",
            "group": group,
            "mode": "",
            "value": values,
        }
    )


def test_summary_mean_and_t_interval():
    values = [10.0, 12.0, 14.0, 16.0]
    row = summarise(_one_outcome(values)).iloc[0]
    half = stats.t.ppf(0.975, 3) * np.std(values, ddof=1) / 2
    assert row["mean"] == 13.0 and row["n"] == 4
    assert row["ci_low"] == pytest.approx(13 - half) and row["ci_high"] == pytest.approx(13 + half)


def test_summary_ignores_never_reached_dates_in_n():
    frame = _one_outcome([40.0, np.nan, 44.0], "days_to_90pct_left", group="acc")
    row = summarise(frame).iloc[0]
    assert row["n"] == 2 and row["mean"] == 42.0


def test_returned_persons_fills_missing_modes_with_zero():
    returns = pd.DataFrame(
        {
            "replication": [0, 0, 1],
            "date": pd.to_datetime(["2025-01-01"] * 3),
            "crossing": "gate",
            "group": "acc",
            "mode": ["voluntary", "deported", "voluntary"],
            "households": 1,
            "persons": [5, 7, 6],
        }
    )
    out = returned_persons(returns, [0, 1]).set_index(["replication", "group", "mode"])["value"]
    assert out[(1, "acc", "deported")] == 0 and out[(0, "acc", "deported")] == 7


def test_returned_persons_has_totals_over_groups_and_modes():
    returns = pd.DataFrame(
        {
            "replication": 0,
            "date": pd.to_datetime(["2025-01-01"] * 3),
            "crossing": "gate",
            "group": ["acc", "undocumented", "acc"],
            "mode": ["deported", "deported", "voluntary"],
            "households": 1,
            "persons": [5, 7, 6],
        }
    )
    out = returned_persons(returns, [0]).set_index(["group", "mode"])["value"]
    assert out[("all", "deported")] == 12  # 5 + 7: a shift between groups shows in the total
    assert out[("acc", "all")] == 11  # 5 + 6
    assert out[("all", "all")] == 18
    assert out[("undocumented", "voluntary")] == 0


def test_peak_daily_crossings_sums_groups_before_the_max():
    returns = pd.DataFrame(
        {
            "replication": 0,
            "date": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-02"]),
            "crossing": "gate",
            "group": ["a", "b", "a"],
            "mode": "voluntary",
            "households": 1,
            "persons": [5, 7, 9],
        }
    )
    assert peak_daily_crossings(returns)["value"].tolist() == [12]


def test_days_to_leave_finds_the_first_day_at_or_past_the_share():
    stocks = pd.DataFrame(
        {
            "replication": 0,
            "date": pd.date_range("2025-01-01", periods=4),
            "group": "acc",
            "in_pakistan": [90, 60, 50, 5],
            "detained": 0,
            "travelling": 0,
            "at_crossing": 0,
            "returned": [10, 40, 50, 95],
        }
    )
    assert days_to_leave(stocks, 0.5)["value"].tolist() == [2]
    assert days_to_leave(stocks, 0.9)["value"].tolist() == [3]
    assert np.isnan(days_to_leave(stocks.iloc[:2], 0.9)["value"].iloc[0])


def test_with_dates_converts_only_day_outcomes():
    import datetime as dt

    from simulation.outputs.summary import with_dates

    summary = pd.DataFrame(
        {
            "outcome": ["days_to_50pct_left", "persons_returned"],
            "mean": [40.4, 1000.0],
            "unit": ["days after start", "persons"],
        }
    )
    out = with_dates(summary, dt.date(2025, 2, 1))
    assert out["mean_date"].iloc[0] == pd.Timestamp("2025-03-13")
    assert pd.isna(out["mean_date"].iloc[1])


def test_summary_interval_is_cut_at_zero_for_small_counts():
    values = [0.0, 0.0, 0.0, 12.0]  # persons queued overnight in four replications
    row = summarise(_one_outcome(values, "persons_queued_overnight")).iloc[0]
    half = stats.t.ppf(0.975, 3) * np.std(values, ddof=1) / 2
    assert 3.0 - half < 0  # the plain t-interval would reach below zero
    assert row["ci_low"] == 0.0 and row["ci_high"] == pytest.approx(3.0 + half)


def test_summary_takes_unit_and_direction_from_the_registry():
    frame = pd.concat(
        [_one_outcome([1.0, 2.0], "p95_wait_hours"), _one_outcome([3.0, 4.0], "persons_returned")]
    )
    frame = pd.concat([frame, _one_outcome([5.0, 6.0], "not_registered")])
    out = summarise(frame).set_index("outcome")[["unit", "direction"]]
    assert out.loc["p95_wait_hours"].tolist() == ["hours", "minimise"]
    assert out.loc["persons_returned"].tolist() == ["persons", "info"]
    assert out.loc["not_registered"].tolist() == ["", ""]
