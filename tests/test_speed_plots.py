"""The drawing shortcuts give the figures matplotlib would draw without them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.ticker import FixedLocator

from simulation.plots.layout import FixedTickDates, set_span
from simulation.plots.style import TITLE_Y


@pytest.mark.parametrize("days", [3, 20, 90, 365, 800])
def test_fixed_tick_dates_label_as_concise_dates(days: int) -> None:
    """Labels and offset (the year or month shown once) are ConciseDateFormatter's, also when
    asked again, and on an inverted axis."""
    fig, ax = plt.subplots()
    start = pd.Timestamp("2025-01-25")  # 20 days: the offset differs by side
    set_span(ax, (start, start + pd.Timedelta(days=days)))
    formatter = ax.xaxis.get_major_formatter()
    assert isinstance(formatter, FixedTickDates)
    ticks = ax.xaxis.get_majorticklocs()
    plain = mdates.ConciseDateFormatter(FixedLocator(ticks))
    plain.set_axis(ax.xaxis)
    plain._locator.set_axis(ax.xaxis)
    for inverted in (False, False, True, True):  # the same ticks asked again, then inverted
        if inverted:
            ax.xaxis.set_inverted(True)
        assert formatter.format_ticks(ticks) == plain.format_ticks(ticks)
        assert formatter.get_offset() == plain.get_offset()
    plt.close(fig)


def test_fixed_title_height_draws_as_matplotlib_places_it() -> None:
    """A panel title at TITLE_Y lands where matplotlib's own placement puts it."""
    boxes = []
    for y in (None, TITLE_Y):
        fig, ax = plt.subplots(layout="constrained")
        ax.plot(np.arange(10), np.arange(10) * 1000)
        ax.set_title("torkham · gate", loc="left", fontsize="small", y=y)
        fig.canvas.draw()
        boxes.append(ax._left_title.get_window_extent().bounds)
        plt.close(fig)
    assert boxes[0] == boxes[1]
