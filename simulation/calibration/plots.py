"""The fit plot: simulated against observed over time, running counts above and per-period
returns below. ``(frames, axes=None) -> Figure``, never ``show()``."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from simulation.calibration.adjust import CUMULATIVE

PER_DAY = {"returns_total", "returns_daily"}  # drawn as average persons per day over the period
ONE_DAY = pd.Timedelta(days=1)


def plot_score(
    table: pd.DataFrame,
    daily: pd.DataFrame,
    curves: pd.DataFrame,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """:class:`~simulation.calibration.score.Score` frames drawn: each running count the
    compared cumulative figures belong to (simulated mean and 95% band, observed points), and
    the simulated daily returns with each compared period figure (observed and simulated
    persons per day over its period; peaks as markers)."""
    if axes is None:
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 8), sharex=True)
    else:
        top, bottom = axes
        fig = top.figure  # type: ignore[assignment]
    compared = table[table["comparable"].astype(bool)]
    _cumulative(top, compared, curves)
    _periods(bottom, compared, daily)
    for ax in (top, bottom):
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    fig.autofmt_xdate()
    return fig


def _cumulative(ax: Axes, compared: pd.DataFrame, curves: pd.DataFrame) -> None:
    """Simulated running counts with the observed figures of each count (both as at the end of
    the day plotted)."""
    ax.set_title("Running count: simulated mean (95% band) and observed figures (as compared)")
    ax.set_ylabel("persons (cumulative)")
    if curves.empty:
        ax.text(0.5, 0.5, "no cumulative figure compared", ha="center", transform=ax.transAxes)
        return
    for (crossing, group, start), curve in curves.groupby(["crossing", "group", "count_start"]):
        label = f"{crossing} / {group}, counted from {start}"
        (line,) = ax.plot(curve["date"], curve["mean"], lw=1.2, label=f"simulated: {label}")
        ax.fill_between(curve["date"], curve["ci_low"], curve["ci_high"],
                        color=line.get_color(), alpha=0.2)  # fmt: skip
        same = (compared["crossing"] == crossing) & (compared["group"] == group)
        mine = compared[same & (compared["metric"] == CUMULATIVE)
                        & (compared["date_start"] == start)]  # fmt: skip
        ax.plot(pd.to_datetime(mine["date_end"]), mine["observed"], "o",
                color=line.get_color(), mec="black", label=f"observed: {label}")  # fmt: skip


def _periods(ax: Axes, compared: pd.DataFrame, daily: pd.DataFrame) -> None:
    """Simulated daily returns (all crossings and groups) with each period figure."""
    ax.set_title("Per period: persons per day, simulated (95% band) and each compared figure")
    ax.set_ylabel("persons per day")
    ax.plot(daily["date"], daily["mean"], color="tab:blue", lw=1, label="simulated, all returns")
    ax.fill_between(daily["date"], daily["ci_low"], daily["ci_high"], color="tab:blue", alpha=0.2)
    periods = compared[compared["metric"].isin(PER_DAY)]
    first = pd.to_datetime(periods["date_start"])
    last = pd.to_datetime(periods["date_end"]) + ONE_DAY
    days = ((last - first).dt.days).where(periods["metric"] == "returns_total", 1)
    if not periods.empty:
        ax.hlines(periods["observed"] / days, first, last, colors="black", lw=2.5,
                  label="observed figure (per day over its period)")  # fmt: skip
        ax.hlines(periods["simulated_mean"] / days, first, last, colors="tab:orange", lw=2,
                  ls="--", label="simulated, same figure")  # fmt: skip
    peaks = compared[compared["metric"] == "returns_daily_peak"]
    if peaks.empty:
        return
    start = pd.to_datetime(peaks["date_start"])
    middle = start + (pd.to_datetime(peaks["date_end"]) - start + ONE_DAY) / 2
    ax.plot(middle, peaks["observed"], "v", color="black", label="observed peak day")
    ax.plot(middle, peaks["simulated_mean"], "^", color="tab:orange", label="simulated peak day")


def plot_evaluations(evaluations: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """A calibration's progress: the loss of each evaluation (``evaluation``, ``loss``
    columns) and the best loss so far."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4))
    else:
        fig = ax.figure  # type: ignore[assignment]
    ax.plot(evaluations["evaluation"], evaluations["loss"], "o", ms=4, color="grey",
            label="loss of the evaluation")  # fmt: skip
    ax.step(evaluations["evaluation"], evaluations["loss"].cummin(), where="post",
            color="black", label="best so far")  # fmt: skip
    ax.set_xlabel("evaluation")
    ax.set_ylabel("loss (weighted mean ARD)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    return fig
