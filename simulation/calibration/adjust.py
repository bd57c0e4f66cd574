"""Adjustments that make an observed figure comparable, each stated in words.

* The **cumulative offset**: a running count (e.g. the UN series since 15 Sep 2023) that began
  before the scenario's calendar is compared as ``offset + simulated returns since the start``,
  where the offset is the count at the end of the day before the start, interpolated linearly
  (in days) between the rows of the same count on either side of that day.
* A **missing status**: an all-status figure when the scenario has no group for a status (e.g.
  no PoR holders) is compared with the figure less that status's share, when the same series
  gives the share for a period containing the figure's.

Only rows of the one series being scored, and (with ``--until``) ending by that date, are used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

CUMULATIVE = "returns_cumulative"
STATUS_SHARE = "status_share"
ALL_PAKISTAN = "all_Pakistan"


@dataclass(frozen=True)
class Offset:
    """A count's value at the end of ``day``, and how it was found."""

    persons: float
    day: dt.date
    note: str


@dataclass(frozen=True)
class Share:
    """A status's share (0-1) of returns, from one observed row."""

    status: str
    fraction: float
    row: pd.Series

    def words(self) -> str:
        r = self.row
        period = f"{r['date_start']}..{r['date_end']}"
        return f"{self.status} {self.fraction:.0%} of returns in {period} ({r['row_id']})"


def best_value(rows: pd.DataFrame) -> tuple[float, str]:
    """The value of rows for one date: the best source grade, averaged if several share it."""
    best = rows[rows["grade"] == rows["grade"].min()]
    return float(best["value"].mean()), "+".join(best["row_id"])


def cumulative_offset(rows: pd.DataFrame, figure: pd.Series, start: dt.date) -> Offset | str:
    """The count of ``figure`` (same series, crossing, group and count start) at the end of the
    day before ``start``, interpolated between the rows around it; or why it cannot be had."""
    day = start - dt.timedelta(days=1)
    count = rows[
        (rows["metric"] == CUMULATIVE)
        & (rows["crossing"] == figure["crossing"])
        & (rows["population_group"] == figure["population_group"])
        & (rows["date_start"] == figure["date_start"])
    ]
    before, after = count[count["date_end"] <= day], count[count["date_end"] > day]
    if before.empty or after.empty:
        return (f"a count from {figure['date_start']} needs its value at the calendar start: the "
                f"series has no rows of this count on both sides of {day}")  # fmt: skip
    a_day, b_day = before["date_end"].max(), after["date_end"].min()
    a, a_ids = best_value(before[before["date_end"] == a_day])
    b, b_ids = best_value(after[after["date_end"] == b_day])
    persons = a + (b - a) * (day - a_day).days / (b_day - a_day).days
    note = (f"plus offset {persons:,.0f}, the count at the end of {day} interpolated between "
            f"{a:,.0f} on {a_day} ({a_ids}) and {b:,.0f} on {b_day} ({b_ids})")  # fmt: skip
    if str(figure["row_id"]) in b_ids.split("+"):
        note += ", this row itself"
    return Offset(persons, day, note)


def status_share(
    rows: pd.DataFrame, status: str, crossing: str, first: dt.date, last: dt.date
) -> Share | None:
    """The share of ``status`` in returns over a period containing ``first..last`` (for
    ``crossing``, else all Pakistan): same crossing first, then best grade, narrowest period."""
    found = rows[
        (rows["metric"] == STATUS_SHARE)
        & (rows["population_group"] == status)
        & rows["crossing"].isin([crossing, ALL_PAKISTAN])
        & (rows["date_start"] <= first)
        & (rows["date_end"] >= last)
    ]
    if found.empty:
        return None
    found = found.assign(
        other=found["crossing"] != crossing,
        days=[(e - s).days for s, e in zip(found["date_start"], found["date_end"], strict=True)],
    )
    row = found.sort_values(["other", "grade", "days"]).iloc[0]
    return Share(status, float(row["value"]) / 100.0, row)


def nearest_share(rows: pd.DataFrame, status: str, first: dt.date, last: dt.date) -> str:
    """Words naming the share of ``status`` given nearest in time to ``first..last`` (if any)."""
    found = rows[(rows["metric"] == STATUS_SHARE) & (rows["population_group"] == status)]
    if found.empty:
        return f"the series gives no {status} share at all"
    gaps = [
        max((s - last).days, (first - e).days, 0)
        for s, e in zip(found["date_start"], found["date_end"], strict=True)
    ]
    row = found.iloc[min(range(len(gaps)), key=gaps.__getitem__)]
    return (f"nearest given: {row['value']:g}% in {row['date_start']}..{row['date_end']} "
            f"({row['row_id']})")  # fmt: skip
