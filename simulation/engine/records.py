"""Compact run records: typed arrays appended during a run, viewed as numpy afterwards."""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulation.scenario.schema import APPROACH as APPROACH  # the frames' road pseudo-stage
from simulation.scenario.schema import Scenario

# where a person is (stocks); transitions move persons between these
IN_PAKISTAN, DETAINED, TRAVELLING, AT_CROSSING, RETURNED = range(5)
STATES = ("in_pakistan", "detained", "travelling", "at_crossing", "returned")

# how a stage visit ended
SERVED, RENEGED, UNSERVED = 0, 1, 2

# a household's status while in Pakistan
HOME, GONE, ARRESTED = 0, 1, 2

VOLUNTARY, DEPORTED, DIRECT = 0, 1, 2
MODES = ("voluntary", "deported", "direct")


class StageLog:
    """One row per household visit to a stage (times in hours since the start)."""

    __slots__ = ("arrive", "end", "hh", "kind", "leave", "start")

    def __init__(self) -> None:
        self.hh = array("q")
        self.arrive = array("d")
        self.start = array("d")
        self.end = array("d")  # end of service
        self.leave = array("d")  # the server is freed (later than end when blocked)
        self.kind = array("b")

    def add(self, hh: int, arrive: float, start: float, end: float, kind: int, leave: float) -> int:
        """Append a visit and return its row index (``leave`` is inf until the server is freed)."""
        self.hh.append(hh)
        self.arrive.append(arrive)
        self.start.append(start)
        self.end.append(end)
        self.leave.append(leave)
        self.kind.append(kind)
        return len(self.hh) - 1

    def served_adder(self) -> Callable[[int, float, float, float, float], int]:
        """A fast :meth:`add` of a served visit: ``add(hh, arrive, start, end, leave) -> row``
        (the buffers' appends bound once, for a stage that adds a row per visit)."""
        hh, arrive, start = self.hh.append, self.arrive.append, self.start.append
        end, leave, kind, rows = self.end.append, self.leave.append, self.kind.append, self.hh

        def add(household: int, arrived: float, started: float, ended: float, left: float) -> int:
            hh(household)
            arrive(arrived)
            start(started)
            end(ended)
            leave(left)
            kind(SERVED)
            return len(rows) - 1

        return add

    def set_leave(self, index: int, time: float) -> None:
        """The household of visit ``index`` left its server at ``time``."""
        self.leave[index] = time

    def __len__(self) -> int:
        return len(self.hh)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The visits as numpy arrays viewing the record buffers (no copy)."""
        return {name: _view(getattr(self, name)) for name in self.__slots__}


def _view(values: array) -> np.ndarray:
    """A numpy array over an ``array.array``'s buffer (empty arrays get the right dtype)."""
    dtype = {"q": np.int64, "d": np.float64, "b": np.int8}[values.typecode]
    return np.frombuffer(values, dtype=dtype) if len(values) else np.zeros(0, dtype=dtype)


class FlowLog:
    """Transitions of persons between states, and exits across the border."""

    __slots__ = ("dst", "exit_crossing", "exit_hh", "exit_time", "group", "persons", "src", "time")

    def __init__(self) -> None:
        self.time = array("d")
        self.group = array("b")
        self.src = array("b")
        self.dst = array("b")
        self.persons = array("q")
        self.exit_time = array("d")
        self.exit_hh = array("q")
        self.exit_crossing = array("b")

    def move(self, time: float, group: int, src: int, dst: int, persons: int) -> None:
        """Record ``persons`` of ``group`` moving from state ``src`` to ``dst`` at ``time``."""
        self.time.append(time)
        self.group.append(group)
        self.src.append(src)
        self.dst.append(dst)
        self.persons.append(persons)

    def move_many(
        self, time: float, groups: list[int], src: int, dst: int, persons: list[int]
    ) -> None:
        """:meth:`move` for a few transitions from ``src`` to ``dst`` at one ``time`` (lists:
        cheaper than :meth:`move_all`'s numpy for a few)."""
        n = len(groups)
        self.time.fromlist([time] * n)
        self.group.fromlist(groups)
        self.src.frombytes(bytes((src,)) * n)  # int8 codes: a byte each
        self.dst.frombytes(bytes((dst,)) * n)
        self.persons.fromlist(persons)

    def move_all(
        self, time: np.ndarray, group: np.ndarray, src: int, dst: int, persons: np.ndarray
    ) -> None:
        """:meth:`move` for many transitions from ``src`` to ``dst`` at once."""
        self.time.frombytes(np.asarray(time, dtype=np.float64).tobytes())
        self.group.frombytes(np.asarray(group, dtype=np.int8).tobytes())
        self.src.frombytes(np.full(len(time), src, dtype=np.int8).tobytes())
        self.dst.frombytes(np.full(len(time), dst, dtype=np.int8).tobytes())
        self.persons.frombytes(np.asarray(persons, dtype=np.int64).tobytes())

    def exit_all(self, time: np.ndarray, hh: np.ndarray, crossing: int) -> None:
        """:meth:`exit` for many households at once."""
        self.exit_time.frombytes(np.asarray(time, dtype=np.float64).tobytes())
        self.exit_hh.frombytes(np.asarray(hh, dtype=np.int64).tobytes())
        self.exit_crossing.frombytes(np.full(len(time), crossing, dtype=np.int8).tobytes())

    def exit(self, time: float, hh: int, crossing: int) -> None:
        """Record a household completing the last stage of a crossing."""
        self.exit_time.append(time)
        self.exit_hh.append(hh)
        self.exit_crossing.append(crossing)

    def flows(self) -> dict[str, np.ndarray]:
        """Transitions as columns: time, group, src, dst, persons."""
        names = ("time", "group", "src", "dst", "persons")
        return {name: _view(getattr(self, name)) for name in names}

    def exits(self) -> dict[str, np.ndarray]:
        """Exits as columns: time, hh, crossing."""
        return {
            "time": _view(self.exit_time),
            "hh": _view(self.exit_hh),
            "crossing": _view(self.exit_crossing),
        }


@dataclass
class RawRun:
    """What one replication recorded, before any summarising."""

    scenario: Scenario
    seed: int
    sizes: np.ndarray
    group: np.ndarray
    mode: np.ndarray
    stage_logs: dict[tuple[str, str], dict[str, np.ndarray]]
    flows: dict[str, np.ndarray]
    exits: dict[str, np.ndarray]
    initial: dict[str, dict[int, int]]
    closures: dict[str, list[tuple[float, float]]]
    events: int
    vulnerable: np.ndarray | None = None  # bool per household (None: not recorded)
    # work one frame builder leaves for another (the hourly queue levels daily_stage finds)
    shared: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
