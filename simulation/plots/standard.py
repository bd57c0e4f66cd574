"""The figures ``repatsim run`` writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from simulation.plots.events import as_events
from simulation.plots.people import plot_returns, plot_stocks
from simulation.plots.render import paused_gc
from simulation.plots.stages import plot_queues
from simulation.plots.who import plot_who_waits


def standard_figures(
    daily_stage: pd.DataFrame,
    returns: pd.DataFrame,
    stocks: pd.DataFrame,
    events: Any = None,
    who_waits: pd.DataFrame | None = None,
) -> dict[str, Figure]:
    """The figures written by ``repatsim run``, by file name: queues (and waits), returns,
    stocks (when there are population groups) and who_waits (when ``who_waits`` is given and
    not empty). ``events`` (a frame from :func:`policy_events`, (date, label, kind) tuples, or a
    scenario) are marked on every time axis. No garbage is collected meanwhile (see
    :func:`~simulation.plots.render.paused_gc`)."""
    makers = standard_figure_makers(daily_stage, returns, stocks, events, who_waits)
    with paused_gc():
        return {name: make() for name, make in makers.items()}


def standard_figure_makers(
    daily_stage: pd.DataFrame,
    returns: pd.DataFrame,
    stocks: pd.DataFrame,
    events: Any = None,
    who_waits: pd.DataFrame | None = None,
) -> dict[str, Callable[[], Figure]]:
    """:func:`standard_figures` not drawn yet: by file name, a function that draws each (with
    no garbage collected meanwhile), so that each can be drawn where and when it is saved."""
    marks = as_events(events)
    makers: dict[str, Callable[[], Figure]] = {
        "queues": lambda: plot_queues(daily_stage, events=marks),
        "returns": lambda: plot_returns(returns, events=marks),
    }
    if not stocks.empty:
        makers["stocks"] = lambda: plot_stocks(stocks, events=marks)
    if who_waits is not None and not who_waits.empty:
        makers["who_waits"] = lambda: plot_who_waits(who_waits)
    return {name: _paused(make) for name, make in makers.items()}


def _paused(make: Callable[[], Figure]) -> Callable[[], Figure]:
    def draw() -> Figure:
        with paused_gc():
            return make()

    return draw
