"""The forecast figure: monthly returns by group, the deportation share and the UN running count,
each month's mean with the 2.5-97.5% band over every run (parameters and replications)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simulation.plots.style import BAND_ALPHA, format_counts, format_dates, group_colour


def _series(table: pd.DataFrame, quantity: str, group: str, mode: str) -> pd.DataFrame:
    """One series of the forecast table, dated at the middle of each month (a running count:
    at the last day counted)."""
    rows = table[(table["quantity"] == quantity) & (table["group"] == group)
                 & (table["mode"] == mode)]  # fmt: skip
    if quantity == "un_cumulative":
        return rows.assign(date=pd.to_datetime(rows["last_day"]))
    return rows.assign(date=pd.to_datetime(rows["month"]) + pd.Timedelta(days=14))


def _band(ax: Axes, rows: pd.DataFrame, colour: str, label: str) -> None:
    ax.plot(rows["date"], rows["mean"], "o-", color=colour, lw=1.4, ms=3, label=label)
    ax.fill_between(rows["date"], rows["p2_5"], rows["p97_5"], color=colour, alpha=BAND_ALPHA)


def plot_forecast(
    table: pd.DataFrame,
    observed: pd.DataFrame | None = None,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """The forecast table (:func:`simulation.calibration.forecast.summarise`) drawn in three
    panels; ``observed`` (date, value): UN running-count figures to mark on the last."""
    if axes is None:
        fig, axes = plt.subplots(3, 1, figsize=(10, 10), sharex=True)
    top, middle, bottom = axes
    fig = top.figure  # type: ignore[assignment]
    returns = table[(table["quantity"] == "returns") & (table["mode"] == "all")]
    top.set_title("Persons returned per month, by group: mean and 95% band over all runs")
    for group in [g for g in returns["group"].unique() if g != "all"] + ["all"]:
        colour = "#222222" if group == "all" else group_colour(group)
        _band(top, _series(table, "returns", group, "all"), colour, group)
    middle.set_title("Deported share of returns (%)")
    for group in table[table["quantity"] == "deported_share"]["group"].unique():
        colour = "#222222" if group == "all" else group_colour(group)
        _band(middle, _series(table, "deported_share", group, "deported"), colour, group)
    bottom.set_title("UN running count at month end (offset + simulated returns since the start)")
    cumulative = _series(table, "un_cumulative", "all", "all")
    if cumulative.empty:
        bottom.text(0.5, 0.5, "no UN offset at the calendar start", ha="center",
                    transform=bottom.transAxes)  # fmt: skip
    else:
        _band(bottom, cumulative, "#222222", "simulated")
    if observed is not None and not observed.empty:
        bottom.plot(pd.to_datetime(observed["date"]), observed["value"], "s", color="tab:red",
                    label="observed (UN)")  # fmt: skip
    for ax in (top, middle, bottom):
        format_dates(ax)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    format_counts(top)
    format_counts(bottom)
    return fig
