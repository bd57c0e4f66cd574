"""A crossing's stages: servers, queues, opening hours and closures as SimPy events.

:class:`Stage` is the general engine (priority queues, finite waiting areas, blocking). A
household visit costs one scheduled event: the stage schedules the household's own
:class:`Service` event to fire when its service ends. Capacity changes (opening hours, closures,
staffing) are dated breakpoints walked by one short process per stage; nothing is polled.

:class:`Crossing` chains a crossing's stages: it moves each household on to the next stage from
the callback of the event that ends its visit, and uses the event-free
:class:`~simulation.fifo.FifoStage` wherever a stage serves first come, first served and can
never hold a household at its server.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sequence
from functools import partial
from operator import itemgetter
from typing import Any

import simpy
from simpy.events import NORMAL, Event

from simulation.distributions import ServiceClock
from simulation.fifo import FifoStage
from simulation.records import SERVED, UNSERVED, StageLog

INF = float("inf")
NAN = float("nan")
TIME_EPS = 1e-9  # hours (3.6 microseconds): tolerance for rounding in summed service times


class Service(Event):
    """Fires, with the visit's record index as value, when a household's service ends.

    Created untriggered when the household joins; :meth:`Stage._begin` schedules it (as SimPy's
    own ``Timeout`` does) once a server takes the household.
    """


class Stage:
    """One processing stage: a pool of servers, a FIFO or priority queue, a waiting area.

    ``capacity`` lists (from_hour, servers) breakpoints starting at hour 0; ``rank`` gives each
    household's priority (lower first) when the stage has a priority order; ``preset_hours``
    holds service times drawn up front by household id (NaN where none was drawn).
    """

    def __init__(
        self,
        env: simpy.Environment,
        clock: ServiceClock,
        capacity: Sequence[tuple[float, int]],
        sizes: list[int],
        rank: list[int] | None = None,
        waiting_capacity: int | None = None,
        preset_hours: array | None = None,
    ) -> None:
        self.env = env
        self.log = StageLog()
        self._clock = clock
        self._preset = preset_hours if preset_hours is not None else array("d")
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
        self._next_time, self._next_servers = (
            capacity[1] if len(capacity) > 1 else (INF, self.servers)
        )
        if len(capacity) > 1:
            env.process(self._follow(capacity))

    def __len__(self) -> int:
        """Households waiting (not in service)."""
        return len(self._heap) if self._rank is not None else len(self._fifo)

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
        preset = self._preset
        hours = preset[hh] if hh < len(preset) else NAN
        if hours != hours:  # not drawn up front (direct demand, diverted): draw now
            hours = self._clock.hours(self._sizes[hh])
        # schedule the end of service the way simpy.Timeout schedules itself (once per visit)
        done._ok = True
        done._value = self.log.add(hh, arrived, now, now + hours, SERVED, INF)
        self.env.schedule(done, NORMAL, hours)

    def _dispatch(self) -> None:
        while (self._fifo or self._heap) and self._free():
            if self._rank is None:
                arrived, hh, done = self._fifo.popleft()
            else:
                _, _, arrived, hh, done = heapq.heappop(self._heap)
            self._begin(arrived, hh, done)
        while self._blocked and self.has_room():
            self._reserved += 1
            self._blocked.popleft().succeed()

    def close_books(self) -> None:
        """At the end of the run, record households still waiting as unserved.

        Households still in service or blocked at a server keep ``leave`` = inf.
        """
        inf = INF
        waiting = [(a, h) for a, h, _ in self._fifo] + [(a, h) for _, _, a, h, _ in self._heap]
        for arrived, hh in waiting:
            self.log.add(hh, arrived, inf, inf, UNSERVED, inf)


class Crossing:
    """A crossing's stages in order, passed by each household one after the other.

    Households move on from the callback of the event that ends their visit, so a crossing
    costs no process per household. The *FIFO tail* (the stages from the last event-driven
    :class:`Stage` on, all :class:`FifoStage`) reacts to nothing and nothing reacts to it: its
    arrivals are kept in time order and served by the recursion when the run ends
    (:meth:`close_books`), with no event at all. When every stage is a FifoStage
    (``deferred``), sources may hand over households that will arrive later
    (:meth:`enter_at`). ``on_exit(hh, hours)`` is called when a household leaves the last
    stage, possibly at a time beyond the end of the run (or inf), which it must check.
    """

    def __init__(
        self,
        env: simpy.Environment,
        stages: Sequence[Stage | FifoStage],
        on_exit: Callable[[int, float], None],
    ) -> None:
        self.env = env
        self.stages = list(stages)
        self._on_exit = on_exit
        self._last = len(self.stages) - 1
        self._tail = len(self.stages)
        while self._tail > 0 and isinstance(self.stages[self._tail - 1], FifoStage):
            self._tail -= 1
        self.deferred = self._tail == 0
        self._pending: list[list[tuple[float, int]]] = [[] for _ in self.stages]
        self._served = [partial(self._after_service, k) for k in range(len(self.stages))]
        self._moved = [partial(self._after_fifo, k) for k in range(len(self.stages))]
        self._join = [self._joiner(k) for k in range(len(self.stages))]

    def enter(self, hh: int, first: int = 0, reserved: bool = False) -> None:
        """Household ``hh`` joins stage ``first`` now (``reserved``: its place is held)."""
        self._join[first](hh, reserved)

    def enter_at(self, hh: int, hours: float) -> None:
        """Household ``hh`` will join the first stage at ``hours`` (only when ``deferred``)."""
        assert self.deferred, "only an all-FIFO crossing takes arrivals ahead of time"
        self._pending[0].append((hours, hh))

    def enter_all_at(self, households: Iterable[int], hours: Iterable[float]) -> None:
        """:meth:`enter_at` for many households at once."""
        assert self.deferred, "only an all-FIFO crossing takes arrivals ahead of time"
        self._pending[0].extend(zip(hours, households, strict=True))

    def joiner(self, first: int = 0) -> Callable[[int, bool], None]:
        """``join(hh, reserved)``: :meth:`enter` at stage ``first``, for callers in a loop."""
        return self._join[first]

    def _joiner(self, k: int) -> Callable[[int, bool], None]:
        env, stage = self.env, self.stages[k]
        if isinstance(stage, Stage):
            arrive, served = stage.arrive, self._served[k]

            def join_stage(hh: int, reserved: bool = False) -> None:
                arrive(hh, reserved).callbacks.append(served)

            return join_stage
        if k >= self._tail:
            pending = self._pending[k].append

            def join_tail(hh: int, reserved: bool = False) -> None:
                pending((env._now, hh))

            return join_tail
        fifo, moved = stage.arrive, self._moved[k]

        def join_fifo(hh: int, reserved: bool = False) -> None:
            now = env._now
            end = fifo(hh, now)
            if end == INF:
                return
            # the arrival at the next stage, scheduled the way simpy.Timeout schedules itself
            event = Event(env)
            event._ok = True
            event._value = hh
            event.callbacks.append(moved)
            env.schedule(event, NORMAL, end - now)

        return join_fifo

    def _after_fifo(self, k: int, event: Event) -> None:
        self.enter(event._value, k + 1)

    def _after_service(self, k: int, event: Event) -> None:
        stage, index = self.stages[k], event._value
        assert isinstance(stage, Stage)
        hh = stage.log.hh[index]
        if k == self._last:
            stage.release(index)
            self._on_exit(hh, self.env._now)
            return
        upcoming = self.stages[k + 1]
        if isinstance(upcoming, Stage) and not upcoming.has_room():
            upcoming.wait_for_room().callbacks.append(partial(self._after_block, k, index, hh))
            return
        stage.release(index)
        self.enter(hh, k + 1)

    def _after_block(self, k: int, index: int, hh: int, _: Event) -> None:
        stage = self.stages[k]
        assert isinstance(stage, Stage)
        stage.release(index)
        self.enter(hh, k + 1, reserved=True)

    def _serve_tail(self, horizon: float) -> None:
        """Serve the FIFO tail's arrivals before ``horizon``, stage by stage in time order
        (a stable sort keeps the order in which simultaneous arrivals came)."""
        for k in range(self._tail, len(self.stages)):
            stage = self.stages[k]
            assert isinstance(stage, FifoStage)
            arrivals = sorted(self._pending[k], key=itemgetter(0))
            self._pending[k] = []
            # an event-driven run stops before arrivals at the horizon or later
            arrivals = arrivals[: bisect_left(arrivals, horizon, key=itemgetter(0))]
            ends = stage.serve(arrivals)
            if k == self._last:
                exit_ = self._on_exit
                for (_, hh), end in zip(arrivals, ends, strict=True):
                    exit_(hh, end)
            else:
                self._pending[k + 1].extend(
                    (end, hh) for (_, hh), end in zip(arrivals, ends, strict=True) if end < horizon
                )

    def close_books(self, horizon: float) -> None:
        """At the end of the run (``horizon`` hours), serve the FIFO tail and record every
        stage's unfinished visits."""
        self._serve_tail(horizon)
        for stage in self.stages:
            if isinstance(stage, FifoStage):
                stage.close_books(horizon)
            else:
                stage.close_books()
