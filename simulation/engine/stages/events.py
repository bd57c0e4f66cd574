"""The event-driven stage: servers, a FIFO or priority queue, a finite waiting area.

A household visit costs one scheduled event: the stage schedules the household's own
:class:`Service` event to fire when its service ends. Capacity changes (opening hours, closures,
staffing) are dated breakpoints walked by one short process per stage; nothing is polled.
Stages that serve first come, first served with no waiting limit use the event-free
:class:`simulation.engine.stages.fifo.FifoStage` instead (chosen when the model builds its
crossings).
"""

from __future__ import annotations

import heapq
from array import array
from collections import deque
from collections.abc import Generator, Sequence
from typing import Any

import simpy
from simpy.events import NORMAL, Event

from simulation.engine.presets import PresetColumn
from simulation.engine.records import SERVED, UNSERVED, StageLog
from simulation.engine.sampling import ServiceClock
from simulation.scenario.calendar import TIME_EPS

INF = float("inf")
NAN = float("nan")


class Service(Event):
    """Fires, with the visit's record index as value, when a household's service ends.

    Created untriggered when the household joins; :meth:`Stage._begin` schedules it (as SimPy's
    own ``Timeout`` does) once a server takes the household.
    """


class Stage:
    """One processing stage: a pool of servers, a FIFO or priority queue, a waiting area.

    ``capacity`` lists (from_hour, servers) breakpoints starting at hour 0; ``rank`` gives each
    household's priority (lower first) when the stage has a priority order; ``preset``
    holds service times drawn up front by household id (NaN where none was drawn).
    """

    def __init__(
        self,
        env: simpy.Environment,
        clock: ServiceClock,
        capacity: Sequence[tuple[float, int]],
        sizes: Sequence[int],
        rank: Sequence[int] | None = None,
        waiting_capacity: int | None = None,
        preset: PresetColumn | None = None,
    ) -> None:
        self.env = env
        self.log = StageLog()
        self._add = self.log.served_adder()
        self._clock = clock
        table = preset or PresetColumn(array("d"), 1, 0)
        self._table, self._stride, self._column = table.table, table.stride, table.column
        self._sizes = sizes
        self._rank = rank
        self.waiting_capacity = waiting_capacity
        self.servers = capacity[0][1]
        self.busy = 0
        self._fifo: deque[tuple[float, int, Service]] = deque()
        self._heap: list[tuple[int, int, float, int, Service]] = []
        self._seq = 0
        self._blocked: deque[Event] = deque()
        self._reserved = 0
        self._road: deque[tuple[float, int, Service]] | None = None  # see open_road
        self.road_log: StageLog | None = None
        self._next_time, self._next_servers = (
            capacity[1] if len(capacity) > 1 else (INF, self.servers)
        )
        if len(capacity) > 1:
            env.process(self._follow(capacity))

    def __len__(self) -> int:
        """Households waiting (not in service)."""
        return len(self._heap) if self._rank is not None else len(self._fifo)

    def open_road(self) -> None:
        """Make this (first, bounded) stage's overflow wait on the approach road: households
        finding the waiting area full queue there in arrival order and move in as places free
        up; their visits here keep their arrival at the crossing, and :attr:`road_log`
        records each one's time on the road (start = moved in, inf if still there)."""
        assert self.waiting_capacity is not None, "only a bounded stage has a road"
        self._road, self.road_log = deque(), StageLog()

    def _follow(self, capacity: Sequence[tuple[float, int]]) -> Generator[Event, Any, None]:
        ahead = [*capacity[2:], (INF, capacity[-1][1])]
        for (time, servers), upcoming in zip(capacity[1:], ahead, strict=True):
            yield self.env.timeout(time - self.env.now)
            self.servers = servers
            self._next_time, self._next_servers = upcoming
            self._dispatch()

    def _free(self) -> bool:
        """Is a server free to start now? Within TIME_EPS of a capacity change, the new
        capacity applies: sums of service times drift by rounding, and a service due exactly
        at closing must not slip in a hair before it."""
        servers = self.servers
        if self._next_time - self.env.now <= TIME_EPS:
            servers = self._next_servers
        return self.busy < servers

    def arrive(self, hh: int, reserved: bool = False) -> Service:
        """Join the stage; the returned event fires when this household's service ends."""
        if reserved:
            self._reserved -= 1
        done = Service(self.env)
        now = self.env._now  # the property costs a call; this runs once per visit
        if self._fifo or self._heap:
            if self._road is not None and (self._road or not self.has_room()):
                self._road.append((now, hh, done))
            else:
                self._enqueue(now, hh, done)
        elif (self.busy < self.servers and self._next_time - now > TIME_EPS) or self._free():
            # the first test is _free()'s common case, inlined; _free() decides near a change
            self._begin(now, hh, done)
        else:
            self._enqueue(now, hh, done)
        return done

    def _enqueue(self, now: float, hh: int, done: Service) -> None:
        if self._rank is None:
            self._fifo.append((now, hh, done))
        else:
            self._seq += 1
            heapq.heappush(self._heap, (self._rank[hh], self._seq, now, hh, done))

    def release(self, index: int) -> None:
        """The household in visit ``index`` leaves its server."""
        self.busy -= 1
        self.log.leave[index] = self.env._now
        if self._fifo or self._heap or self._blocked:
            self._dispatch()

    def has_room(self) -> bool:
        """Can one more household enter the waiting area now?"""
        cap = self.waiting_capacity
        return cap is None or len(self) + self._reserved < cap

    def wait_for_room(self) -> Event:
        """An event that fires when a place in the waiting area is reserved for the caller."""
        event = self.env.event()
        self._blocked.append(event)
        return event

    def _begin(self, arrived: float, hh: int, done: Service) -> None:
        self.busy += 1
        now = self.env._now
        i, table = hh * self._stride + self._column, self._table
        hours = table[i] if i < len(table) else NAN
        if hours != hours:  # not drawn up front (direct demand, diverted): draw now
            hours = self._clock.hours(self._sizes[hh])
        # schedule the end of service the way simpy.Timeout schedules itself (once per visit)
        done._ok = True
        done._value = self._add(hh, arrived, now, now + hours, INF)
        self.env.schedule(done, NORMAL, hours)

    def _dispatch(self) -> None:
        while (self._fifo or self._heap) and self._free():
            if self._rank is None:
                arrived, hh, done = self._fifo.popleft()
            else:
                _, _, arrived, hh, done = heapq.heappop(self._heap)
            self._begin(arrived, hh, done)
            if self._road:  # a place freed: the head of the road moves in
                self._admit()
        while self._blocked and self.has_room():
            self._reserved += 1
            self._blocked.popleft().succeed()

    def _admit(self) -> None:
        """The household at the head of the road moves into the waiting area now."""
        assert self._road is not None and self.road_log is not None
        arrived, hh, done = self._road.popleft()
        now = self.env._now
        self.road_log.add(hh, arrived, now, now, SERVED, now)
        self._enqueue(arrived, hh, done)

    def close_books(self, horizon: float) -> None:
        """At the end of the run (``horizon``), record households still waiting as unserved
        (those still on the road too, in both logs).

        Households still in service or blocked at a server keep ``leave`` = inf.
        """
        inf = INF
        waiting = [(a, h) for a, h, _ in self._fifo] + [(a, h) for _, _, a, h, _ in self._heap]
        road = [(a, h) for a, h, _ in self._road or ()]
        for arrived, hh in waiting + road:
            self.log.add(hh, arrived, inf, inf, UNSERVED, inf)
        for arrived, hh in road:
            assert self.road_log is not None
            self.road_log.add(hh, arrived, inf, inf, UNSERVED, inf)
