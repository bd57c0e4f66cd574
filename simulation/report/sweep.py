"""A sweep's section: its design and response curves (outcomes against each lever or
uncertainty), from ``experiments.parquet``: one row per run, one column per design key and per
outcome, e.g. ``worst_day_p95_wait_hours[torkham/reception]``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simulation.report.figures import off_screen
from simulation.report.folder import Folder
from simulation.report.html import Html, el, figure, interval, join, number, table
from simulation.theory import t_quantile_975

TOTAL_RETURNS = "persons_returned[all/all]"
HARDSHIPS = ("worst_day_p95_wait_hours[", "persons_stranded_by_closures[",
             "persons_queued_overnight[")  # fmt: skip
MAX_KEYS = 6  # response figures (one per design key)


def design_keys(frame: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    """The levers and uncertainties of the sweep that are columns of ``frame``."""
    keys: list[str] = []
    for role in ("levers", "uncertainties"):
        given = manifest.get(role)
        if isinstance(given, dict):
            keys += [str(k) for k in given if str(k) in frame.columns]
    return keys


def response_outcomes(frame: pd.DataFrame) -> list[str]:
    """Total returns, and for each hardship the column with the largest mean (if above 0)."""
    chosen = [TOTAL_RETURNS] if TOTAL_RETURNS in frame.columns else []
    for prefix in HARDSHIPS:
        columns = [c for c in frame.columns if str(c).startswith(prefix)]
        means = frame[columns].mean() if columns else pd.Series(dtype=float)
        if not means.empty and means.max() > 0:
            chosen.append(str(means.idxmax()))
    return chosen


def mean_and_interval(values: pd.Series) -> tuple[float, float, float]:
    """Mean and Student-t 95% interval of replications (NaN bounds for one), cut at 0 as in
    the summaries: every outcome is a count, a duration or a day number."""
    data = values.dropna().to_numpy(dtype=float)
    mean = float(data.mean()) if len(data) else float("nan")
    if len(data) < 2:
        return mean, float("nan"), float("nan")
    half = t_quantile_975(len(data) - 1) * float(data.std(ddof=1)) / np.sqrt(len(data))
    return mean, max(mean - half, 0.0), mean + half


def response_figure(frame: pd.DataFrame, key: str, outcomes: list[str]) -> Any:
    """Each outcome against ``key``: every run as a dot, the mean per value as a line."""
    off_screen()
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(outcomes), figsize=(3.6 * len(outcomes), 3.2), squeeze=False)
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        ax.scatter(frame[key], frame[outcome], s=12, alpha=0.5)
        mean = frame.groupby(key)[outcome].mean()
        ax.plot(mean.index, mean.to_numpy(), "-", lw=1.5)
        ax.set_xlabel(key, fontsize="small")
        ax.set_title(outcome, fontsize="small")
    fig.tight_layout()
    return fig


def points_table(frame: pd.DataFrame, keys: list[str], outcomes: list[str]) -> Html:
    """One row per design point: its values and each outcome's mean with its interval."""
    rows = []
    for point, runs in frame.groupby("point", sort=True):
        cells: list[object] = [point, *(runs[k].iloc[0] for k in keys)]
        for outcome in outcomes:
            mean, low, high = mean_and_interval(runs[outcome])
            cells.append(f"{number(mean)} ({interval(low, high)})")
        rows.append(cells)
    header = ["point", *keys, *outcomes]
    return table(header, rows, range(len(keys) + 1, len(header)))


def sweep_section(folder: Folder) -> Html | None:
    """The design points with their outcomes, and a response figure per numeric design key."""
    frame = folder.table("experiments")
    if frame is None or frame.empty or "point" not in frame.columns:
        return None
    keys, outcomes = design_keys(frame, folder.manifest), response_outcomes(frame)
    numeric = [k for k in keys if pd.api.types.is_numeric_dtype(frame[k])][:MAX_KEYS]
    drawn = [key for key in numeric if outcomes and frame[key].nunique() > 1]
    caption = "Outcomes against {} (dots: runs; line: mean per value)."
    curves = [figure(response_figure(frame, k, outcomes), caption.format(k)) for k in drawn]
    runs = f"{len(frame):,} runs: {frame['point'].nunique():,} design points"
    return el(
        "section",
        el("h2", "Sweep: response curves"),
        el("p", runs + ", means with 95% intervals over replications.", class_="note"),
        points_table(frame, keys, outcomes),
        join(curves),
        id="sweep",
    )
