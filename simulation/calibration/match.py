"""Which simulated quantity answers an observed row, or why none does.

A row is comparable when the model produces the same quantity over the same period: its window
lies within the calendar (and ends by ``--until``), its metric is one the returns frame gives,
its crossing is ``all_Pakistan`` or one of the scenario's, and its group is ``all``, deportees,
voluntary returnees, or a status the scenario has a group for (matched by name, any case).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.calibration.adjust import ALL_PAKISTAN, CUMULATIVE, Offset, cumulative_offset
from simulation.calibration.simulated import DailyReturns, Selection

STATUSES = ("undocumented", "ACC", "PoR")  # who the observers count (data/observed/README.md)
DEPORTED = ("deported",)
NOT_DEPORTED = ("voluntary", "direct")
KINDS = {  # metric -> how the simulated value is made from daily persons
    "returns_total": "total", CUMULATIVE: "total", "returns_daily": "per_day",
    "returns_daily_peak": "peak", "deported_total": "total", "deported_daily": "per_day",
    "deported_share": "share", "status_share": "share", "crossing_share": "share",
    "arrests_total": "total",
}  # fmt: skip
ARRESTS = ("arrests_total",)  # metrics counted from arrests, not returns
NOT_MODELLED = {
    "families_total": "families here are registered family units (data/observed/README.md), "
    "not the model's households",
}


@dataclass(frozen=True)
class Calendar:
    """What the scored run covers: its days, crossings and groups, and the ``--until`` date."""

    start: dt.date
    end: dt.date
    crossings: tuple[str, ...]
    groups: tuple[str, ...]
    until: dt.date | None = None


@dataclass(frozen=True)
class Target:
    """The simulated quantity of one figure: ``kind`` (total, per_day, peak or share, in %) of
    the persons ``selection`` returns from ``first`` to ``last``, plus ``offset`` persons."""

    kind: str
    selection: Selection
    first: dt.date
    last: dt.date
    denominator: Selection | None = None
    offset: Offset | None = None
    quantity: str = "returns"  # or "arrests": which daily counts the figure is made from

    def simulate(self, daily: DailyReturns) -> np.ndarray:
        """The quantity in each replication."""
        if self.kind == "peak":
            return daily.peak(self.selection, self.first, self.last)
        total = daily.total(self.selection, self.first, self.last)
        if self.kind == "per_day":
            return total / ((self.last - self.first).days + 1)
        if self.kind == "share" and self.denominator is not None:
            whole = daily.total(self.denominator, self.first, self.last)
            return 100.0 * total / np.where(whole > 0, whole, np.nan)
        return total + (self.offset.persons if self.offset else 0.0)


def window_reason(row: pd.Series, cal: Calendar) -> str:
    """Why ``row``'s period does not fit the calendar or ``--until`` ('' if it does)."""
    start, end = row["date_start"], row["date_end"]
    if row["metric"] == CUMULATIVE:
        start = max(start, cal.start)  # a running count may begin before the calendar
    if start < cal.start:
        return f"starts before the calendar ({cal.start}..{cal.end})"
    if end > cal.end or end < cal.start:
        return f"ends outside the calendar ({cal.start}..{cal.end})"
    if cal.until is not None and end > cal.until:
        return f"ends after --until {cal.until}"
    return ""


def touches(row: pd.Series, cal: Calendar) -> bool:
    """Whether ``row`` concerns the calendar at all (a running count: ends within it)."""
    if row["metric"] == CUMULATIVE:
        return bool(cal.start <= row["date_end"] <= cal.end)
    return bool(row["date_start"] <= cal.end and row["date_end"] >= cal.start)


def crossings_of(name: str, cal: Calendar) -> tuple[str, ...] | str | None:
    """Scenario crossings of an observed crossing (None: all), or why there are none."""
    if name == ALL_PAKISTAN:
        return None
    same = tuple(c for c in cal.crossings if c.lower() == name.lower())
    return same or f"the scenario has no crossing {name} (it has {', '.join(cal.crossings)})"


def status_group(status: str, cal: Calendar) -> str | None:
    """The scenario group holding ``status`` (same name, any case), if any."""
    return next((g for g in cal.groups if g.lower() == status.lower()), None)


def selection_of(row: pd.Series, cal: Calendar) -> Selection | str:
    """Whose returns the row counts (its crossing, group and, for deportations, mode)."""
    crossings = crossings_of(str(row["crossing"]), cal)
    if isinstance(crossings, str):
        return crossings
    group = str(row["population_group"])
    groups: tuple[str, ...] | None = None
    modes: tuple[str, ...] | None = None
    if group == "deportees":
        modes = DEPORTED
    elif group == "voluntary":
        modes = NOT_DEPORTED
    elif group in STATUSES:
        found = status_group(group, cal)
        if found is None:
            return f"the scenario has no {group} group"
        groups = (found,)
    elif group != "all":
        return f"population group {group} is not modelled"
    if str(row["metric"]).startswith("deported_"):
        modes = DEPORTED
    return Selection(crossings, groups, modes)


def target_of(row: pd.Series, cal: Calendar, rows: pd.DataFrame) -> Target | str:
    """The simulated quantity answering ``row``, or why there is none (``rows``: the series'
    usable rows, for a cumulative offset)."""
    metric = str(row["metric"])
    if metric not in KINDS:
        return NOT_MODELLED.get(metric, f"metric {metric} is not modelled")
    chosen = selection_of(row, cal)
    if isinstance(chosen, str):
        return chosen
    first, last = max(row["date_start"], cal.start), row["date_end"]
    if metric in ARRESTS:
        return _arrest_target(row, chosen, first, last)
    if KINDS[metric] == "share":
        return _share_target(row, chosen, first, last)
    offset = None
    if metric == CUMULATIVE and row["date_start"] < cal.start:
        found = cumulative_offset(rows, row, cal.start)
        if isinstance(found, str):
            return found
        offset = found
    return Target(KINDS[metric], chosen, first, last, offset=offset)


def _arrest_target(row: pd.Series, sel: Selection, first: dt.date, last: dt.date) -> Target | str:
    """Persons arrested in the window, of every status or of the row's status (arrests have
    no crossing, nor a mode)."""
    if sel.crossings is not None:
        return f"arrests are counted for {ALL_PAKISTAN} only, not by crossing"
    if sel.modes is not None:
        return f"arrests are counted by status, not for {row['population_group']}"
    return Target("total", Selection(None, sel.groups, None), first, last, quantity="arrests")


def _share_target(row: pd.Series, sel: Selection, first: dt.date, last: dt.date) -> Target | str:
    """A percentage: the row's returns over those of every status (status share), of every
    crossing (crossing share) or of every mode (deportation share)."""
    metric = row["metric"]
    if metric == "status_share":
        if sel.groups is None:
            return "a status share needs a status"
        whole = Selection(sel.crossings, None, sel.modes)
    elif metric == "crossing_share":
        if sel.crossings is None:
            return "a crossing share needs a crossing"
        whole = Selection(None, sel.groups, sel.modes)
    else:
        whole = Selection(sel.crossings, sel.groups, None)
    return Target("share", sel, first, last, denominator=whole)
