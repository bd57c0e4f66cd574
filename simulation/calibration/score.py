"""The fit report: every comparable observed figure of one series against the simulated mean and
its 95% interval across replications, the absolute relative difference (ARD) of each, their mean
and the worst; and every row of the series in the calendar that could not be compared, and why.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulation.calibration.adjust import CUMULATIVE, nearest_share, status_share
from simulation.calibration.error import ard, interval
from simulation.calibration.match import (
    STATUSES,
    Calendar,
    Target,
    status_group,
    target_of,
    touches,
    window_reason,
)
from simulation.calibration.observed import DEFAULT_SERIES, one_series
from simulation.calibration.simulated import DailyReturns, Selection, arrest_rows
from simulation.results import Results
from simulation.scenario.schema import Scenario

COUNTS = ("returns_total", CUMULATIVE, "returns_daily", "returns_daily_peak")
COLUMNS = [
    "row_id", "metric", "crossing", "group", "date_start", "date_end", "unit", "observed",
    "simulated_mean", "ci_low", "ci_high", "ard", "series", "source_type", "source_title",
    "observed_as_stated", "adjustment", "comparable", "reason",
]  # fmt: skip


@dataclass
class Score:
    """A scored run: ``table`` (one row per observed figure of ``series`` concerning the
    calendar, compared or not), the daily simulated returns and cumulative curves for plots."""

    table: pd.DataFrame
    series: str
    daily: pd.DataFrame
    curves: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def compared(self) -> pd.DataFrame:
        return self.table[self.table["comparable"]]

    @property
    def skipped(self) -> pd.DataFrame:
        return self.table[~self.table["comparable"]]

    @property
    def mean_ard(self) -> float:
        """Mean ARD over the compared figures, each counting once (NaN: none)."""
        return float(self.compared["ard"].mean()) if len(self.compared) else math.nan

    @property
    def worst(self) -> pd.Series | None:
        """The compared figure with the largest ARD."""
        if self.compared.empty:
            return None
        return self.compared.iloc[int(np.argmax(self.compared["ard"].to_numpy()))]


def score(
    scenario: Scenario,
    results: Results,
    observed: pd.DataFrame,
    series: str = DEFAULT_SERIES,
    until: dt.date | None = None,
    strict: bool = False,
) -> Score:
    """Score ``results`` (replications of ``scenario``) against the rows of one counting
    ``series`` of ``observed`` (:func:`~simulation.calibration.observed.read_observed`).

    ``until`` scores only figures ending on or before it (and adjusts with rows ending by it).
    An all-status figure the scenario lacks a status for (e.g. no PoR group) is reduced by that
    status's share where the series gives it for the period; otherwise it is compared as it is
    and flagged in ``adjustment``, or, with ``strict``, not compared.
    """
    rows = one_series(observed, series)
    cal = Calendar(scenario.calendar.start, scenario.calendar.end, tuple(scenario.crossings),
                   tuple(scenario.group_names), until)  # fmt: skip
    usable = rows if until is None else rows[rows["date_end"] <= until]
    daily = DailyReturns(results.returns, cal.start, scenario.days, _replications(results))
    arrests = arrest_rows(results.stocks)
    sources = {"returns": daily}
    if arrests is not None:
        sources["arrests"] = DailyReturns(arrests, cal.start, scenario.days, daily.replications)
    inside = rows[[touches(r, cal) for _, r in rows.iterrows()]]
    table = pd.DataFrame(
        [_figure(r, cal, usable, sources, strict) for _, r in inside.iterrows()], columns=COLUMNS
    )
    counts = {"series_rows": len(rows), "outside_calendar": len(rows) - len(inside),
              "other_series_rows": len(observed) - len(rows)}  # fmt: skip
    return Score(table, series, _daily_band(daily, cal.start), _curves(table, cal, usable, daily),
                 counts)  # fmt: skip


def _replications(results: Results) -> int:
    n = results.manifest.get("replications")
    if isinstance(n, int) and n > 0:
        return n
    return int(results.returns["replication"].max()) + 1 if len(results.returns) else 1


def _figure(
    row: pd.Series,
    cal: Calendar,
    usable: pd.DataFrame,
    sources: dict[str, DailyReturns],
    strict: bool,
) -> dict[str, object]:
    """One observed row scored (or the reason it is not); ``sources``: the daily returns and
    (when the results count them) arrests."""
    out = {
        "row_id": row["row_id"], "metric": row["metric"], "crossing": row["crossing"],
        "group": row["population_group"], "date_start": row["date_start"],
        "date_end": row["date_end"], "unit": row["unit"], "observed": row["value"],
        "simulated_mean": math.nan, "ci_low": math.nan, "ci_high": math.nan, "ard": math.nan,
        "series": row["series"], "source_type": row["source_type"],
        "source_title": row["source_title"], "observed_as_stated": row["value"],
        "adjustment": "", "comparable": False, "reason": "",
    }  # fmt: skip
    reason = window_reason(row, cal)
    target = reason or target_of(row, cal, usable)
    if isinstance(target, str):
        return out | {"reason": target}
    adjusted = _adjust(row, target, cal, usable, strict)
    if isinstance(adjusted, str):
        return out | {"reason": adjusted}
    observed, notes = adjusted
    if target.quantity not in sources:
        return out | {"reason": "these results do not count arrests (written by an older "
                                "version: run the scenario again)"}  # fmt: skip
    values = target.simulate(sources[target.quantity])
    if np.isnan(values).any():
        return out | {"reason": "undefined in the model: nobody returned in the window"}
    mean, low, high = interval(values)
    if not observed > 0:
        return out | {"reason": "the observed value is 0, so no relative difference"}
    return out | {
        "observed": observed, "simulated_mean": mean, "ci_low": low, "ci_high": high,
        "ard": ard(mean, observed), "adjustment": "; ".join(notes), "comparable": True,
    }  # fmt: skip


def _adjust(
    row: pd.Series, target: Target, cal: Calendar, usable: pd.DataFrame, strict: bool
) -> tuple[float, list[str]] | str:
    """The observed value made comparable and the words saying how, or why it cannot be."""
    value, notes = float(row["value"]), []
    if target.offset is not None:
        notes.append(f"simulated = returns since {cal.start} {target.offset.note}")
    whole_status = row["population_group"] in ("all", "deportees", "voluntary")
    if row["metric"] == "status_share":
        whole_status = True  # its denominator counts every status
    missing = [s for s in STATUSES if whole_status and status_group(s, cal) is None]
    if not missing:
        return value, notes
    shares = [status_share(usable, s, str(row["crossing"]), target.first, target.last)
              for s in missing]  # fmt: skip
    adjustable = row["metric"] == "status_share" or (
        row["metric"] in COUNTS and row["population_group"] == "all"
    )
    if adjustable and all(shares):
        return _less_shares(row, target, value, [s for s in shares if s], notes)
    nearest = "; ".join(nearest_share(usable, s, target.first, target.last) for s in missing)
    lacking, metric = ", ".join(missing), row["metric"]
    why = f"the scenario has no {lacking} group, which series {row['series']} counts here; " + (
        nearest if adjustable else f"a status's share of returns does not adjust {metric}"
    )
    if strict:
        return f"not comparable (--strict): {why}"
    return value, [*notes, f"not adjusted: {why}"]


def _less_shares(
    row: pd.Series, target: Target, value: float, shares: list, notes: list[str]
) -> tuple[float, list[str]]:
    """``value`` less the missing statuses' shares (a status share: renormalised to the rest)."""
    kept = 1.0 - sum(s.fraction for s in shares)
    words = ", ".join(s.words() for s in shares)
    if row["metric"] == "status_share":
        return value / kept, [*notes, f"renormalised to the modelled statuses: / {kept:.2f} "
                                      f"(less {words})"]  # fmt: skip
    offset = target.offset.persons if target.offset else 0.0
    adjusted = offset + (value - offset) * kept
    part = "the count since the calendar start" if target.offset else "the figure"
    return adjusted, [*notes, f"{part} x {kept:.2f} (less {words})"]


def _daily_band(daily: DailyReturns, start: dt.date) -> pd.DataFrame:
    """Persons returned per day, all crossings and groups: mean and 95% interval."""
    per_day = daily.daily(Selection())
    stats = [interval(day) for day in per_day]
    dates = pd.date_range(start, periods=len(per_day), freq="D")
    return pd.DataFrame(stats, columns=["mean", "ci_low", "ci_high"]).assign(date=dates)


def _curves(
    table: pd.DataFrame, cal: Calendar, usable: pd.DataFrame, daily: DailyReturns
) -> pd.DataFrame:
    """Simulated running counts (mean, 95% interval) of each count the compared cumulative
    figures belong to, over the calendar (with the count's offset)."""
    counts = table[table["comparable"] & (table["metric"] == CUMULATIVE)]
    parts = []
    for _, first in counts.drop_duplicates(["crossing", "group", "date_start"]).iterrows():
        row = usable[usable["row_id"] == first["row_id"]].iloc[0]
        target = target_of(row, cal, usable)  # the same selection and offset for the whole count
        assert not isinstance(target, str)
        lo = (target.first - cal.start).days
        running = np.cumsum(daily.daily(target.selection)[lo:], axis=0)
        running += target.offset.persons if target.offset else 0.0
        stats = pd.DataFrame([interval(r) for r in running], columns=["mean", "ci_low", "ci_high"])
        parts.append(stats.assign(
            date=pd.date_range(target.first, periods=len(running), freq="D"),
            crossing=first["crossing"], group=first["group"], count_start=first["date_start"],
        ))  # fmt: skip
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
