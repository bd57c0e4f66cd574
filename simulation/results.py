"""The Results container: tidy frames plus a manifest; writing and reading results folders.

Writing goes through :func:`simulation.folders.write_folder`: atomic, and never deleting a file
that repatsim did not write.
"""

from __future__ import annotations

import json
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
    figures: dict[str, Any] | None = None,
) -> Path:
    """Write frames, manifest, resolved scenario and figures into ``out_dir``.

    ``out_dir`` must be new, empty, or a results folder repatsim wrote (see
    :func:`check_destination`); otherwise :class:`ResultsFolderError` is raised and nothing is
    touched. Everything is written to a temporary sibling folder first and moved into place at
    the end, so an interrupted run never leaves a half-written results folder (an older one stays
    whole); temporary folders left by killed runs are removed first.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format(={fmt!r}) must be 'csv' or 'parquet'.")

    def write(tmp: Path) -> list[str]:
        return _write_files(tmp, results, scenario_yaml, fmt, figures)

    return write_folder(out_dir, write, results.manifest)


def _write_files(
    tmp: Path, results: Results, scenario_yaml: str, fmt: str, figures: dict[str, Any] | None
) -> list[str]:
    """Write everything but the manifest into ``tmp``; return the relative paths written."""
    files = []
    for name, frame in results.frames().items():
        if fmt == "csv":
            frame.to_csv(tmp / f"{name}.csv", index=False)
        else:
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        files.append(f"{name}.{fmt}")
    (tmp / RESOLVED).write_text(scenario_yaml, encoding="utf-8")
    files.append(RESOLVED)
    if figures:
        (tmp / PLOTS).mkdir()
        for name, figure in figures.items():
            figure.savefig(tmp / PLOTS / f"{name}.png", dpi=120, bbox_inches="tight")
            files.append(f"{PLOTS}/{name}.png")
    return files


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
