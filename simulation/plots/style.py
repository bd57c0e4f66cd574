"""One look for every figure: group colours, date and count axes, bands, notes, panel grids."""

from __future__ import annotations

import colorsys
import math
import textwrap
import warnings
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

# the groups of the shipped scenarios keep these colours; any other name gets its own colour
# from a hash of the name, so a group has one colour in every figure of every run
GROUP_COLOURS = {
    "acc": "#1f77b4",
    "undocumented": "#ff7f0e",
    "por": "#2ca02c",
    "direct": "#9467bd",
    "returnees": "#8c564b",
    "backlog": "#7f7f7f",
    "total": "#222222",
}
MODE_LINES = {"voluntary": "-", "deported": "--", "direct": ":"}
BAND_ALPHA = 0.22
# panel titles sit at a fixed height (``set_title(..., y=TITLE_Y)``): left to itself matplotlib
# measures every tick of the axes again for each title at every draw, to lift the title over
# ticks or labels on top, a third of the time of drawing a figure of panels; ours have none there
TITLE_Y = 1.0
NOTE_SIZE = "small"


# the crossings of the shipped scenarios (colour-blind safe, apart from the group colours)
CROSSING_COLOURS = {"torkham": "#0072b2", "chaman": "#d55e00"}


def group_colour(group: str) -> str:
    """The fixed colour of a population group (a hex string), the same in every figure."""
    return GROUP_COLOURS.get(str(group).lower()) or _named_colour(str(group))


def crossing_colour(crossing: str) -> str:
    """The fixed colour of a crossing (a hex string), the same in every figure."""
    return CROSSING_COLOURS.get(str(crossing).lower()) or _named_colour(f"crossing {crossing}")


def _named_colour(name: str) -> str:
    """A colour of its own for any name, from a hash of it."""
    code = zlib.crc32(name.encode("utf-8"))
    hue = (code % 360) / 360.0
    lightness = (0.35, 0.45, 0.55)[(code // 360) % 3]
    r, g, b = colorsys.hls_to_rgb(hue, lightness, 0.65)
    return f"#{round(255 * r):02x}{round(255 * g):02x}{round(255 * b):02x}"


def count_label(value: float, _position: float | None = None) -> str:
    """A tick label for a count with thousands separators (``-1,250``), and as many decimals
    as the value needs (``2.5``, ``0.05``, ``0.0005``), so that ticks a small step apart never
    share a label; a value no tick would have gets three significant digits."""
    for decimals in range(7):
        if abs(value - round(value, decimals)) <= 1e-12 * max(1.0, abs(value)):
            return f"{value:,.{decimals}f}"
    return f"{value:,.{max(0, 2 - math.floor(math.log10(abs(value))))}f}"


def format_counts(ax: Axes, axis: str = "y") -> None:
    """Thousands separators on the tick labels of ``axis`` ("x" or "y")."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(count_label))


DATE_LOCATOR = mdates.AutoDateLocator(minticks=3, maxticks=9)


def format_dates(ax: Axes) -> None:
    """The one date style of every time axis: concise dates (month names, the year once)."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def replications(frame: pd.DataFrame) -> list[int]:
    """The replication numbers of a frame (one, numbered 0, if it has no such column)."""
    if "replication" not in frame.columns or frame.empty:
        return [0]
    return sorted(int(r) for r in frame["replication"].unique())


def daily_series(
    frame: pd.DataFrame, keys: Sequence[str], value: str, fill: float = 0.0
) -> tuple[pd.DatetimeIndex, list[tuple[str, ...]], np.ndarray]:
    """Daily ``value`` per series (one per combination of ``keys``) and replication, summed over
    any other columns: dates, series in order of first appearance, and an array
    (series, replication, date) in which a day missing from the frame (or only missing values)
    is ``fill``."""
    day = pd.to_datetime(frame["date"]).to_numpy(dtype="datetime64[D]")
    if len(day) == 0:
        return pd.DatetimeIndex([]), [], np.zeros((0, 1, 0))
    first = day.min()
    day_code = (day - first).astype(np.int64)
    n_days = int(day_code.max()) + 1
    dates = pd.date_range(pd.Timestamp(first), periods=n_days, freq="D")
    keyed = frame[list(keys)].astype(str)
    series_code = keyed.groupby(list(keys), sort=False).ngroup().to_numpy()
    series = list(keyed.drop_duplicates().itertuples(index=False, name=None))
    reps = replications(frame)
    rep = frame["replication"].to_numpy() if "replication" in frame else np.zeros(len(frame))
    rep_code = np.searchsorted(reps, rep)
    flat = (series_code * len(reps) + rep_code) * n_days + day_code
    raw = frame[value].to_numpy(dtype=float)
    seen = ~np.isnan(raw)
    size = len(series) * len(reps) * n_days
    sums = np.bincount(flat[seen], weights=raw[seen], minlength=size)
    counts = np.bincount(flat[seen], minlength=size)
    values = np.where(counts > 0, sums, fill)
    return dates, series, values.reshape(len(series), len(reps), n_days)


def nan_quantiles(values: np.ndarray, qs: Sequence[float], axis: int = -2) -> list[np.ndarray]:
    """Quantiles ``qs`` along ``axis`` ignoring NaN (linear interpolation, as numpy's
    default); NaN where every value is missing. Vectorised: ``np.nanquantile`` loops."""
    ordered = np.sort(np.moveaxis(values, axis, -1), axis=-1)  # NaN sort last
    n = (~np.isnan(ordered)).sum(axis=-1)
    out = []
    for q in qs:
        pos = q * np.maximum(n - 1, 0)
        low = np.floor(pos).astype(np.int64)
        high = np.minimum(low + 1, np.maximum(n - 1, 0))
        a = np.take_along_axis(ordered, low[..., None], -1)[..., 0]
        b = np.take_along_axis(ordered, high[..., None], -1)[..., 0]
        out.append(np.where(n > 0, a + (b - a) * (pos - low), np.nan))
    return out


def band_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and the 5% and 95% quantiles across replications (axis -2), ignoring missing days."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=-2)
    low, high = nan_quantiles(values, [0.05, 0.95])
    return mean, low, high


def draw_band(
    ax: Axes,
    dates: pd.DatetimeIndex,
    values: np.ndarray,
    colour: str,
    label: str | None = None,
    linestyle: Any = "-",
) -> None:
    """A mean line of (replication, date) ``values`` with its 5-95% band (if several
    replications); ``label`` None keeps the line out of the legend."""
    mean, low, high = band_stats(values)
    ax.plot(dates, mean, color=colour, lw=1.4, ls=linestyle, label=label or "_nolegend_")
    if values.shape[0] > 1:
        ax.fill_between(dates, low, high, color=colour, alpha=BAND_ALPHA, lw=0)


def band_title(frame: pd.DataFrame) -> str:
    """What the lines and bands are, for a figure title."""
    n = len(replications(frame))
    if n == 1:
        return "one replication"
    return f"line: mean of {n} replications; band: 5-95% of them"


def add_note(target: Figure | Axes, text: str) -> None:
    """A short note under a figure or under one axes (below its tick labels), wrapped; it
    never covers data."""
    text = textwrap.fill(text, 150 if isinstance(target, Figure) else 110)
    if isinstance(target, Figure):
        label = target.supxlabel(text, x=0.01, ha="left", fontsize=NOTE_SIZE, color="#444444")
        label.set_gid("note")
    else:
        target.annotate(text, (0.0, 0.0), xycoords="axes fraction", xytext=(0, -42),
                        textcoords="offset points", va="top", ha="left", fontsize="x-small",
                        color="#444444", gid="note")  # fmt: skip


def figure_legend(fig: Figure, handles: Sequence[Artist]) -> None:
    """A legend for a whole figure above its panels (never over a curve)."""
    outside = isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    fig.legend(handles=handles, loc="outside upper right" if outside else "upper right",
               ncol=min(len(handles), 6), fontsize="small", frameon=False)  # fmt: skip


def outside_legend(ax: Axes, handles: Sequence[Artist] | None = None) -> None:
    """The legend of one axes to its right, where it covers no curve."""
    extra = {} if handles is None else {"handles": handles}
    ax.legend(**extra, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              frameon=False)  # fmt: skip


def group_handles(groups: Iterable[str], extra: Sequence[tuple[str, str]] = ()) -> list[Artist]:
    """Legend handles of group colours; ``extra`` adds (label, colour) entries."""
    entries = [(g, group_colour(g)) for g in groups] + list(extra)
    return [Line2D([], [], color=c, lw=2, label=label) for label, c in entries]
