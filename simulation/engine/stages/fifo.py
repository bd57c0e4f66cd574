"""The FIFO tail's stage: starts computed in one pass when the run ends (Kiefer-Wolfowitz).

When a stage serves in arrival order, has no limit on its waiting area and never holds a
household at its server (the next stage has no waiting limit either), a household's start time
depends only on the households that arrived before it: it is the first time, no earlier than its
arrival and the start of the household ahead of it, at which fewer households are in service
than the stage has servers. That is the Kiefer-Wolfowitz recursion over a heap of service end
times, extended to server counts that change at dated breakpoints (opening hours, closures,
staffing).

Such a stage at the end of a crossing (its *FIFO tail*, see
:class:`simulation.engine.crossing.Crossing`) needs no event at all: its arrivals are kept and
served in one pass when the run ends. The rules are those of
:class:`simulation.engine.stages.events.Stage` (which serves priority queues and finite waiting
areas), including its ``TIME_EPS`` rule near capacity changes; tests check that both give the
same sample path.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from heapq import heappop, heappush, heapreplace

import numpy as np

from simulation.engine.presets import PresetColumn
from simulation.engine.records import SERVED, UNSERVED, StageLog
from simulation.engine.sampling import ServiceClock
from simulation.engine.stages.loop import compiled_engine
from simulation.scenario.calendar import TIME_EPS

INF = float("inf")
NAN = float("nan")


class FifoStage:
    """A first-come-first-served stage with unlimited waiting room and no blocking.

    ``capacity`` lists (from_hour, servers) breakpoints starting at hour 0; ``preset``
    holds service times drawn up front by household id (NaN where none was drawn).
    ``compiled``: run the recursion compiled (:class:`_cloop.FifoServers`) where it is built.
    """

    def __init__(
        self,
        clock: ServiceClock,
        capacity: Sequence[tuple[float, int]],
        sizes: Sequence[int],
        preset: PresetColumn | None = None,
        compiled: bool = False,
    ) -> None:
        self.log = StageLog()
        engine = compiled_engine() if compiled else None
        self._compiled = None if engine is None else engine.FifoServers(capacity)
        self._clock = clock
        self._preset = preset or PresetColumn(array("d"), 1, 0)
        self._sizes = sizes
        self._times = [t for t, _ in capacity] + [INF]
        self._servers = [s for _, s in capacity] + [capacity[-1][1]]
        self._segment = 0  # capacity[segment] holds at the latest time looked at
        self._segment_servers, self._upcoming = self._servers[0], self._times[1]
        self._ends: list[float] = []  # heap: service ends of households taken by a server
        self._last_start = 0.0  # hours: households start in arrival order

    def serve(self, times: np.ndarray, households: np.ndarray) -> np.ndarray:
        """Take ``households`` arriving at ``times`` (hours, in time order); return when each
        one's service ends (inf if no server ever takes it)."""
        hours = self._hours(households)
        if self._compiled is not None:
            started, ended = self._compiled.serve(times, hours)
            starts, out = array("d", started.tobytes()), array("d", ended.tobytes())
        else:
            starts, out = self._recursion(times, hours)
        never = len(times) - len(starts)
        starts.extend(array("d", [INF]) * never)
        out.extend(array("d", [INF]) * never)
        self._record(times, households, starts, out, never)
        return np.frombuffer(out, dtype=np.float64) if len(out) else np.zeros(0)

    def _recursion(self, times: np.ndarray, hours: np.ndarray) -> tuple[array, array]:
        """The start and end (hours) of the households arriving at ``times`` (in time order)
        with services of ``hours``, for as many as a server ever takes."""
        ends: list[float] = self._ends
        starts, out = array("d"), array("d")
        add_start, add_end = starts.append, out.append
        last_start, servers, upcoming = self._last_start, self._segment_servers, self._upcoming
        for now, service in zip(times.tolist(), hours.tolist(), strict=True):
            t = now if now > last_start else last_start
            busy = len(ends)
            # the plain recursion while no capacity change is near; else the general search
            replace = busy == servers > 0
            start = t if not replace or ends[0] <= t else ends[0]
            if (busy >= servers and not replace) or upcoming - start <= TIME_EPS:
                replace = False
                start = self._first_free(t)
                servers, upcoming = self._segment_servers, self._upcoming
                if start == INF:  # no server ever takes it, nor anyone after it
                    break
            last_start = start
            end = start + service
            if replace:  # ends[0] is free by ``start``: that server takes this household
                heapreplace(ends, end)
            else:
                heappush(ends, end)
            add_start(start)
            add_end(end)
        self._last_start = last_start
        return starts, out

    def _hours(self, households: np.ndarray) -> np.ndarray:
        """Each household's service hours: drawn up front, else drawn now from the stage's
        stream in arrival order (the order services start)."""
        hours = self._preset.gather(households)
        missing = np.flatnonzero(np.isnan(hours))
        if len(missing):
            persons = [self._sizes[h] for h in households[missing].tolist()]
            hours[missing] = self._clock.hours_many(persons)
        return hours

    def _record(
        self,
        times: np.ndarray,
        households: np.ndarray,
        starts: array,
        ends: array,
        never: int,
    ) -> None:
        """Append the visits to the log in one go (the server is freed at the end)."""
        log, n = self.log, len(times)
        log.hh.frombytes(np.ascontiguousarray(households, dtype=np.int64).tobytes())
        log.arrive.frombytes(np.ascontiguousarray(times, dtype=np.float64).tobytes())
        log.start.extend(starts)
        log.end.extend(ends)
        log.leave.extend(ends)
        kind = np.full(n, SERVED, dtype=np.int8)
        kind[n - never :] = UNSERVED
        log.kind.frombytes(kind.tobytes())

    def _first_free(self, t: float) -> float:
        """The first time from ``t`` on at which a server is free to start (inf if never)."""
        ends, times = self._ends, self._times
        while True:
            while ends and ends[0] <= t:
                heappop(ends)
            k = self._segment
            while times[k + 1] <= t:
                k += 1
            self._segment = k
            upcoming = times[k + 1]
            self._segment_servers, self._upcoming = self._servers[k], upcoming
            # within TIME_EPS of a capacity change, the new capacity applies (as in Stage)
            servers = self._servers[k + 1] if upcoming - t <= TIME_EPS else self._servers[k]
            if len(ends) < servers:
                return t
            t = ends[0] if ends and ends[0] < upcoming else upcoming
            if t == INF:
                return INF

    def close_books(self, horizon: float) -> None:
        """Make the log say what an event-by-event run stopped at ``horizon`` would say:
        households not started by then are unserved, and servers not freed by then keep
        ``leave`` = inf."""
        cols = self.log.to_arrays()  # writable views of the record buffers
        start, end, leave, kind = cols["start"], cols["end"], cols["leave"], cols["kind"]
        late = start >= horizon
        start[late] = end[late] = leave[late] = INF
        kind[late] = UNSERVED
        leave[leave >= horizon] = INF
