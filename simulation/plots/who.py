"""Who waits: mean wait by group, mode and vulnerability at the stages where it differs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simulation.plots.fixed import fix_layout, panel_figure
from simulation.plots.layout import column_cells, single_axes
from simulation.plots.style import (
    TITLE_Y,
    add_note,
    figure_legend,
    group_colour,
    group_handles,
    outside_legend,
    replications,
)

CLASS_KEYS = ["group", "mode", "vulnerable"]
STAGE_KEYS = ["crossing", "stage"]
DIFFER_HOURS = 5 / 60  # classes' mean waits further apart than this (and 25%) differ
DIFFER_SHARE = 0.25
MIN_HOUSEHOLDS = 10  # a class needs this many households per replication to count as differing
ALL_COLOUR = "#555555"
ROW_IN = 0.3  # height of a row of classes (inches)


def class_waits(who_waits: pd.DataFrame) -> pd.DataFrame:
    """Per crossing, stage and class (group, mode, vulnerable): the mean across replications of
    the class's mean wait with its 5% and 95% quantiles (hours), and households per
    replication."""
    by = who_waits.groupby([*STAGE_KEYS, *CLASS_KEYS], sort=False)
    reps = len(replications(who_waits))
    waits = by["mean_wait_hours"]
    out = pd.DataFrame(
        {"mean": waits.mean(), "low": waits.quantile(0.05), "high": waits.quantile(0.95)}
    )
    out["households"] = by["households"].sum() / reps
    return out.reset_index()


def stage_waits(who_waits: pd.DataFrame) -> pd.Series:
    """Every household's mean wait per crossing and stage (hours; mean across replications)."""
    weighted = who_waits.assign(total=who_waits["mean_wait_hours"] * who_waits["households"])
    rep = weighted.groupby([*STAGE_KEYS, "replication"] if "replication" in weighted else
                           STAGE_KEYS, sort=False)[["total", "households"]].sum()  # fmt: skip
    return (rep["total"] / rep["households"]).groupby(level=STAGE_KEYS, sort=False).mean()


def differing_stages(classes: pd.DataFrame, overall: pd.Series) -> list[tuple[str, str]]:
    """Stages where the classes' mean waits differ: further apart than :data:`DIFFER_HOURS`
    and :data:`DIFFER_SHARE` of the stage's mean wait, among classes with enough households."""
    chosen = []
    for key, block in classes.groupby(STAGE_KEYS, sort=False):
        big = block[block["households"] >= MIN_HOUSEHOLDS]["mean"]
        spread = float(big.max() - big.min()) if len(big) > 1 else 0.0
        if spread > max(DIFFER_HOURS, DIFFER_SHARE * float(overall.get(key, 0.0))):
            chosen.append((str(key[0]), str(key[1])))
    return chosen


def _class_label(mode: str, vulnerable: object) -> str:
    return f"{mode}, vulnerable" if bool(vulnerable) else mode


def _draw_stage(ax: Axes, block: pd.DataFrame, top: int, prefix: str = "") -> list[str]:
    """Dots with 5-95% bars for one stage's classes, on rows from ``top`` down (the bars one
    collection, the dots one line of markers per group); the row labels."""
    classes = [_class_label(m, v) for m, v in zip(block["mode"], block["vulnerable"], strict=True)]
    labels = list(dict.fromkeys(classes))
    groups = list(dict.fromkeys(block["group"]))
    step = 0.6 / max(len(groups), 1)
    group = np.array([groups.index(g) for g in block["group"]], dtype=int)
    y = top + np.array([labels.index(c) for c in classes]) + (group - (len(groups) - 1) / 2) * step
    low, high = block["low"].to_numpy(float), block["high"].to_numpy(float)
    bars = np.stack([np.column_stack([low, y]), np.column_stack([high, y])], axis=1)
    colours = [group_colour(str(groups[g])) for g in group]
    ax.add_collection(LineCollection(list(bars), colors=colours, lw=1.5, alpha=0.6))
    mean = block["mean"].to_numpy(float)
    for g, name in enumerate(groups):
        ax.plot(mean[group == g], y[group == g], "o", color=group_colour(str(name)), ms=5)
    return [f"{prefix}{label}" for label in labels]


def plot_who_waits(
    who_waits: pd.DataFrame, ax: Axes | None = None, *,
    stages: Sequence[tuple[str, str]] | None = None, fig: Figure | None = None,
) -> Figure:  # fmt: skip
    """Mean wait (hours) of each group, mode and vulnerability class at the stages where the
    classes wait differently (or at ``stages``): a dot per group at the mean across
    replications, a bar over its 5-95% range, and a dashed line at every household's mean
    wait there; one panel per stage (with ``ax``, all stages on that axes). Stages where all
    wait alike are named in a note."""
    classes = class_waits(who_waits)
    overall = stage_waits(who_waits)
    chosen = list(stages) if stages is not None else differing_stages(classes, overall)
    alike = [k for k in overall.index if k not in chosen]
    note = ""
    if not chosen and alike:  # nowhere do classes differ: show every stage, and say so
        chosen, alike = alike, []
        note = (f"At every stage, every class's mean wait is within {DIFFER_HOURS * 60:.0f} min"
                f" or {DIFFER_SHARE:.0%} of the others")  # fmt: skip
    if alike:
        within = f"{DIFFER_HOURS * 60:.0f} min or {DIFFER_SHARE:.0%}"
        names = "; ".join(f"{c} {s}" for c, s in alike)
        note = f"Not shown (every class's mean wait within {within} of the others): {names}"
    if ax is not None or not chosen:
        return _one_axes(classes, overall, chosen, note, ax, _title(who_waits))
    crossings = list(dict.fromkeys(c for c, _ in chosen))
    cells = column_cells([crossings.index(c) % 3 for c, _ in chosen])
    sizes = [_n_rows(classes[(classes["crossing"] == c) & (classes["stage"] == s)])
             for c, s in chosen]  # fmt: skip
    nrows = max(r for r, _ in cells) + 1
    ratios = [max(n for n, (r, _) in zip(sizes, cells, strict=True) if r == row) + 1.5
              for row in range(nrows)]  # fmt: skip
    ncols = max(c for _, c in cells) + 1
    if fig is None:
        fig, grid = panel_figure(10.0, [ROW_IN * r for r in ratios], ncols)
    else:
        grid = fig.add_gridspec(nrows, ncols, height_ratios=ratios)
    for (crossing, stage), (row, col) in zip(chosen, cells, strict=True):
        panel = fig.add_subplot(grid[row, col])
        block = classes[(classes["crossing"] == crossing) & (classes["stage"] == stage)]
        _finish(panel, _draw_stage(panel, block, 0), float(overall.get((crossing, stage), np.nan)))
        panel.set_title(f"{crossing} · {stage}", loc="left", fontsize="small", y=TITLE_Y)
    fig.suptitle(_title(who_waits), x=0.01, ha="left", fontsize="medium")
    groups = list(dict.fromkeys(classes["group"]))
    figure_legend(fig, [*group_handles(groups), _all_handle()])
    if note:
        add_note(fig, note)
    fix_layout(fig)
    return fig


def _n_rows(block: pd.DataFrame) -> int:
    return len(set(zip(block["mode"], block["vulnerable"], strict=True)))


def _title(who_waits: pd.DataFrame) -> str:
    n = len(replications(who_waits))
    spread = "one replication" if n == 1 else f"dot: mean of {n} replications; bar: 5-95% of them"
    return f"Who waits: mean wait by group, mode and vulnerability\n{spread}"


def _all_handle() -> Line2D:
    return Line2D([], [], color=ALL_COLOUR, ls="--", lw=1, label="all households")


def _finish(ax: Axes, labels: list[str], overall: float, top: int = 0) -> None:
    """Row labels, the all-households line, and an hours axis from zero."""
    ax.set_yticks(range(top, top + len(labels)), labels, fontsize="small")
    if labels:
        ax.set_ylim(top + len(labels) - 0.5, top - 0.5)
    if np.isfinite(overall):
        ax.axvline(overall, color=ALL_COLOUR, ls="--", lw=1)
    ax.set_xlim(left=0)
    ax.set_xlabel("mean wait (hours)")
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)


def _one_axes(
    classes: pd.DataFrame, overall: pd.Series, chosen: list[tuple[str, str]], note: str,
    ax: Axes | None, title: str,
) -> Figure:  # fmt: skip
    """Every chosen stage's classes as rows of one axes (stage name before each row)."""
    fig, ax = single_axes(ax)
    labels: list[str] = []
    for crossing, stage in chosen:
        block = classes[(classes["crossing"] == crossing) & (classes["stage"] == stage)]
        top = len(labels)
        labels += _draw_stage(ax, block, top, f"{crossing} · {stage}: ")
        mean = float(overall.get((crossing, stage), np.nan))
        ax.plot([mean, mean], [top - 0.4, len(labels) - 0.6], color=ALL_COLOUR, ls="--", lw=1)
    _finish(ax, labels, np.nan)
    groups = list(dict.fromkeys(classes["group"]))
    outside_legend(ax, [*group_handles(groups), _all_handle()])
    ax.set_title(title, fontsize="medium")
    if note or not chosen:
        add_note(ax, note or "Nothing to show: no waits")
    return fig
