"""Outcomes per replication, and their mean with a 95% confidence interval across replications.

Every function here is a pure ``DataFrame -> DataFrame`` on the tidy result frames.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from simulation.outputs.outcomes import BREAKDOWNS, DAY_UNIT, directions, units
from simulation.theory import t_quantile_975

KEYS = ["outcome", *BREAKDOWNS]


def _long(frame: pd.DataFrame, outcome: str, value: str, **keys: str) -> pd.DataFrame:
    """``frame``'s ``value`` column as the long format's, with its outcome and keys (those
    ``frame`` lacks from ``keys``, else ""): one new frame, not a copy grown column by column."""
    columns: dict[str, object] = {"replication": frame["replication"], "outcome": outcome}
    for key in KEYS[1:]:
        columns[key] = frame[key] if key in frame.columns else keys.get(key, "")
    columns["value"] = frame[value]
    return pd.DataFrame(columns, index=frame.index)


ALL = "all"  # the group or mode of a total


def returned_persons(returns: pd.DataFrame, replications: list[int]) -> pd.DataFrame:
    """Persons returned per replication, group and mode (zero where none returned), with totals
    over groups (``group`` = ``all``), over modes (``mode`` = ``all``) and over both, so that a
    policy moving returns from one group or mode to another shows as such."""
    totals = returns.groupby(["replication", "group", "mode"])["persons"].sum()
    if totals.empty:
        return pd.DataFrame(columns=["replication", *KEYS, "value"])
    index = pd.MultiIndex.from_tuples(totals.index.tolist(), names=totals.index.names)
    full = pd.MultiIndex.from_product(
        [replications, *[list(level) for level in index.levels[1:]]], names=index.names
    )
    filled = totals.reindex(full, fill_value=0).reset_index()
    by_mode = filled.groupby(["replication", "mode"], as_index=False)["persons"].sum()
    by_group = filled.groupby(["replication", "group"], as_index=False)["persons"].sum()
    both = filled.groupby("replication", as_index=False)["persons"].sum()
    parts = [
        filled,
        by_mode.assign(group=ALL),
        by_group.assign(mode=ALL),
        both.assign(group=ALL, mode=ALL),
    ]
    return _long(pd.concat(parts, ignore_index=True), "persons_returned", "persons")


def peak_daily_crossings(returns: pd.DataFrame) -> pd.DataFrame:
    """Highest number of persons completing each crossing in one day."""
    daily = returns.groupby(["replication", "date", "crossing"])["persons"].sum()
    peak = daily.groupby(["replication", "crossing"]).max().reset_index()
    return _long(peak, "peak_daily_crossings", "persons")


def stage_outcomes(daily_stage: pd.DataFrame) -> pd.DataFrame:
    """Peak queue (persons), person-hours spent queueing, and the worst day's 95th-percentile
    wait (0 where nobody started service), per stage."""
    by = daily_stage.groupby(["replication", "crossing", "stage"])
    peak = by["queue_max_persons"].max().reset_index()
    hours = (by["queue_mean_persons"].sum() * 24.0).reset_index()
    worst = by["wait_p95_hours"].max().fillna(0.0).reset_index()
    parts = [
        _long(peak, "peak_queue_persons", "queue_max_persons"),
        _long(hours, "person_hours_queueing", "queue_mean_persons"),
        _long(worst, "worst_day_p95_wait_hours", "wait_p95_hours"),
    ]
    return pd.concat(parts, ignore_index=True)


def arrested_persons(stocks: pd.DataFrame) -> pd.DataFrame:
    """Persons arrested over the calendar per replication, all groups together."""
    total = stocks.groupby("replication")["arrested"].sum().reset_index()
    return _long(total, "persons_arrested", "arrested")


def days_to_leave(stocks: pd.DataFrame, share: float) -> pd.DataFrame:
    """Days after the start by which ``share`` of each group's persons have left Pakistan.

    Counted at the end of each day; NaN where the share is not reached within the calendar.
    """
    state_cols = ["in_pakistan", "detained", "travelling", "at_crossing", "returned"]
    total = stocks[state_cols].sum(axis=1)
    left = 1.0 - stocks["in_pakistan"] / total.where(total > 0)
    day = (stocks["date"] - stocks["date"].min()).dt.days
    first = day.where(left >= share).groupby([stocks["replication"], stocks["group"]]).min()
    value = first.astype(np.int64) if first.notna().all() else first  # whole days if all met
    name = f"days_to_{round(share * 100)}pct_left"
    return _long(value.rename("value").reset_index(), name, "value")


def outcomes(
    daily_stage: pd.DataFrame,
    returns: pd.DataFrame,
    stocks: pd.DataFrame,
    visit_outcomes: pd.DataFrame,
) -> pd.DataFrame:
    """All outcomes per replication, one row each (long format)."""
    replications = sorted(daily_stage["replication"].unique().tolist())
    parts = [
        returned_persons(returns, replications),
        peak_daily_crossings(returns),
        stage_outcomes(daily_stage),
        visit_outcomes[["replication", *KEYS, "value"]],
    ]
    if not stocks.empty:
        parts += [arrested_persons(stocks), days_to_leave(stocks, 0.5), days_to_leave(stocks, 0.9)]
    frame = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    frame["value"] = frame["value"].astype(float)
    return frame


def summarise(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and Student-t 95% CI of each outcome across replications, with
    its unit and direction from the outcomes registry (empty for an unregistered outcome).

    ``n`` counts replications with a value (a date never reached is NaN and not counted).
    Every outcome is a count, a duration or a day number, so the interval is cut at 0 (a mean
    that cannot be negative lies in the cut interval whenever it lies in the whole one).
    """
    grouped = outcomes.groupby(KEYS, sort=False)["value"]
    stats = grouped.agg(["mean", "std", "count"]).reset_index()
    stats = stats.rename(columns={"std": "sd", "count": "n"})
    half = (
        np.array([t_quantile_975(n - 1) if n > 1 else np.nan for n in stats["n"]])
        * stats["sd"]
        / np.sqrt(stats["n"].clip(lower=1))
    )
    stats["ci_low"] = (stats["mean"] - half).clip(lower=0.0)
    stats["ci_high"] = stats["mean"] + half
    stats["unit"] = stats["outcome"].map(units()).fillna("")
    stats["direction"] = stats["outcome"].map(directions()).fillna("")
    return stats[[*KEYS, "mean", "ci_low", "ci_high", "sd", "n", "unit", "direction"]]


def with_dates(summary: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    """Add ``mean_date``: the calendar date of outcomes counted in days after the start."""
    out = summary.copy()
    days = out["mean"].where(out["unit"] == DAY_UNIT)
    out["mean_date"] = pd.Timestamp(start) + pd.to_timedelta(days.round(), unit="D")
    return out
