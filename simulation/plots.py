"""Matplotlib figures from the tidy frames: ``(frame, ax=None) -> Figure``, never ``show()``."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simulation.engine.records import STATES


def _axes(ax: Axes | None) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig, new = plt.subplots(figsize=(10, 4.5))
    return fig, new


def _band(ax: Axes, frame: pd.DataFrame, x: str, y: str, label: str) -> None:
    """Mean line with a 5-95% band across replications."""
    g = frame.groupby(x)[y]
    mean, lo, hi = g.mean(), g.quantile(0.05), g.quantile(0.95)
    (line,) = ax.plot(mean.index, mean.to_numpy(), label=label, lw=1.2)
    if frame["replication"].nunique() > 1:
        ax.fill_between(mean.index, lo.to_numpy(), hi.to_numpy(), color=line.get_color(), alpha=0.2)


def plot_queues(daily_stage: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Daily time-weighted mean queue (persons) per crossing and stage."""
    fig, ax = _axes(ax)
    for (crossing, stage), g in daily_stage.groupby(["crossing", "stage"], sort=False):
        _band(ax, g, "date", "queue_mean_persons", f"{crossing} / {stage}")
    ax.set_ylabel("persons queueing (daily mean)")
    ax.set_title("Queues by stage (mean, 5-95% band across replications)")
    ax.legend(fontsize="small", ncol=2)
    fig.autofmt_xdate()
    return fig


def plot_returns(returns: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Persons returning per day by group and mode (mean across replications)."""
    fig, ax = _axes(ax)
    daily = returns.groupby(["replication", "date", "group", "mode"], as_index=False)[
        "persons"
    ].sum()
    reps = max(int(returns["replication"].nunique()), 1) if len(returns) else 1
    table = (
        daily.pivot_table(
            index="date", columns=["group", "mode"], values="persons", aggfunc="sum", fill_value=0
        )
        / reps
    )
    if not table.empty:
        table.columns = [f"{g} ({m})" for g, m in table.columns]
        table.plot.area(ax=ax, lw=0, alpha=0.85)
    ax.set_ylabel("persons per day")
    ax.set_title("Daily returns by group and mode (mean across replications)")
    return fig


def plot_stocks(stocks: pd.DataFrame, axes: Sequence[Axes] | None = None) -> Figure:
    """Persons in each state over time per group: at home and returned above, and the small
    in-between states (detained, travelling, at a crossing) below on their own scale."""
    if axes is None:
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    else:
        top, bottom = axes
        fig = top.figure  # type: ignore[assignment]
    long = stocks.melt(
        id_vars=["replication", "date", "group"], value_vars=list(STATES), var_name="state"
    )
    for (group, state), g in long.groupby(["group", "state"], sort=False):
        ax = top if state in ("in_pakistan", "returned") else bottom
        if g["value"].max() > 0:
            _band(ax, g, "date", "value", f"{group}: {state}")
    top.set_ylabel("persons")
    top.set_title("Where people are (mean, 5-95% band across replications)")
    bottom.set_ylabel("persons")
    for ax in (top, bottom):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small", ncol=2)
    fig.autofmt_xdate()
    return fig


def standard_figures(
    daily_stage: pd.DataFrame, returns: pd.DataFrame, stocks: pd.DataFrame
) -> dict[str, Figure]:
    """The figures written by ``repatsim run``."""
    figures = {"queues": plot_queues(daily_stage), "returns": plot_returns(returns)}
    if not stocks.empty:
        figures["stocks"] = plot_stocks(stocks)
    return figures
