"""Where people go: daily returns by group and mode, and how many are in each state."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simulation.engine.records import MODES, STATES
from simulation.plots.events import as_events
from simulation.plots.fixed import fix_layout
from simulation.plots.layout import finish_time_axes, single_axes, time_panels, wrap_cells
from simulation.plots.style import (
    MODE_LINES,
    TITLE_Y,
    add_note,
    band_title,
    daily_series,
    draw_band,
    figure_legend,
    format_counts,
    group_colour,
    group_handles,
    outside_legend,
)

STATE_TITLES = {
    "in_pakistan": "in Pakistan",
    "detained": "detained (holding centres)",
    "travelling": "travelling to a crossing",
    "at_crossing": "at a crossing",
    "returned": "returned (cumulative)",
}
STATE_LINES: dict[str, Any] = {
    "in_pakistan": "-",
    "returned": "--",
    "detained": ":",
    "travelling": "-.",
    "at_crossing": (0, (1, 1)),
}


def _span(dates: pd.DatetimeIndex) -> tuple[pd.Timestamp, pd.Timestamp]:
    return (dates[0], dates[-1]) if len(dates) else (pd.Timestamp(0), pd.Timestamp(1))


def plot_returns(
    returns: pd.DataFrame, ax: Axes | None = None, *, events: Any = None,
    fig: Figure | None = None,
) -> Figure:  # fmt: skip
    """Persons returning per day by group, one panel per mode (voluntary, deported, direct: each
    on its own scale), under a panel of all modes with their total; each line is the mean
    across replications with its 5-95% band. With ``ax``, one line per group and mode (line
    style by mode) on that axes."""
    events = as_events(events)
    if returns.empty:
        fig, ax = single_axes(ax)
        add_note(ax, "Nothing to show: nobody returned")
        ax.set_axis_off()
        return fig
    dates, series, values = daily_series(returns, ["group", "mode"], "persons")
    groups = list(dict.fromkeys(g for g, _ in series))
    title = f"Persons returning per day, by group and mode\n{band_title(returns)}"
    if ax is not None:
        fig, ax = single_axes(ax)
        for (group, mode), v in zip(series, values, strict=True):
            if not v.any():
                continue
            line = MODE_LINES.get(mode, "-")
            draw_band(ax, dates, v, group_colour(group), f"{group} {mode}", line)
        outside_legend(ax)
        return _finish_one(fig, ax, events, _span(dates), title, "persons per day")
    modes = [m for m in MODES if any(mode == m for _, mode in series)]
    modes += sorted({mode for _, mode in series} - set(modes))
    both = len(modes) > 1  # a panel of all modes above the panel of each
    fig, panels = time_panels(wrap_cells(both + len(modes), 1), [events], _span(dates), fig)
    if both:
        for group in groups:
            mine = [i for i, (g, _) in enumerate(series) if g == group]
            draw_band(panels[0], dates, values[mine].sum(axis=0), group_colour(group))
        if len(groups) > 1:
            draw_band(panels[0], dates, values.sum(axis=0), group_colour("total"))
        panels[0].set_title("all modes", loc="left", fontsize="small", y=TITLE_Y)
    for mode, panel in zip(modes, panels[both:], strict=True):
        for i, (group, m) in enumerate(series):
            if m == mode:
                draw_band(panel, dates, values[i], group_colour(group))
        panel.set_title(mode, loc="left", fontsize="small", y=TITLE_Y)
    total = [("total", group_colour("total"))] if both and len(groups) > 1 else []
    return _finish_panels(fig, panels, events, _span(dates), title, "persons per day",
                          groups, total)  # fmt: skip


def plot_stocks(
    stocks: pd.DataFrame, ax: Axes | None = None, *, events: Any = None,
    fig: Figure | None = None,
) -> Figure:  # fmt: skip
    """Persons of each group in each state at the end of each day (mean across replications
    with its 5-95% band): one panel per state, each on its own scale; states nobody is ever in
    are left out and named in a note. With ``ax``, one line per group and state (line style by
    state) on that axes."""
    events = as_events(events)
    long = stocks.melt(id_vars=["replication", "date", "group"], value_vars=list(STATES),
                       var_name="state", value_name="persons")  # fmt: skip
    if long.empty:
        fig, ax = single_axes(ax)
        add_note(ax, "Nothing to show: no population groups")
        ax.set_axis_off()
        return fig
    dates, series, values = daily_series(long, ["state", "group"], "persons")
    pairs = list(zip(series, values, strict=True))
    states = [s for s in STATES if any(v.any() for (st, _), v in pairs if st == s)]
    groups = list(dict.fromkeys(g for _, g in series))
    empty = [STATE_TITLES[s] for s in STATES if s not in states]
    note = f"Not shown (nobody on any day): {', '.join(empty)}" if empty else ""
    title = f"Where people are: persons at the end of each day\n{band_title(stocks)}"
    if ax is not None:
        fig, ax = single_axes(ax)
        for (state, group), v in zip(series, values, strict=True):
            if state in states and v.any():
                draw_band(ax, dates, v, group_colour(group), f"{group}: {STATE_TITLES[state]}",
                          STATE_LINES[state])  # fmt: skip
        outside_legend(ax)
        return _finish_one(fig, ax, events, _span(dates), title, "persons", note)
    fig, panels = time_panels(wrap_cells(len(states), 1), [events], _span(dates), fig)
    for state, panel in zip(states, panels, strict=True):
        for i, (st, group) in enumerate(series):
            if st == state:
                draw_band(panel, dates, values[i], group_colour(group))
        panel.set_title(STATE_TITLES[state], loc="left", fontsize="small", y=TITLE_Y)
    return _finish_panels(fig, panels, events, _span(dates), title, "persons", groups, [], note)


def _finish_one(
    fig: Figure, ax: Axes, events: pd.DataFrame, span: tuple[pd.Timestamp, pd.Timestamp],
    title: str, unit: str, note: str = "",
) -> Figure:  # fmt: skip
    """Title, units, counts, dates and labelled events of a one-axes figure."""
    ax.set_title(title, fontsize="medium")
    ax.set_ylabel(unit)
    ax.set_ylim(bottom=0)
    format_counts(ax)
    finish_time_axes(ax, events, span, labels=True)
    if note:
        add_note(ax, note)
    return fig


def _finish_panels(
    fig: Figure, panels: list[Axes], events: pd.DataFrame,
    span: tuple[pd.Timestamp, pd.Timestamp], title: str, unit: str, groups: list[str],
    extra: list[tuple[str, str]], note: str = "",
) -> Figure:  # fmt: skip
    """Title, units, counts, dates, events and the group legend of a small-multiples figure."""
    for panel in panels:
        panel.set_ylim(bottom=0)
        format_counts(panel)
        finish_time_axes(panel, events, span)
    fig.suptitle(title, x=0.01, ha="left", fontsize="medium")
    fig.supylabel(unit, fontsize="small")
    figure_legend(fig, group_handles(groups, extra))
    if note:
        add_note(fig, note)
    fix_layout(fig)
    return fig
