"""The frames registry: every frame a run produces, how it is made, and its date columns.

A frame is either built from one replication's raw records (``build``, then stacked across
replications) or derived from the stacked frames (``derive``). The written frames, in order, are
:data:`FRAME_NAMES`; ``visits`` is built per replication only to feed the outcomes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from simulation.engine.records import RawRun
from simulation.outputs import frames
from simulation.outputs.analytic import add_utilisation
from simulation.outputs.summary import outcomes, summarise, with_dates

Builder = Callable[[RawRun], pd.DataFrame]
Deriver = Callable[[Mapping[str, pd.DataFrame], dt.date], pd.DataFrame]


@dataclass(frozen=True)
class FrameSpec:
    """One frame: made by exactly one of ``build`` (from a RawRun) or ``derive`` (from the
    frames before it and the calendar start); ``dates`` are its date/time columns."""

    name: str
    description: str
    dates: tuple[str, ...] = ()
    build: Builder | None = None
    derive: Deriver | None = None
    written: bool = True

    def __post_init__(self) -> None:
        if (self.build is None) == (self.derive is None):
            raise ValueError(f"frame {self.name}: give exactly one of build and derive")


def _daily_stage(raw: RawRun) -> pd.DataFrame:
    return add_utilisation(frames.daily_stage(raw), raw.scenario)


def _outcomes(built: Mapping[str, pd.DataFrame], start: dt.date) -> pd.DataFrame:
    return outcomes(built["daily_stage"], built["returns"], built["stocks"], built["visits"])


def _summary(built: Mapping[str, pd.DataFrame], start: dt.date) -> pd.DataFrame:
    return with_dates(summarise(built["outcomes"]), start)


FRAME_SPECS: tuple[FrameSpec, ...] = (
    FrameSpec("daily_stage", "Per day, crossing and stage: flows, queue, waits, utilisation.",
              ("date",), build=_daily_stage),
    FrameSpec("hourly_queue", "Queue at the top of every hour, per crossing and stage.",
              ("time",), build=frames.hourly_queue),
    FrameSpec("returns", "Households and persons returned per day, crossing, group and mode.",
              ("date",), build=frames.returns),
    FrameSpec("stocks", "Persons of each group in each state at the end of every day, and "
              "persons arrested that day.",
              ("date",), build=frames.stocks),
    FrameSpec("who_waits", "Waits by crossing, stage, group, mode and vulnerability.",
              build=frames.who_waits),
    FrameSpec("visits", "Outcomes that need every stage visit (feeds outcomes; not written).",
              build=frames.visit_outcomes, written=False),
    FrameSpec("outcomes", "Every outcome per replication, long format.", derive=_outcomes),
    FrameSpec("summary", "Mean, 95% CI, unit and direction of each outcome.",
              ("mean_date",), derive=_summary),
)  # fmt: skip

FRAME_NAMES: tuple[str, ...] = tuple(s.name for s in FRAME_SPECS if s.written)
"""The written frames, in order (the fields of ``Results`` and the files of a results folder)."""

DATE_COLUMNS: dict[str, tuple[str, ...]] = {s.name: s.dates for s in FRAME_SPECS if s.written}
"""Date/time columns of each written frame (to parse when reading csv back)."""


def build_frames(raw: RawRun, replication: int) -> dict[str, pd.DataFrame]:
    """Every frame built from one replication's records, with a leading ``replication`` column.

    ``run_model`` has freed the run's reference cycles (``engine.run._quiet_gc``), so no
    garbage of the run is held while the frames are made."""
    built = {}
    for spec in FRAME_SPECS:
        if spec.build is not None:
            frame = spec.build(raw)
            frame.insert(0, "replication", replication)
            built[spec.name] = frame
    return built


def assemble_frames(
    parts: list[dict[str, pd.DataFrame]], start: dt.date
) -> dict[str, pd.DataFrame]:
    """The written frames, in order: built frames stacked over replications, then derived ones."""
    made: dict[str, pd.DataFrame] = {}
    for spec in FRAME_SPECS:
        if spec.build is not None:
            made[spec.name] = pd.concat([p[spec.name] for p in parts], ignore_index=True)
        elif spec.derive is not None:
            made[spec.name] = spec.derive(made, start)
    return {name: made[name] for name in FRAME_NAMES}
