"""The figures ``repatsim run`` writes."""

from __future__ import annotations

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
    with paused_gc():
        return _figures(daily_stage, returns, stocks, as_events(events), who_waits)


def _figures(
    daily_stage: pd.DataFrame,
    returns: pd.DataFrame,
    stocks: pd.DataFrame,
    marks: pd.DataFrame,
    who_waits: pd.DataFrame | None,
) -> dict[str, Figure]:
    figures = {
        "queues": plot_queues(daily_stage, events=marks),
        "returns": plot_returns(returns, events=marks),
    }
    if not stocks.empty:
        figures["stocks"] = plot_stocks(stocks, events=marks)
    if who_waits is not None and not who_waits.empty:
        figures["who_waits"] = plot_who_waits(who_waits)
    return figures
