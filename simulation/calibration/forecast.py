"""Monthly forecast tables: pure functions from one run's returns (and arrests) to a small long
table, and from many runs' tables to the forecast with its intervals.

One run's table has a row per (month, quantity, group, mode):

* ``returns``: persons completing a crossing in the month, by group (population groups and
  direct-demand labels) and mode (voluntary, deported, direct), with totals as ``all``;
* ``arrests``: persons taken from home into holding in the month, by population group (mode
  ``all``);
* ``deported_share``: deported returns as a percentage of all returns of the group in the month
  (NaN when nobody of the group returned that month);
* ``un_cumulative``: the UN running count at the month's last day counted: the offset (the
  count at the end of the day before the calendar start, :func:`un_offset`) plus every return
  since the calendar start (all groups, modes and crossings).

A month is a calendar month clipped to the forecast window: ``last_day`` is its last day counted
and ``days`` how many days count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.calibration.adjust import CUMULATIVE, Offset, cumulative_offset
from simulation.calibration.observed import one_series

ALL = "all"
MODES = ("voluntary", "deported", "direct")
KEYS = ["month", "quantity", "group", "mode"]
RUN_COLUMNS = ["month", "last_day", "days", "quantity", "group", "mode", "value"]
UNITS = {"returns": "persons", "arrests": "persons", "deported_share": "%",
         "un_cumulative": "persons"}  # fmt: skip
LOW, HIGH = 2.5, 97.5  # percentiles of the interval over all runs


@dataclass(frozen=True)
class Window:
    """The days tabulated: ``first`` to ``last`` inclusive."""

    first: dt.date
    last: dt.date

    def months(self) -> list[tuple[str, dt.date, dt.date]]:
        """Each calendar month touching the window: its label ``YYYY-MM`` and its first and
        last day within the window."""
        out, day = [], self.first
        while day <= self.last:
            following = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            end = min(following - dt.timedelta(days=1), self.last)
            out.append((f"{day:%Y-%m}", day, end))
            day = following
        return out


def _month_of(dates: pd.Series, window: Window) -> pd.Series:
    """The ``YYYY-MM`` label of each date within the window, else None."""
    day = pd.to_datetime(dates).dt.date
    inside = (day >= window.first) & (day <= window.last)
    return pd.to_datetime(dates).dt.strftime("%Y-%m").where(inside, None)


def _grid(
    window: Window, quantity: str, groups: Sequence[str], modes: Sequence[str]
) -> pd.DataFrame:
    """Every (month, group, mode) of ``quantity`` with its days, value 0."""
    rows = [
        (label, last, (last - first).days + 1, quantity, g, m, 0.0)
        for label, first, last in window.months()
        for g in groups
        for m in modes
    ]
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def _fill(grid: pd.DataFrame, sums: pd.Series) -> pd.DataFrame:
    """The grid with ``sums`` (indexed by month, group, mode) written into its values."""
    index = pd.MultiIndex.from_frame(grid[["month", "group", "mode"]])
    grid["value"] = sums.reindex(index, fill_value=0.0).to_numpy(dtype=float)
    return grid


def monthly_returns(returns: pd.DataFrame, window: Window, groups: Sequence[str]) -> pd.DataFrame:
    """Persons returned per month of ``window`` by group and mode, totals over groups and over
    modes as ``all`` (one run's ``returns`` frame: date, group, mode, persons)."""
    month = _month_of(returns["date"], window)
    kept = returns.assign(month=month)[month.notna()]
    by = kept.groupby(["month", "group", "mode"])["persons"].sum()
    by_group = kept.groupby(["month", "group"])["persons"].sum()
    by_mode = kept.groupby(["month", "mode"])["persons"].sum()
    total = kept.groupby("month")["persons"].sum()
    sums = pd.concat([
        by,
        _keyed(by_group, mode=ALL),
        _keyed(by_mode, group=ALL),
        _keyed(total, group=ALL, mode=ALL),
    ])  # fmt: skip
    return _fill(_grid(window, "returns", [*groups, ALL], [*MODES, ALL]), sums.astype(float))


def _keyed(sums: pd.Series, **fixed: str) -> pd.Series:
    """``sums`` re-indexed by (month, group, mode), the missing levels set to ``fixed``."""
    frame = sums.reset_index()
    for key, value in fixed.items():
        frame[key] = value
    return frame.set_index(["month", "group", "mode"])["persons"]


def monthly_arrests(arrests: pd.DataFrame, window: Window, groups: Sequence[str]) -> pd.DataFrame:
    """Persons arrested per month of ``window`` by group, and ``all`` (``arrests``: date,
    group, persons, one row per arrest or per day)."""
    month = _month_of(arrests["date"], window)
    kept = arrests.assign(month=month)[month.notna()]
    by_group = kept.groupby(["month", "group"])["persons"].sum()
    total = kept.groupby("month")["persons"].sum()
    sums = pd.concat([_keyed(by_group, mode=ALL), _keyed(total, group=ALL, mode=ALL)])
    return _fill(_grid(window, "arrests", [*groups, ALL], [ALL]), sums.astype(float))


def deported_share(monthly: pd.DataFrame) -> pd.DataFrame:
    """100 x deported / all returns per month and group (NaN where the group had no returns),
    from :func:`monthly_returns`' table."""
    rows = monthly[monthly["quantity"] == "returns"].set_index(["month", "group", "mode"])
    deported = rows.xs("deported", level="mode")
    whole = rows.xs(ALL, level="mode")
    share = 100.0 * deported["value"] / whole["value"].where(whole["value"] > 0)
    out = whole.reset_index()[["month", "last_day", "days", "group"]]
    out.insert(1, "quantity", "deported_share")
    out["mode"] = "deported"
    out["value"] = share.reindex(pd.MultiIndex.from_frame(out[["month", "group"]])).to_numpy()
    return out[RUN_COLUMNS]


def un_cumulative(
    returns: pd.DataFrame, start: dt.date, window: Window, offset_persons: float
) -> pd.DataFrame:
    """The running count at the last counted day of each month: ``offset_persons`` plus every
    person returned from ``start`` (the calendar start) to that day."""
    day = pd.to_datetime(returns["date"]).dt.date
    rows = []
    for label, first, last in window.months():
        since = float(returns["persons"][(day >= start) & (day <= last)].sum())
        rows.append((label, last, (last - first).days + 1, "un_cumulative", ALL, ALL,
                     offset_persons + since))  # fmt: skip
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def run_table(
    returns: pd.DataFrame,
    arrests: pd.DataFrame | None,
    start: dt.date,
    window: Window,
    groups: Sequence[str],
    offset_persons: float | None,
) -> pd.DataFrame:
    """One run's forecast table (see the module): returns, deported share, arrests (when
    ``arrests`` is given) and the UN cumulative (when an offset is known)."""
    monthly = monthly_returns(returns, window, groups)
    parts = [monthly, deported_share(monthly)]
    if arrests is not None:
        populations = [g for g in groups if g in set(arrests["group"])] or list(groups)
        parts.append(monthly_arrests(arrests, window, populations))
    if offset_persons is not None:
        parts.append(un_cumulative(returns, start, window, offset_persons))
    return pd.concat(parts, ignore_index=True)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (month, quantity, group, mode) over every run (``runs``: one run's tables stacked,
    with ``point`` and ``replication``): mean, median, the 2.5% and 97.5% percentiles (parameter
    and replication uncertainty together: every run weighs the same), ``n`` runs with a value,
    and :func:`parameter_share` of the variance. Impossible cells (a population group's
    ``direct`` returns, a label's ``voluntary`` ones: zero in every run) are dropped."""
    grouped = runs.groupby([*KEYS, "last_day", "days"], sort=False)["value"]
    table = grouped.agg(
        mean="mean",
        median="median",
        p2_5=lambda v: _percentile(v, LOW),
        p97_5=lambda v: _percentile(v, HIGH),
        n="count",
    ).reset_index()
    split = runs.groupby(KEYS, sort=False)[["point", "value"]].apply(_split_variance)
    table = table.merge(split.reset_index(), on=KEYS, how="left")
    table.insert(6, "unit", table["quantity"].map(UNITS))
    return table[~_impossible(table)].reset_index(drop=True)


def _percentile(values: pd.Series, q: float) -> float:
    kept = values.dropna().to_numpy(dtype=float)
    return float(np.percentile(kept, q)) if len(kept) else np.nan


def _impossible(table: pd.DataFrame) -> pd.Series:
    """Rows of a (group, mode) cell no run ever had: not totals, and zero or NaN in all."""
    detail = (table["group"] != ALL) & (table["mode"] != ALL)
    never = table.groupby(["quantity", "group", "mode"])["p97_5"].transform(
        lambda v: bool((v.fillna(0.0) == 0.0).all())
    )
    return detail & never.astype(bool)


def _split_variance(cell: pd.DataFrame) -> pd.Series:
    """:func:`parameter_share` and the replication-only sd of one cell's runs."""
    share, sd = parameter_share(cell["point"].to_numpy(), cell["value"].to_numpy(dtype=float))
    return pd.Series({"parameter_share": share, "replication_sd": sd})


def parameter_share(point: np.ndarray, value: np.ndarray) -> tuple[float, float]:
    """The share of the variance across runs due to the parameters, and the replication sd.

    One-way analysis of variance over design points, each run equally weighted: with ``r``
    replications per point, the variance of the point means is ``var_p + var_r / r``, so
    ``var_p = max(var(point means) - mean(within-point variance) / r, 0)`` and the share is
    ``var_p / (var_p + var_r)``. NaN with fewer than 2 points or 2 replications per point."""
    keep = ~np.isnan(value)
    frame = pd.DataFrame({"point": point[keep], "value": value[keep]}).groupby("point")["value"]
    counts = frame.count()
    if len(counts) < 2 or counts.min() < 2:
        return np.nan, np.nan
    within = float(frame.var(ddof=1).mean())
    between = float(frame.mean().var(ddof=1))
    r = len(counts) / float((1.0 / counts).sum())  # harmonic mean of replications per point
    parameters = max(between - within / r, 0.0)
    total = parameters + within
    return (parameters / total if total > 0 else np.nan), float(np.sqrt(within))


@dataclass(frozen=True)
class UnCount:
    """The UN running count a forecast continues: its ``offset`` at the calendar start, the
    date it counts from (``since``), and words naming it and its rows (or why there is none)."""

    offset: Offset | None
    since: dt.date | None
    words: str

    @property
    def persons(self) -> float | None:
        return None if self.offset is None else self.offset.persons


def _un_rows(observed: pd.DataFrame) -> pd.DataFrame:
    """The UN all-Pakistan, all-status running-count rows."""
    rows = one_series(observed, "UN")
    return rows[(rows["metric"] == CUMULATIVE) & (rows["crossing"] == "all_Pakistan")
                & (rows["population_group"] == ALL)]  # fmt: skip


def un_offset(observed: pd.DataFrame, start: dt.date) -> UnCount:
    """The UN all-Pakistan, all-status running count at the end of the day before ``start``
    (:func:`~simulation.calibration.adjust.cumulative_offset`, interpolated between its rows
    around that day); without an offset when no UN count has rows on both sides. Of several
    counts (different start dates), the one with most rows that gives an offset."""
    rows, counts = one_series(observed, "UN"), _un_rows(observed)
    why = "series UN has no all_Pakistan/all returns_cumulative rows"
    sizes = counts.groupby("date_start").size().reset_index(name="rows")
    for since in sizes.sort_values(["rows", "date_start"], ascending=[False, True])["date_start"]:
        figure = pd.Series({"crossing": "all_Pakistan", "population_group": ALL,
                            "date_start": since, "row_id": ""})  # fmt: skip
        found = cumulative_offset(rows, figure, start)
        if isinstance(found, Offset):
            return UnCount(found, since, f"UN all_Pakistan returns counted from {since}: "
                                         f"{found.note}")  # fmt: skip
        why = found
    return UnCount(None, None, f"no UN cumulative: {why}")


def un_points(observed: pd.DataFrame, count: UnCount, window: Window) -> pd.DataFrame:
    """The observed figures of ``count`` ending within ``window``: date, value, row_id."""
    rows = _un_rows(observed)
    rows = rows[(rows["date_start"] == count.since) & (rows["date_end"] >= window.first)
                & (rows["date_end"] <= window.last)]  # fmt: skip
    return pd.DataFrame({"date": rows["date_end"], "value": rows["value"],
                         "row_id": rows["row_id"]}).reset_index(drop=True)  # fmt: skip
