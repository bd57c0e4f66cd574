"""Reading a results folder for a report: its manifest, its tables and its resolved scenario.

Every problem is a :class:`ReportError` whose ``str()`` is one line naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.folders import MANIFEST
from simulation.outputs.summary import KEYS
from simulation.scenario.errors import clip, printable

TEXT_COLUMNS = (*KEYS, "variant", "unit", "direction")  # empty in a csv means "", not NaN


class ReportError(ValueError):
    """A report that cannot be made or written; ``str()`` is one line; nothing was changed."""


@dataclass
class Folder:
    """A results folder written by repatsim: where it is, its manifest and its kind."""

    path: Path
    manifest: dict[str, Any]
    cache: dict[str, pd.DataFrame | None] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``run``, ``compare``, ``size`` or ``sweep`` (a run's manifest names no kind)."""
        kind = self.manifest.get("kind")
        return kind if isinstance(kind, str) else "run"

    def has(self, name: str) -> bool:
        """Whether the folder holds ``name`` (a file name relative to it)."""
        return (self.path / name).is_file()

    def table(self, name: str) -> pd.DataFrame | None:
        """The table ``name`` (from ``name.parquet`` or ``name.csv``), or None if absent."""
        if name not in self.cache:
            self.cache[name] = _read_table(self.path, name)
        return self.cache[name]


def open_folder(path: str | Path) -> Folder:
    """The results folder at ``path``; :class:`ReportError` unless repatsim wrote it."""
    folder = Path(path)
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise ReportError(f"{folder}: {what}; give a results folder written by repatsim")
    manifest = _read_manifest(folder / MANIFEST)
    return Folder(folder, manifest)


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ReportError(f"{path.parent}: has no {MANIFEST}; it is not a repatsim results folder")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: cannot be read ({reason(exc)})") from None
    if not isinstance(manifest, dict) or manifest.get("package") != "repatsim":
        raise ReportError(f'{path}: is not a repatsim manifest (no "package": "repatsim")')
    return manifest


def _read_table(folder: Path, name: str) -> pd.DataFrame | None:
    """A table of the folder with its text columns as text ('' where empty)."""
    parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
    path = parquet if parquet.is_file() else csv
    if not path.is_file():
        return None
    try:
        frame = pd.read_parquet(path) if path == parquet else pd.read_csv(path)
    except (OSError, ValueError, ImportError) as exc:
        raise ReportError(f"{path}: cannot be read ({reason(exc)})") from None
    for column in TEXT_COLUMNS:
        if column in frame.columns:
            frame[column] = frame[column].fillna("").astype(str)
    return frame


def reason(exc: BaseException) -> str:
    """An exception's message on one short line."""
    return printable(clip(str(exc) or type(exc).__name__, 160))
