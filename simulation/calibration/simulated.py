"""The simulated side of a figure: persons returned per day and replication, for any selection
of crossings, groups and modes, from the ``returns`` frame (zero on days nobody returned); and
persons arrested, from the ``stocks`` frame, in the same shape (:func:`arrest_rows`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Selection:
    """Which returns count: scenario crossing, group and mode names (None: all of them)."""

    crossings: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None
    modes: tuple[str, ...] | None = None

    def keeps(self, crossing: str, group: str, mode: str) -> bool:
        """Whether returns through ``crossing`` of ``group`` in ``mode`` count."""
        return all(
            allowed is None or value in allowed
            for allowed, value in ((self.crossings, crossing), (self.groups, group),
                                   (self.modes, mode))
        )  # fmt: skip


ARRESTED = "arrested"  # the mode of arrests in :func:`arrest_rows`; they have no crossing


def arrest_rows(stocks: pd.DataFrame) -> pd.DataFrame | None:
    """Persons arrested per day, group and replication, shaped as the returns frame (crossing
    '' and mode ``arrested``); None when the stocks do not count arrests (older results)."""
    if "arrested" not in stocks.columns:
        return None
    rows = stocks[["replication", "date", "group", "arrested"]].rename(
        columns={"arrested": "persons"}
    )
    return rows.assign(crossing="", mode=ARRESTED)


class DailyReturns:
    """Persons returned per calendar day and replication, by (crossing, group, mode)."""

    def __init__(self, returns: pd.DataFrame, start: dt.date, days: int, replications: int):
        self.start, self.days, self.replications = start, days, replications
        sums = returns.groupby(["crossing", "group", "mode", "date", "replication"])["persons"]
        table = sums.sum().reset_index()
        self.keys = sorted(set(zip(table["crossing"], table["group"], table["mode"], strict=True)))
        column = {key: i for i, key in enumerate(self.keys)}
        self.cube = np.zeros((days, replications, len(self.keys)))
        day = (pd.to_datetime(table["date"]) - pd.Timestamp(start)).dt.days.to_numpy()
        keys = zip(table["crossing"], table["group"], table["mode"], strict=True)
        cols = np.array([column[k] for k in keys], dtype=np.int64)
        inside = (day >= 0) & (day < days)
        reps = table["replication"].to_numpy(dtype=np.int64)
        np.add.at(self.cube, (day[inside], reps[inside], cols[inside]),
                  table["persons"].to_numpy(dtype=float)[inside])  # fmt: skip

    def daily(self, selection: Selection) -> np.ndarray:
        """Persons per day (rows: calendar days; columns: replications) for ``selection``."""
        chosen = [i for i, key in enumerate(self.keys) if selection.keeps(*key)]
        return self.cube[:, :, chosen].sum(axis=2)

    def window(self, selection: Selection, first: dt.date, last: dt.date) -> np.ndarray:
        """Persons per day from ``first`` to ``last`` (inclusive, within the calendar)."""
        lo, hi = (first - self.start).days, (last - self.start).days
        if lo < 0 or hi >= self.days or hi < lo:
            raise ValueError(f"window {first}..{last} is not within the calendar")
        return self.daily(selection)[lo : hi + 1]

    def total(self, selection: Selection, first: dt.date, last: dt.date) -> np.ndarray:
        """Persons returned from ``first`` to ``last``, per replication."""
        return self.window(selection, first, last).sum(axis=0)

    def peak(self, selection: Selection, first: dt.date, last: dt.date) -> np.ndarray:
        """The highest daily count from ``first`` to ``last``, per replication."""
        return self.window(selection, first, last).max(axis=0)
