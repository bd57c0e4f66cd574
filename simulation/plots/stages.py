"""Queues and waits at each stage: small multiples per crossing and stage, one date axis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simulation.plots.events import as_events, for_crossings
from simulation.plots.fixed import fix_layout
from simulation.plots.layout import finish_time_axes, single_axes, time_panels, wrap_cells
from simulation.plots.style import (
    TITLE_Y,
    add_note,
    band_stats,
    band_title,
    crossing_colour,
    daily_series,
    draw_band,
    figure_legend,
    format_counts,
    outside_legend,
)

STAGE_KEYS = ["crossing", "stage"]


@dataclass(frozen=True)
class Measure:
    """A daily column of ``daily_stage`` drawn per stage: what it is (the panels' right title)
    and its unit, the value of a day missing from the frame, and an optional second column
    drawn dashed (a tail)."""

    column: str
    title: str
    unit: str
    fill: float
    tail: str | None = None


QUEUE = Measure("queue_mean_persons", "persons queueing (daily time-weighted mean)",
                "persons queueing", 0.0)  # fmt: skip
WAIT = Measure("wait_mean_hours", "hours waited", "hours waited", np.nan, "wait_p95_hours")
TAIL_LABEL = "dashed: 95th percentile of hours waited"


def plot_queues(
    daily_stage: pd.DataFrame, ax: Axes | None = None, *, events: Any = None,
    fig: Figure | None = None, waits: bool = True,
) -> Figure:  # fmt: skip
    """Persons queueing at each stage (daily time-weighted mean, with its 5-95% band across
    replications) and, beside it with ``waits``, the hours waited there (see
    :func:`plot_waits`): a row of panels per stage, each crossing a line of its own colour
    (:func:`crossing_colour`) in them. A crossing's stage whose queue is zero on every day is
    left out and named in a note. With ``ax``, each stage's queue is a line on that one axes.
    ``events`` (see :func:`policy_events`) are marked on every panel, a crossing's own events
    only on the panels where it is drawn."""
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
    replications), one panel per stage with a line per crossing as in :func:`plot_queues`, two
    panels across; stages where nobody waited are left out and named in a note."""
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
    stages = list(dict.fromkeys(stage for _, stage in kept))
    across = len(measures) if len(measures) > 1 else 2
    cells = wrap_cells(len(stages) * len(measures), across)
    fig, panels = time_panels(cells, [events], span, fig, width_in=10.0)
    for j, measure in enumerate(measures):
        block = values[shown] if j == 0 else _series(daily_stage, measure, kept)
        tail = _series(daily_stage, measure, kept, measure.tail) if measure.tail else None
        for stage, panel in zip(stages, panels[j :: len(measures)], strict=True):
            here = [i for i, (_, s) in enumerate(kept) if s == stage]
            for i in here:
                _stage_line(panel, dates, block[i], None if tail is None else tail[i], kept[i][0])
            panel.set_title(stage, loc="left", fontsize="small", y=TITLE_Y)
            panel.set_title(measure.title, loc="right", fontsize="small", y=TITLE_Y)
            panel.set_ylim(bottom=0)
            format_counts(panel)
            finish_time_axes(panel, for_crossings(events, [kept[i][0] for i in here]), span)
    fig.suptitle(title, x=0.01, ha="left", fontsize="medium")
    figure_legend(fig, _legend(list(dict.fromkeys(c for c, _ in kept)), measures))
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


def _stage_line(
    panel: Axes, dates: pd.DatetimeIndex, values: np.ndarray, tail: np.ndarray | None,
    crossing: str,
) -> None:  # fmt: skip
    """One crossing's measure at a stage, in the crossing's colour: the banded mean and the
    dashed tail."""
    colour = crossing_colour(crossing)
    draw_band(panel, dates, values, colour)
    if tail is not None:
        panel.plot(dates, band_stats(tail)[0], color=colour, lw=0.7, ls="--", alpha=0.7)


def _legend(crossings: list[str], measures: list[Measure]) -> list[Line2D]:
    """A colour per crossing, and what the dashed lines are."""
    handles = [Line2D([], [], color=crossing_colour(c), lw=1.4, label=c) for c in crossings]
    if any(m.tail for m in measures):
        handles.append(Line2D([], [], color="#444444", lw=0.7, ls="--", label=TAIL_LABEL))
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
