"""Figure layouts: small multiples sharing one date axis under a strip of policy events."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.markers import TICKDOWN
from matplotlib.ticker import FixedLocator, NullLocator

from simulation.plots.events import (
    draw_events,
    draw_strip,
    for_crossing,
    strip_level,
    strip_rows,
)
from simulation.plots.fixed import panel_figure
from simulation.plots.style import DATE_LOCATOR, format_dates

PANEL_IN = 1.9  # height of one panel (inches)
STRIP_ROW_IN = 0.2  # height of one row of event labels (inches)


def time_panels(
    cells: Sequence[tuple[int, int]],
    events: Sequence[pd.DataFrame],
    span: tuple[pd.Timestamp, pd.Timestamp],
    fig: Figure | None = None,
    titles: Sequence[str] = (),
    width_in: float = 10.0,
) -> tuple[Figure, list[Axes]]:
    """A figure of small multiples at grid ``cells`` (row, column) sharing the date axis
    ``span`` (first, last day), with dates under the lowest panel of each column and, when
    there are events, strips naming them above the panels: one strip per frame in ``events``,
    side by side over equal groups of columns (``titles`` say whose events they are). A new
    figure is a :class:`PanelFigure`: call :func:`fix_layout` once everything is drawn."""
    nrows = max(r for r, _ in cells) + 1
    ncols = max(c for _, c in cells) + 1
    across = ncols // max(len(events), 1)  # columns under each strip
    strip_in = (width_in - 0.6) / max(len(events), 1) - 0.6
    rows = [strip_rows(e, span[0], span[1], strip_in) for e in events]
    levels = max((max(strip_level(level) for level in r) + 1 for r in rows if r), default=0)
    strip = 0.35 + STRIP_ROW_IN * levels if levels else 0.0
    ratios = ([strip] if strip else []) + [PANEL_IN] * nrows
    if fig is None:
        fig, grid = panel_figure(width_in, ratios, ncols)
    else:
        grid = fig.add_gridspec(len(ratios), ncols, height_ratios=ratios)
    tops = [fig.add_subplot(grid[0, i * across : (i + 1) * across])
            for i in range(len(events) if strip else 0)]  # fmt: skip
    panels = [fig.add_subplot(grid[row + (1 if strip else 0), col]) for row, col in cells]
    lowest = {c: max(r for r, cc in cells if cc == c) for _, c in cells}
    for (row, col), ax in zip(cells, panels, strict=True):
        ax.tick_params(labelbottom=row == lowest[col])
        format_dates(ax)
        ax.grid(axis="y", color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
    names = list(titles) or [""] * len(tops)
    for top, marks, levels_of, name in zip(tops, events, rows, names, strict=bool(tops)):
        draw_strip(top, marks, levels_of, levels, name)
        set_span(top, span)
    return fig, panels


def finish_time_axes(
    ax: Axes,
    events: pd.DataFrame,
    span: tuple[pd.Timestamp, pd.Timestamp],
    crossing: str | None = None,
    labels: bool = False,
) -> None:
    """Mark the events (those of ``crossing`` only, if given) and fix the date range; with
    ``labels``, name them in a strip just above the axes (which takes over its title)."""
    format_dates(ax)
    mine = for_crossing(events, crossing)
    draw_events(ax, mine)
    set_span(ax, span)
    if labels and not mine.empty:
        _strip_above(ax, mine, span)


def _strip_above(ax: Axes, events: pd.DataFrame, span: tuple[pd.Timestamp, pd.Timestamp]) -> None:
    """An event strip sharing the date axis of ``ax``, drawn just above it."""
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    box = ax.get_position()
    width_in, height_in = fig.get_size_inches() * [box.width, box.height]
    rows = strip_rows(events, span[0], span[1], width_in)
    levels = max(strip_level(r) for r in rows) + 1
    strip = ax.inset_axes((0.0, 1.02, 1.0, STRIP_ROW_IN * levels / max(height_in, 0.5)))
    strip.sharex(ax)
    draw_strip(strip, events, rows, levels, None)
    strip.spines["bottom"].set_visible(False)
    strip.set_title(ax.get_title(), fontsize="medium")
    ax.set_title("")


def set_span(ax: Axes, span: tuple[pd.Timestamp, pd.Timestamp]) -> None:
    """Show the days from ``span[0]`` to ``span[1]``, with date ticks fixed once for that
    span (drawing is faster than with a locator asked again for every panel and redraw). An
    axes whose dates are not labelled (a panel above another) gets its tick marks as one
    line of markers (gid "ticks"): a matplotlib tick costs five artists, made and placed at
    every draw; a strip of event labels gets none."""
    lo, hi = float(mdates.date2num(span[0])), float(mdates.date2num(span[1]))
    ax.set_xlim(lo, hi)
    if hi <= lo:
        return
    found = DATE_LOCATOR.tick_values(span[0].to_pydatetime(), span[1].to_pydatetime())
    ticks = [t for t in found if lo <= t <= hi]
    fixed = FixedLocator(ticks)
    ax.xaxis.set_major_formatter(FixedTickDates(fixed))
    shown = ax.xaxis.get_tick_params()
    if shown.get("labelbottom", True):
        ax.xaxis.set_major_locator(fixed)
        return
    ax.xaxis.set_major_locator(NullLocator())
    if shown.get("bottom", True):
        rc = mpl.rcParams
        ax.plot(ticks, [0.0] * len(ticks), ls="", marker=TICKDOWN, gid="ticks", clip_on=False,
                color=rc["xtick.color"], ms=rc["xtick.major.size"], mew=rc["xtick.major.width"],
                transform=ax.get_xaxis_transform())  # fmt: skip


class FixedTickDates(mdates.ConciseDateFormatter):
    """Concise dates for ticks that stay put: the labels (and offset) of a set of ticks are
    made once, not again at each of the dozen times a figure of panels asks while it is laid
    out and drawn (the same strings as :class:`~matplotlib.dates.ConciseDateFormatter`)."""

    def __init__(self, locator: FixedLocator) -> None:
        super().__init__(locator)
        self._made: dict[tuple[tuple[float, ...], bool], tuple[list[str], str]] = {}
        self._offset = ""

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        key = (tuple(values), isinstance(self.axis, Axis) and self.axis.get_inverted())
        if key not in self._made:
            self._made[key] = (super().format_ticks(values), super().get_offset())
        labels, self._offset = self._made[key]
        return list(labels)

    def get_offset(self) -> str:
        return self._offset


def single_axes(ax: Axes | None) -> tuple[Figure, Axes]:
    """The given axes and its figure, or a new one-panel figure."""
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig, new = plt.subplots(figsize=(10, 4.5), layout="constrained")
    return fig, new


def column_cells(columns: Sequence[int]) -> list[tuple[int, int]]:
    """Grid cells for panels given each panel's column: rows filled top-down per column."""
    used: dict[int, int] = {}
    cells = []
    for col in columns:
        cells.append((used.get(col, 0), col))
        used[col] = used.get(col, 0) + 1
    return cells


def wrap_cells(n_panels: int, ncols: int) -> list[tuple[int, int]]:
    """Grid cells for ``n_panels`` panels filled row by row, ``ncols`` across."""
    return [divmod(i, ncols) for i in range(n_panels)]
