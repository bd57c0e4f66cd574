"""The Results container: tidy frames plus a manifest; writing and reading results folders.

Writing goes through :func:`simulation.folders.write_folder`: atomic, and never deleting a file
that repatsim did not write.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.folders import MANIFEST, ResultsFolderError, check_destination, write_folder
from simulation.outputs.registry import DATE_COLUMNS, FRAME_NAMES

FRAMES = FRAME_NAMES
RESOLVED = "scenario.resolved.yaml"
PLOTS = "plots"


@dataclass
class Results:
    """Tidy frames of one or many replications, each with a ``replication`` column."""

    daily_stage: pd.DataFrame
    hourly_queue: pd.DataFrame
    returns: pd.DataFrame
    stocks: pd.DataFrame
    who_waits: pd.DataFrame
    outcomes: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The frames by name."""
        return {name: getattr(self, name) for name in FRAMES}


def write_results(
    results: Results,
    out_dir: str | Path,
    scenario_yaml: str,
    fmt: str = "csv",
    figures: Mapping[str, Any] | None = None,
    two_cores: bool = False,
) -> Path:
    """Write frames, manifest, resolved scenario and figures into ``out_dir``.

    ``figures`` maps file names to matplotlib figures, or to functions drawing them (drawn,
    saved and closed one at a time). With ``two_cores``, where the process can fork safely
    (Linux, no other thread running), a forked child draws and saves half of the figures
    while this process writes the tables and the other half; a figure the child fails to
    write fails the whole write (an ``OSError``), as one written here would.

    ``out_dir`` must be new, empty, or a results folder repatsim wrote (see
    :func:`check_destination`); otherwise :class:`ResultsFolderError` is raised and nothing is
    touched. Everything is written to a temporary sibling folder first and moved into place at
    the end, so an interrupted run never leaves a half-written results folder (an older one stays
    whole); temporary folders left by killed runs are removed first.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format(={fmt!r}) must be 'csv' or 'parquet'.")

    def write(tmp: Path) -> list[str]:
        return _write_files(tmp, results, scenario_yaml, fmt, dict(figures or {}), two_cores)

    return write_folder(out_dir, write, results.manifest)


def _write_files(
    tmp: Path,
    results: Results,
    scenario_yaml: str,
    fmt: str,
    figures: dict[str, Any],
    two_cores: bool,
) -> list[str]:
    """Write everything but the manifest into ``tmp``; return the relative paths written."""
    if figures:
        (tmp / PLOTS).mkdir()
    names = list(figures)
    split = len(names) // 2 if two_cores and len(names) > 1 and _can_fork() else 0
    child = _fork(lambda: _save_figures(tmp, {n: figures[n] for n in names[:split]}), split)
    try:
        files = []
        for name, frame in results.frames().items():
            if fmt == "csv":
                frame.to_csv(tmp / f"{name}.csv", index=False)
            else:
                frame.to_parquet(tmp / f"{name}.parquet", index=False)
            files.append(f"{name}.{fmt}")
        (tmp / RESOLVED).write_text(scenario_yaml, encoding="utf-8")
        files.append(RESOLVED)
        _save_figures(tmp, {n: figures[n] for n in names[split:]})
    finally:
        _join(child)
    return files + [f"{PLOTS}/{name}.png" for name in names]


def _save_figures(tmp: Path, figures: dict[str, Any]) -> None:
    """Save each figure (drawing it first if it is a function) as ``plots/<name>.png``;
    figures drawn here are closed once saved."""
    for name, figure in figures.items():
        drawn = figure() if callable(figure) else figure
        drawn.savefig(tmp / PLOTS / f"{name}.png", dpi=120, bbox_inches="tight")
        if callable(figure):
            import matplotlib.pyplot as plt

            plt.close(drawn)


def _can_fork() -> bool:
    """Can this process fork a child to draw figures? Only on Linux (fork is the default
    there and safe) and only while no other thread runs (a lock another thread holds at the
    fork stays held for ever in the child)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _fork(work: Callable[[], None], wanted: int) -> int | None:
    """Run ``work`` in a forked child (when ``wanted``); the child's pid, or None."""
    if not wanted:
        return None
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:  # the child: do the work and leave at once, whatever happens
        work()
        status = 0
    except BaseException as exc:  # any failure: reported to the parent by the exit status
        print(f"error: drawing a figure failed: {exc}", file=sys.stderr)
    finally:
        os._exit(status)


def _join(pid: int | None) -> None:
    """Wait for the child drawing figures; an ``OSError`` if it failed."""
    if pid is None:
        return
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError("a figure could not be drawn (see the line above)")


def read_results(out_dir: str | Path) -> Results:
    """Load a results folder written by :func:`write_results` (csv or parquet)."""
    folder = Path(out_dir)
    frames: dict[str, pd.DataFrame] = {}
    for name in FRAMES:
        parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
        if parquet.exists():
            frames[name] = pd.read_parquet(parquet)
        elif csv.exists() or name != "who_waits":  # older folders have no who_waits
            frames[name] = pd.read_csv(
                csv, parse_dates=list(DATE_COLUMNS[name]), keep_default_na=name != "who_waits"
            )
        else:
            frames[name] = pd.DataFrame()
    manifest = json.loads((folder / MANIFEST).read_text())
    return Results(**frames, manifest=manifest)


__all__ = ["Results", "ResultsFolderError", "check_destination", "read_results", "write_results"]
