"""A layout computed once: margins measured from the figure's own texts, then fixed.

Constrained layout and ``bbox_inches="tight"`` each measure every tick label of every panel
again at each draw (three times per save), most of the time of drawing a figure of panels.
Here the texts are measured once, from their strings and font sizes, and the grid, the figure
height and the titles, legend and note are placed for good: a :class:`PanelFigure` is then saved
as it stands.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.gridspec import GridSpec
from matplotlib.text import Text
from matplotlib.textpath import text_to_path
from matplotlib.ticker import AutoLocator, FixedLocator, MaxNLocator

from simulation.plots.render import PNG_COMPRESSION, paused_gc, saving_with

EDGE_IN = 0.1  # blank margin at each edge (the padding bbox_inches="tight" leaves)
GAP_IN = 0.15  # between one panel's labels and its neighbour
LINE = 1.25  # height of a line of text, in font sizes


class PanelFigure(Figure):
    """A figure laid out by :func:`fix_layout`: every artist lies inside it, so it is saved
    as it stands. ``bbox_inches="tight"`` would only trim the blank edge, at the price of a
    second full draw and a measure of every artist, so it is not applied. ``panel_grid`` is
    the grid of its panels and the height of each row (inches)."""

    panel_grid: tuple[GridSpec, list[float]] | None = None

    def savefig(self, fname: Any, *, transparent: bool | None = None, **kwargs: Any) -> None:
        """Save as laid out (no garbage collection meanwhile: see :func:`paused_gc`)."""
        with paused_gc():
            self._save(fname, transparent, **kwargs)

    def _save(self, fname: Any, transparent: bool | None, **kwargs: Any) -> None:
        if kwargs.get("bbox_inches") == "tight":
            kwargs["bbox_inches"] = None
        if not _is_png(fname, kwargs.get("format")):
            super().savefig(fname, transparent=transparent, **kwargs)
            return
        kwargs.setdefault("pil_kwargs", {"compress_level": PNG_COMPRESSION})
        saving_with(self, lambda: super(PanelFigure, self).savefig(fname, transparent=transparent,
                                                                   **kwargs))  # fmt: skip


def _is_png(fname: Any, fmt: str | None) -> bool:
    """Whether savefig will write a PNG (a format given, or the file's suffix, or the
    default format)."""
    if fmt is None and isinstance(fname, (str, os.PathLike)):
        fmt = os.path.splitext(os.fspath(fname))[1][1:] or None
    return str(fmt or mpl.rcParams["savefig.format"]).lower() == "png"


@lru_cache(maxsize=4096)
def text_width_in(text: str, size_pt: float) -> float:
    """Width (inches) of a line of text in the default font at ``size_pt`` points."""
    if not text:
        return 0.0
    width_pt = text_to_path.get_text_width_height_descent(text, FontProperties(size=size_pt),
                                                          ismath=False)[0]  # fmt: skip
    return float(width_pt) / 72


def text_height_in(text: Text | None) -> float:
    """Height (inches) of a text's lines (0 if it is absent, empty or hidden)."""
    if text is None or not text.get_visible() or not text.get_text():
        return 0.0
    return (text.get_text().count("\n") + 1) * LINE * float(text.get_fontsize()) / 72


def _block_width_in(text: Text) -> float:
    size = float(text.get_fontsize())
    return max(text_width_in(line, size) for line in text.get_text().split("\n"))


def _tick_band_in(axis: str) -> float:
    """Tick length plus label pad (inches) of the ``axis`` ("x" or "y")."""
    rc = mpl.rcParams
    if axis == "x":
        return float(rc["xtick.major.size"] + rc["xtick.major.pad"]) / 72
    return float(rc["ytick.major.size"] + rc["ytick.major.pad"]) / 72


def fix_ticks(ax: Axes, which: str = "y") -> None:
    """Fix the ticks of the ``which`` ("x" or "y") axis of ``ax`` (if matplotlib would choose
    them) at up to five nice values within its limits: matplotlib makes a tick object (five
    artists) for every value its locator gives, in view or not, and asks the locator again at
    every draw."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    if not isinstance(axis.get_major_locator(), AutoLocator):
        return
    low, high = ax.get_ylim() if which == "y" else ax.get_xlim()
    found = MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    span = abs(high - low) * 1e-9
    lo, hi = min(low, high) - span, max(low, high) + span
    axis.set_major_locator(FixedLocator([t for t in found if lo <= t <= hi]))


def left_in(ax: Axes) -> float:
    """What sticks out left of ``ax``: its y tick labels (as drawn now) and y label."""
    labels = [t for t in ax.yaxis.get_ticklabels() if t.get_text()]
    if not labels or not ax.yaxis.get_tick_params()["labelleft"]:
        width = 0.0
    else:
        width = max(_block_width_in(t) for t in labels) + _tick_band_in("y")
    return width + text_height_in(ax.yaxis.label) + (0.05 if ax.yaxis.label.get_text() else 0)


def below_in(ax: Axes) -> float:
    """What hangs below ``ax``: x tick labels, their offset (a year) and the x label."""
    labels = [t for t in ax.xaxis.get_ticklabels() if t.get_text()]
    if not labels or not ax.xaxis.get_tick_params()["labelbottom"]:
        return 0.0
    height = max(text_height_in(t) for t in labels) + _tick_band_in("x")
    offset = ax.xaxis.get_major_formatter().get_offset()  # set on the axis only when drawn
    if offset:
        height += LINE * float(ax.xaxis.get_offset_text().get_fontsize()) / 72
    return height + text_height_in(ax.xaxis.label)


def above_in(ax: Axes) -> float:
    """The height of the titles over ``ax`` (with their pad)."""
    titles = [getattr(ax, name) for name in ("title", "_left_title", "_right_title")]
    tallest = max(text_height_in(t) for t in titles)
    return tallest + mpl.rcParams["axes.titlepad"] / 72 if tallest else 0.0


def _legend_in(fig: Figure) -> float:
    """Height (inches) of the figure's legends at the top (six entries a row)."""
    heights = [(0.5 + 1.4 * -(-len(legend.texts) // 6)) * legend.prop.get_size_in_points() / 72
               for legend in fig.legends]  # fmt: skip
    return max(heights, default=0.0)


def panel_figure(
    width_in: float, grid_rows_in: Sequence[float], ncols: int
) -> tuple[PanelFigure, GridSpec]:
    """A new :class:`PanelFigure` ``width_in`` wide with a grid of rows ``grid_rows_in`` tall
    (inches) and ``ncols`` columns, to be placed by :func:`fix_layout` once drawn on."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width_in, sum(grid_rows_in) + 1.0), FigureClass=PanelFigure)
    assert isinstance(fig, PanelFigure)
    grid = fig.add_gridspec(len(grid_rows_in), ncols, height_ratios=list(grid_rows_in))
    fig.panel_grid = (grid, list(grid_rows_in))
    return fig, grid


def fix_layout(fig: Figure) -> None:
    """Place the panels of a :class:`PanelFigure` for good (see :func:`fit_grid`); any other
    figure is left as it is (to its layout engine, if it has one)."""
    if isinstance(fig, PanelFigure) and fig.panel_grid is not None:
        fit_grid(fig, *fig.panel_grid)


def fit_grid(fig: Figure, grid: GridSpec, heights_in: Sequence[float]) -> None:
    """Place the axes of ``grid`` (rows ``heights_in`` tall, columns sharing the width) so
    that their labels and titles, the figure's title and legend above and its note below all
    fit without overlapping, and make the figure just as tall."""
    nrows, ncols = grid.get_geometry()
    left, below, above = [0.0] * ncols, [0.0] * nrows, [0.0] * nrows
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        if spec is None or spec.get_gridspec() is not grid:
            continue
        fix_ticks(ax, "x")
        fix_ticks(ax, "y")
        left[spec.colspan.start] = max(left[spec.colspan.start], left_in(ax))
        below[spec.rowspan.stop - 1] = max(below[spec.rowspan.stop - 1], below_in(ax))
        above[spec.rowspan.start] = max(above[spec.rowspan.start], above_in(ax))
    sup = {name: getattr(fig, f"_sup{name}", None) for name in ("title", "xlabel", "ylabel")}
    header = max(text_height_in(sup["title"]), _legend_in(fig))
    top_in = EDGE_IN + header + (GAP_IN if header else 0.0) + above[0]
    bottom_in = EDGE_IN + below[-1] + text_height_in(sup["xlabel"])
    left_edge = EDGE_IN + text_height_in(sup["ylabel"]) + left[0]
    gap_w = max(left[1:], default=0.0) + GAP_IN
    gap_h = max((below[r] + above[r + 1] for r in range(nrows - 1)), default=0.0) + GAP_IN
    width, _ = fig.get_size_inches()
    height = top_in + bottom_in + sum(heights_in) + gap_h * (nrows - 1)
    fig.set_size_inches(width, height)
    column = (width - left_edge - EDGE_IN - 0.1 - gap_w * (ncols - 1)) / ncols
    grid.update(left=left_edge / width, right=1 - (EDGE_IN + 0.1) / width,
                top=1 - top_in / height, bottom=bottom_in / height,
                wspace=gap_w / column, hspace=gap_h * nrows / sum(heights_in))  # fmt: skip
    _place_sup(sup, width, height)


def _place_sup(sup: dict[str, Text | None], width: float, height: float) -> None:
    """The figure's title at its top left, the note at its bottom left, the y label at its
    left edge."""
    if sup["title"] is not None:
        sup["title"].set_y(1 - EDGE_IN / height)
        sup["title"].set_verticalalignment("top")
    if sup["xlabel"] is not None:
        sup["xlabel"].set_y(EDGE_IN / height)
        sup["xlabel"].set_verticalalignment("bottom")
    if sup["ylabel"] is not None:
        sup["ylabel"].set_x(EDGE_IN / width)
        sup["ylabel"].set_horizontalalignment("left")
