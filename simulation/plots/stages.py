"""Queues and waits at each stage: small multiples per crossing and stage, one date axis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simulation.plots.events import as_events, for_crossing
from simulation.plots.fixed import fix_layout
from simulation.plots.layout import (
    column_cells,
    finish_time_axes,
    single_axes,
    time_panels,
    wrap_cells,
)
from simulation.plots.style import (
    TITLE_Y,
    add_note,
    band_stats,
    band_title,
    daily_series,
    draw_band,
    figure_legend,
    format_counts,
    outside_legend,
)

STAGE_KEYS = ["crossing", "stage"]


@dataclass(frozen=True)
class Measure:
    """A daily column of ``daily_stage`` drawn per stage: its unit, colour, the value of a day
    missing from the frame, an optional second column drawn dashed (a tail) and its legend
    entry."""

    column: str
    unit: str
    colour: str
    fill: float
    tail: str | None = None
    legend: str = ""


QUEUE = Measure("queue_mean_persons", "persons queueing", "#1f77b4", 0.0,
                legend="persons queueing (daily time-weighted mean)")  # fmt: skip
WAIT = Measure("wait_mean_hours", "hours waited", "#d62728", np.nan, "wait_p95_hours",
               "hours waited (mean)")  # fmt: skip


def plot_queues(
    daily_stage: pd.DataFrame, ax: Axes | None = None, *, events: Any = None,
    fig: Figure | None = None, waits: bool = True,
) -> Figure:  # fmt: skip
    """Persons queueing at each stage (daily time-weighted mean, with its 5-95% band across
    replications) and, beside it with ``waits``, the hours waited there (see
    :func:`plot_waits`): a row of panels per stage, crossings side by side. Stages whose queue
    is zero on every day are left out and named in a note. With ``ax``, each stage's queue is a
    line on that one axes. ``events`` (see :func:`policy_events`) are marked on every panel, a
    crossing's own events only on its panels."""
    measures = [QUEUE, WAIT] if waits and WAIT.column in daily_stage else [QUEUE]
    title = "Queues and waits at each stage" if len(measures) > 1 else "Queues at each stage"
    title += f"\n{band_title(daily_stage)}"
    return _stage_figure(daily_stage, measures, title, "queue", ax, as_events(events), fig)


def plot_waits(
    daily_stage: pd.DataFrame, ax: Axes | None = None, *, events: Any = None,
    fig: Figure | None = None,
) -> Figure:  # fmt: skip
    """Hours households waited at each stage (mean of those starting service each day, with
    its 5-95% band across replications; dashed: the 95th percentile wait, mean across
    replications), one panel per crossing and stage as in :func:`plot_queues`; stages where
    nobody waited are left out and named in a note."""
    title = f"Hours waited at each stage\n{band_title(daily_stage)}"
    return _stage_figure(daily_stage, [WAIT], title, "wait", ax, as_events(events), fig)


def _stage_figure(
    daily_stage: pd.DataFrame, measures: list[Measure], title: str, what: str,
    ax: Axes | None, events: pd.DataFrame, fig: Figure | None,
) -> Figure:  # fmt: skip
    """The stage panels of ``measures`` (or the first measure's lines on one ``ax``), leaving
    out the stages where the first measure is zero or missing on every day."""
    dates, series, values = daily_series(daily_stage, STAGE_KEYS, measures[0].column,
                                         measures[0].fill)  # fmt: skip
    shown = [i for i in range(len(series)) if np.nanmax(values[i], initial=0.0) > 0]
    skipped = [series[i] for i in range(len(series)) if i not in shown]
    note = _skipped_note(skipped, what) if skipped else ""
    span = (dates[0], dates[-1]) if len(dates) else (pd.Timestamp(0), pd.Timestamp(1))
    if ax is not None or not shown:
        return _one_axes(dates, [series[i] for i in shown], values[shown], measures[0], note,
                         title, ax, events, span)  # fmt: skip
    kept = [series[i] for i in shown]
    cells, marks, names = _layout(kept, len(measures), events)
    width = 10.0 if len(names) * len(measures) <= 2 else 3.2 * len(names) * len(measures)
    fig, panels = time_panels(cells, marks, span, fig, names, min(width, 16.0))
    for j, measure in enumerate(measures):
        block = values[shown] if j == 0 else _series(daily_stage, measure, kept)
        tail = _series(daily_stage, measure, kept, measure.tail) if measure.tail else None
        mine = panels[j :: len(measures)]
        for i, ((crossing, stage), panel) in enumerate(zip(kept, mine, strict=True)):
            _stage_panel(panel, dates, block[i], None if tail is None else tail[i], measure)
            panel.set_title(f"{crossing} · {stage}", loc="left", fontsize="small", y=TITLE_Y)
            finish_time_axes(panel, events, span, crossing)
    fig.suptitle(title, x=0.01, ha="left", fontsize="medium")
    if any(m.tail for m in measures):
        figure_legend(fig, _legend(measures))
    if note:
        add_note(fig, note)
    fix_layout(fig)
    return fig


def _series(
    daily_stage: pd.DataFrame, measure: Measure, kept: list[tuple[str, ...]],
    column: str | None = None,
) -> np.ndarray:  # fmt: skip
    """(stage, replication, day) values of ``column`` (the measure's own by default) for the
    ``kept`` stages, in their order."""
    _, series, values = daily_series(daily_stage, STAGE_KEYS, column or measure.column,
                                     measure.fill)  # fmt: skip
    return values[[series.index(k) for k in kept]]


def _stage_panel(
    panel: Axes, dates: pd.DatetimeIndex, values: np.ndarray, tail: np.ndarray | None,
    measure: Measure,
) -> None:  # fmt: skip
    """One stage's measure: the banded mean, the dashed tail, the unit at the right."""
    draw_band(panel, dates, values, measure.colour)
    if tail is not None:
        panel.plot(dates, band_stats(tail)[0], color=measure.colour, lw=0.7, ls="--", alpha=0.7)
    panel.set_title(measure.unit, loc="right", fontsize="small", color=measure.colour, y=TITLE_Y)
    panel.set_ylim(bottom=0)
    format_counts(panel)


def _legend(measures: list[Measure]) -> list[Line2D]:
    handles = []
    for m in measures:
        handles.append(Line2D([], [], color=m.colour, lw=1.4, label=m.legend or m.unit))
        if m.tail:
            handles.append(Line2D([], [], color=m.colour, lw=0.7, ls="--", alpha=0.7,
                                  label=f"{m.unit}: 95th percentile"))  # fmt: skip
    return handles


def _one_axes(
    dates: pd.DatetimeIndex, series: list[tuple[str, ...]], values: np.ndarray,
    measure: Measure, note: str, title: str, ax: Axes | None, events: pd.DataFrame,
    span: tuple[pd.Timestamp, pd.Timestamp],
) -> Figure:  # fmt: skip
    """Each stage's measure as a banded line on one axes, with a legend entry each."""
    fig, ax = single_axes(ax)
    for i, (crossing, stage) in enumerate(series):
        draw_band(ax, dates, values[i], f"C{i % 10}", f"{crossing} / {stage}")
    if series:
        outside_legend(ax)
    ax.set_ylabel(measure.unit)
    ax.set_title(title, fontsize="medium")
    format_counts(ax)
    finish_time_axes(ax, events, span, labels=True)
    if note or not series:
        add_note(ax, note or "Nothing to show: no stage had anyone waiting")
    return fig


def _skipped_note(skipped: list[tuple[str, ...]], what: str) -> str:
    """The note naming the stages left out, by crossing."""
    by_crossing: dict[str, list[str]] = {}
    for crossing, stage in skipped:
        by_crossing.setdefault(crossing, []).append(stage)
    where = "; ".join(f"{c}: {', '.join(s)}" for c, s in by_crossing.items())
    return f"Not shown ({what} on no day): {where}"


def _layout(
    series: list[tuple[str, ...]], measures: int, events: pd.DataFrame
) -> tuple[list[tuple[int, int]], list[pd.DataFrame], list[str]]:
    """Grid cells of the panels (stage by stage, each measure in turn), the events over each
    group of columns and whose they are: crossings side by side (up to three), each with a
    column per measure under its own events; else panels wrapped three stages across."""
    crossings = list(dict.fromkeys(c for c, _ in series))
    if len(crossings) <= 3:
        columns = [crossings.index(c) * measures + j for c, _ in series for j in range(measures)]
        return column_cells(columns), [for_crossing(events, c) for c in crossings], crossings
    cells = [(r, c * measures + j) for r, c in wrap_cells(len(series), 3) for j in range(measures)]
    return cells, [events], ["all crossings"]
