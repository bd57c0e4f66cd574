"""The Results container: tidy frames plus a manifest, and writing them to disk atomically."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

FRAMES = ("daily_stage", "hourly_queue", "returns", "stocks", "outcomes", "summary")


@dataclass
class Results:
    """Tidy frames of one or many replications, each with a ``replication`` column."""

    daily_stage: pd.DataFrame
    hourly_queue: pd.DataFrame
    returns: pd.DataFrame
    stocks: pd.DataFrame
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

    Everything is written to a temporary sibling folder first and moved into place at the end,
    so an interrupted run never leaves a half-written results folder (an older one stays whole).
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format(={fmt!r}) must be 'csv' or 'parquet'.")
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; results are an ordinary folder
    try:
        for name, frame in results.frames().items():
            if fmt == "csv":
                frame.to_csv(tmp / f"{name}.csv", index=False)
            else:
                frame.to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / "manifest.json").write_text(json.dumps(results.manifest, indent=2, default=str))
        (tmp / "scenario.resolved.yaml").write_text(scenario_yaml, encoding="utf-8")
        if figures:
            (tmp / "plots").mkdir()
            for name, figure in figures.items():
                figure.savefig(tmp / "plots" / f"{name}.png", dpi=120, bbox_inches="tight")
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _replace(new: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_results(out_dir: str | Path) -> Results:
    """Load a results folder written by :func:`write_results` (csv or parquet)."""
    folder = Path(out_dir)
    frames: dict[str, pd.DataFrame] = {}
    for name in FRAMES:
        parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
        if parquet.exists():
            frames[name] = pd.read_parquet(parquet)
        else:
            dates = {"daily_stage": ["date"], "returns": ["date"], "stocks": ["date"]}
            frames[name] = pd.read_csv(
                csv, parse_dates=dates.get(name, ["time"] if name == "hourly_queue" else [])
            )
    manifest = json.loads((folder / "manifest.json").read_text())
    return Results(**frames, manifest=manifest)
