"""Observed figures (``data/observed/returns.csv``): read, checked, and one counting series taken.

Every row keeps its place in the file (``row_id`` = ``returns.csv:LINE``), its counting series and
its source grade, both read from the ``notes`` column (``series=UN; source_type=un; ...``). The
three series (UN, PK_KP, PK_official) count different things and are never mixed: callers take
one with :func:`one_series`.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from simulation.scenario.errors import clip, printable

COLUMNS = (
    "date_start", "date_end", "crossing", "population_group", "metric", "value", "unit",
    "source_title", "notes",
)  # fmt: skip
DEFAULT_SERIES = "UN"
GRADES = {"un": 1, "wire": 2, "press": 3, "copy": 4}  # source_type -> grade, 1 best
UNGRADED = 9
_TAG = re.compile(r"(?:^|;)\s*(series|source_type)=([^;]*)")


class ObservedError(ValueError):
    """A bad observed-data file or selection; ``str()`` is one line (file, line, column, what)."""


def default_observed() -> Path:
    """The repository's ``data/observed/returns.csv`` (beside the package in a source tree)."""
    return Path(__file__).resolve().parents[2] / "data" / "observed" / "returns.csv"


def read_observed(path: str | Path) -> pd.DataFrame:
    """The rows of an observed returns file, checked, with ``row_id``, ``line``, ``series``,
    ``source_type`` and ``grade`` added; raise :class:`ObservedError` (one line) if it is bad."""
    rows = [_checked(path, line, row) for line, row in _records(path)]
    if not rows:
        raise ObservedError(f"{path}: has no rows of observed figures")
    return pd.DataFrame(rows)


def _records(path: str | Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of each data row of the CSV file ``path``."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise ObservedError(
                    f"{path}, line 1: missing column(s) {', '.join(missing)}; an observed returns "
                    f"file has {','.join(COLUMNS)}"
                )
            out, line = [], reader.line_num
            for row in reader:
                out.append((line + 1, row))
                line = reader.line_num
            return out
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ObservedError(printable(f"{path}: cannot be read as a CSV file ({exc})")) from None


def _checked(path: str | Path, line: int, row: Mapping[str, str | None]) -> dict[str, object]:
    """One row with parsed dates and value, or :class:`ObservedError` naming line and column."""

    def bad(column: str, what: str) -> ObservedError:
        value = clip(str(row.get(column) or ""), 60)
        return ObservedError(printable(f"{path}, line {line}, column {column}: {what} "
                                       f"(got {value!r})"))  # fmt: skip

    out: dict[str, object] = {c: (row.get(c) or "").strip() for c in COLUMNS}
    for column in ("date_start", "date_end"):
        try:
            out[column] = dt.date.fromisoformat(str(out[column]))
        except ValueError:
            raise bad(column, "must be a date YYYY-MM-DD") from None
    if out["date_end"] < out["date_start"]:  # type: ignore[operator]
        raise bad("date_end", f"must not be before date_start {out['date_start']}")
    try:
        value = float(str(out["value"]))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise bad("value", "must be a number >= 0")
    tags = dict(_TAG.findall(str(out["notes"])))
    if not tags.get("series", "").strip():
        raise bad("notes", "must start with series=UN, series=PK_KP or series=PK_official")
    source_type = tags.get("source_type", "").strip()
    return out | {
        "value": value, "row_id": f"{Path(path).name}:{line}", "line": line,
        "series": tags["series"].strip(), "source_type": source_type,
        "grade": GRADES.get(source_type, UNGRADED),
    }  # fmt: skip


def one_series(observed: pd.DataFrame, series: str, path: str | Path = "") -> pd.DataFrame:
    """The rows of counting series ``series`` only (never two series at once)."""
    chosen = observed[observed["series"] == series]
    if chosen.empty:
        found = ", ".join(sorted(observed["series"].unique()))
        raise ObservedError(printable(f"{path or 'observed data'}: no rows of series {series!r} "
                                      f"(series there: {found})"))  # fmt: skip
    return chosen.reset_index(drop=True)
