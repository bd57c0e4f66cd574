"""The fast event-driven stage: SimPy's own order of events, without a SimPy event per visit.

SimPy processes events in the order of their key ``(time, priority, event id)``, the id
counting every event scheduled so far (``Environment._eid``). :class:`EventLoop` keeps the
crossings' events (a household reaching a crossing, a service ending, a household held at its
server getting a place downstream) as plain tuples ``(time, NORMAL, id, handler, a, b)`` in a heap
of its own, with the id drawn from SimPy's counter at the very moment SimPy would have scheduled
the event, and merges that heap with SimPy's queue by the same key. Every event is therefore
processed at the same time and in the same order as in the event-by-event reference
(:class:`~simulation.engine.stages.events.Stage`), ties included; only the SimPy ``Event``
object, its callback list and the generic dispatch are gone.

:class:`LoopStage` is :class:`~simulation.engine.stages.events.Stage` with those events: the same
servers, queues (FIFO, or priority with an arrival counter breaking ties), waiting limit,
``TIME_EPS`` rule near capacity changes and service-time draws, in the same order.
"""

from __future__ import annotations

import importlib
import os
import struct
from array import array
from collections import deque
from collections.abc import Callable, Generator, Sequence
from functools import cache
from heapq import heappop, heappush
from itertools import islice
from typing import Any, TypeGuard, cast

import numpy as np
import simpy
from simpy.core import StopSimulation
from simpy.events import NORMAL, URGENT, Event

from simulation.engine.presets import PresetColumn
from simulation.engine.records import RENEGED, SERVED, UNSERVED, StageLog
from simulation.engine.sampling import ServiceClock
from simulation.scenario.calendar import TIME_EPS

INF = float("inf")
NAN = float("nan")

Handler = Callable[[Any, Any], None]  # handler(a, b) of a loop event, e.g. (visit, household)


class EventLoop:
    """A heap of crossing events merged with SimPy's queue, in SimPy's order."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.heap: list[tuple[float, int, int, Handler, Any, Any]] = []
        self.ids = env._eid  # SimPy's own event counter: ids interleave with SimPy's events

    def at(self, time: float, handler: Handler, a: int, b: int) -> None:
        """Call ``handler(a, b)`` at ``time`` (hours), where SimPy would process an event
        scheduled now for that time."""
        heappush(self.heap, (time, NORMAL, next(self.ids), handler, a, b))

    def batch(
        self, times: np.ndarray, handlers: Sequence[Handler], a: np.ndarray, b: np.ndarray
    ) -> None:
        """:meth:`at` for many events scheduled now in this order (their ids are drawn now, in
        order): ``handlers[i](a[i], b[i])`` at ``times[i]``. They wait sorted, outside the heap,
        which holds only the next of them (a merge: the heap stays small)."""
        n = len(times)
        if n == 0:
            return
        first = next(self.ids)
        if n > 1:
            next(islice(self.ids, n - 2, None))  # draw the other n - 1 ids
        order = np.argsort(times, kind="stable")  # by (time, id): ids rise with the order
        ids = (first + order).tolist()
        pick = order.tolist()
        items = (times[order].tolist(), ids, [handlers[i] for i in pick], a[order].tolist(),
                 b[order].tolist())  # fmt: skip
        heappush(self.heap, (items[0][0], NORMAL, ids[0], self._from_batch, items, 0))

    def _from_batch(self, items: Any, i: int) -> None:
        times, ids, handlers, a, b = items
        if i + 1 < len(times):  # the batch's next event takes its place in the heap
            heappush(self.heap, (times[i + 1], NORMAL, ids[i + 1], self._from_batch, items, i + 1))
        handlers[i](a[i], b[i])

    def run(self, until: float) -> None:
        """Process SimPy's events and the loop's, in key order, up to ``until`` (excluded):
        ``env.run(until)`` with the loop's events merged in."""
        env = self.env
        stop = Event(env)  # as env.run(until) does: an urgent event ends the run
        stop._ok, stop._value = True, None
        env.schedule(stop, URGENT, until - env.now)
        stop.callbacks.append(StopSimulation.callback)
        heap, queue, step = self.heap, env._queue, env.step
        try:
            while True:
                # the stop event stays in SimPy's queue until the end, so queue[0] exists
                if heap and heap[0] < queue[0]:  # (time, priority, id): ids never tie
                    env._now, _, _, handler, a, b = heappop(heap)
                    handler(a, b)
                else:
                    step()
        except StopSimulation:
            pass


VISIT = struct.Struct("=qddd")  # a visit as recorded: household, arrive, start, end
PACK = VISIT.pack
VISIT_DTYPE = np.dtype([("hh", "<i8"), ("arrive", "<f8"), ("start", "<f8"), ("end", "<f8")])


class LoopStage:
    """One processing stage served through an :class:`EventLoop`.

    ``capacity`` lists (from_hour, servers) breakpoints starting at hour 0; ``rank`` gives each
    household's priority (lower first) when the stage has a priority order; ``preset``
    holds service times drawn up front by household id (NaN where none was drawn). The crossing
    says where households go after their service (:meth:`connect`).

    Visits are recorded in the reference's order, as packed (household, arrive, start, end)
    records; a visit's ``kind`` is SERVED unless noted otherwise (:meth:`gave_up`,
    :meth:`close_books`), and when no household can stay at its server after its service,
    the server is freed at the end of service if that is before the horizon, so ``leave`` is
    filled in when the run ends (:meth:`close_books` writes :attr:`log`).
    """

    def __init__(
        self,
        env: simpy.Environment,
        loop: EventLoop,
        clock: ServiceClock,
        capacity: Sequence[tuple[float, int]],
        sizes: Sequence[int],
        rank: Sequence[int] | None = None,
        waiting_capacity: int | None = None,
        preset: PresetColumn | None = None,
    ) -> None:
        self.env, self._heap, self._ids = env, loop.heap, loop.ids
        self._visits = bytearray()  # VISIT records
        self._freed, self._freed_at = array("q"), array("d")  # visits released late, when
        self._other: dict[int, tuple[int, float]] = {}  # visit -> (kind, leave), not SERVED
        self.log = StageLog()  # written by close_books
        self._clock = clock
        table = preset or PresetColumn(array("d"), 1, 0)
        self._table, self._stride, self._column = table.table, table.stride, table.column
        self._sizes = sizes
        self._rank = rank
        self.waiting_capacity = waiting_capacity
        self.servers = capacity[0][1]
        self.busy = 0
        self._queue: Any = deque() if rank is None else []  # (arrived, hh) or a heap by rank
        self._seq = 0
        self._blocked: deque[tuple[Handler, int, int]] = deque()
        self._reserved = 0
        self._road: deque[tuple[float, int]] | None = None  # see open_road
        self.road_log: StageLog | None = None
        self._next_time, self._next_servers = (
            capacity[1] if len(capacity) > 1 else (INF, self.servers)
        )
        self._on_end: Handler = _unconnected
        self._next: Callable[[int, bool], None] = _unconnected
        self._limited: LoopStage | None = None
        if len(capacity) > 1:
            env.process(self._follow(capacity))

    def __len__(self) -> int:
        """Households waiting (not in service)."""
        return len(self._queue)

    def open_road(self) -> None:
        """Overflow waits on the approach road (:meth:`Stage.open_road`, same rules)."""
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
        """Is a server free to start now? (The rule of Stage._free near a capacity change.)"""
        servers = self.servers
        if self._next_time - self.env._now <= TIME_EPS:
            servers = self._next_servers
        return self.busy < servers

    def connect(
        self,
        onward: Callable[[int, bool], None] | None,
        limited: LoopStage | None = None,
        on_exit: Callable[[int, float], None] | None = None,
    ) -> None:
        """Where households go after their service: ``onward(hh, reserved)`` joins the next
        stage, held at this stage's server while ``limited`` (that next stage, with a waiting
        limit) has no room; after the last stage (``onward`` None), ``on_exit(hh, hours)``."""
        if onward is None:
            assert on_exit is not None
            self._exit = on_exit
            self._on_end = self._finish_last
        else:
            self._next = onward
            self._limited = limited
            self._on_end = self._finish if limited is None else self._finish_before_limit

    def arrive(self, hh: int, reserved: bool = False) -> None:
        """Household ``hh`` joins the stage now (``reserved``: its place was held for it)."""
        if reserved:
            self._reserved -= 1
        now = self.env._now
        if not self._queue and (
            (self.busy < self.servers and self._next_time - now > TIME_EPS) or self._free()
        ):  # the first test is _free()'s common case, inlined; _free() decides near a change
            self.busy += 1  # _begin(now, hh), inlined: this runs once per visit
            i, table = hh * self._stride + self._column, self._table
            hours = table[i] if i < len(table) else NAN
            if hours != hours:  # not drawn up front (direct demand, diverted): draw now
                hours = self._clock.hours(self._sizes[hh])
            end = now + hours
            visit = len(self._visits) >> 5
            self._visits += PACK(hh, now, now, end)
            heappush(self._heap, (end, NORMAL, next(self._ids), self._on_end, visit, hh))
        elif self._road is not None and (self._road or not self.has_room()):
            self._road.append((now, hh))
        elif self._rank is None:
            self._queue.append((now, hh))
        else:
            self._seq += 1
            heappush(self._queue, (self._rank[hh], self._seq, now, hh))

    def _begin(self, arrived: float, hh: int) -> None:
        """A server takes household ``hh`` now: record the visit, schedule its end."""
        self.busy += 1
        now = self.env._now
        i, table = hh * self._stride + self._column, self._table
        hours = table[i] if i < len(table) else NAN
        if hours != hours:  # not drawn up front (direct demand, diverted): draw now
            hours = self._clock.hours(self._sizes[hh])
        end = now + hours  # what SimPy's schedule(event, NORMAL, hours) adds
        visit = len(self._visits) >> 5  # VISIT.size == 32
        self._visits += PACK(hh, arrived, now, end)
        heappush(self._heap, (end, NORMAL, next(self._ids), self._on_end, visit, hh))

    def _finish(self, visit: int, hh: int) -> None:
        """The end of a service: free the server, then on to the next stage."""
        self.busy -= 1
        if self._queue or self._blocked:
            self._dispatch()
        self._next(hh, False)

    def _finish_last(self, visit: int, hh: int) -> None:
        """The end of a service at the last stage: free the server, cross the border."""
        self.busy -= 1
        if self._queue or self._blocked:
            self._dispatch()
        self._exit(hh, self.env._now)

    def _finish_before_limit(self, visit: int, hh: int) -> None:
        """The end of a service before a stage with a waiting limit: move on if it has room,
        else stay at the server until a place is reserved (:meth:`_after_block`)."""
        limited = self._limited
        assert limited is not None and limited.waiting_capacity is not None
        if len(limited._queue) + limited._reserved >= limited.waiting_capacity:  # no room
            limited._blocked.append((self._after_block, visit, hh))
            return
        self._release(visit)
        self._next(hh, False)

    def _after_block(self, visit: int, hh: int) -> None:
        self._release(visit)
        self._next(hh, True)

    def _release(self, visit: int) -> None:
        """The household in ``visit`` leaves its server now (recorded: it may be late)."""
        self.busy -= 1
        self._freed.append(visit)
        self._freed_at.append(self.env._now)
        if self._queue or self._blocked:
            self._dispatch()

    def has_room(self) -> bool:
        """Can one more household enter the waiting area now?"""
        cap = self.waiting_capacity
        return cap is None or len(self._queue) + self._reserved < cap

    def _dispatch(self) -> None:
        queue = self._queue
        while queue and self._free():
            if self._rank is None:
                arrived, hh = queue.popleft()
            else:
                _, _, arrived, hh = heappop(queue)
            self._begin(arrived, hh)
            if self._road:  # a place freed: the head of the road moves in
                self._admit()
        while self._blocked and self.has_room():
            self._reserved += 1  # the reference succeeds the waiting event here
            handler, a, b = self._blocked.popleft()
            heappush(self._heap, (self.env._now, NORMAL, next(self._ids), handler, a, b))

    def _admit(self) -> None:
        """The household at the head of the road moves into the waiting area now."""
        assert self._road is not None and self.road_log is not None
        arrived, hh = self._road.popleft()
        now = self.env._now
        self.road_log.add(hh, arrived, now, now, SERVED, now)
        if self._rank is None:
            self._queue.append((arrived, hh))
        else:
            self._seq += 1
            heappush(self._queue, (self._rank[hh], self._seq, arrived, hh))

    def gave_up(self, hh: int, arrived: float, leaves: float) -> None:
        """Record household ``hh`` giving up at ``leaves`` (a visit that reneged)."""
        self._other[len(self._visits) >> 5] = (RENEGED, leaves)
        self._visits += PACK(hh, arrived, leaves, leaves)

    def close_books(self, horizon: float) -> None:
        """At the end of the run (``horizon``), record the households still waiting as
        unserved (in the order of :meth:`Stage.close_books`) and write :attr:`log`."""
        waiting = self._queue if self._rank is None else [(a, h) for _, _, a, h in self._queue]
        road = list(self._road or ())
        for arrived, hh in [*waiting, *road]:
            self._other[len(self._visits) >> 5] = (UNSERVED, INF)
            self._visits += PACK(hh, arrived, INF, INF)
        for arrived, hh in road:
            assert self.road_log is not None
            self.road_log.add(hh, arrived, INF, INF, UNSERVED, INF)
        self._write_log(horizon)

    def _write_log(self, horizon: float) -> None:
        write_log(
            self.log,
            self._visits,
            blocks=self._limited is not None,
            freed=_view(self._freed, np.int64),
            freed_at=_view(self._freed_at, np.float64),
            other=self._other,
            horizon=horizon,
        )
        self._visits = bytearray()  # the log holds the visits now: free the packed copy


def write_log(
    log: StageLog,
    visits: Any,
    blocks: bool,
    freed: np.ndarray,
    freed_at: np.ndarray,
    other: dict[int, tuple[int, float]],
    horizon: float,
) -> None:
    """Write a loop stage's visits (packed VISIT records in ``visits``, a buffer) to ``log``.

    When the stage ``blocks`` (a household may stay at its server after its service), each
    server was freed when recorded (``freed`` visits at ``freed_at`` hours; inf if never);
    otherwise at the end of service if that is before ``horizon``. ``other`` gives the
    (kind, leave) of the visits that are not SERVED."""
    rows = np.frombuffer(visits, dtype=VISIT_DTYPE)
    if blocks:
        leave = np.full(len(rows), INF)
        leave[freed] = freed_at
    else:
        leave = np.where(rows["end"] < horizon, rows["end"], INF)
    kind = np.full(len(rows), SERVED, dtype=np.int8)
    picked = np.fromiter(other, dtype=np.int64, count=len(other))
    kind[picked] = [k for k, _ in other.values()]
    leave[picked] = [t for _, t in other.values()]
    for name in ("hh", "arrive", "start", "end"):
        getattr(log, name).frombytes(np.ascontiguousarray(rows[name]).tobytes())
    log.leave.frombytes(leave.tobytes())
    log.kind.frombytes(kind.tobytes())


@cache
def compiled_engine() -> Any | None:
    """The compiled engine (:mod:`simulation.engine.stages._cloop`: this module's classes
    in C), or None where it was not built."""
    try:
        return importlib.import_module("simulation.engine.stages._cloop")
    except ImportError:
        return None


def new_loop(env: simpy.Environment) -> EventLoop:
    """The fast engine's event loop: compiled where built, unless the environment variable
    ``REPATSIM_ENGINE`` is ``python`` (this module's, the same events in the same order)."""
    compiled = compiled_engine()
    if compiled is None or os.environ.get("REPATSIM_ENGINE", "").lower() == "python":
        return EventLoop(env)
    return cast(EventLoop, compiled.EventLoop(env))


def new_stage(env: simpy.Environment, loop: EventLoop, *args: Any) -> LoopStage:
    """A :class:`LoopStage` (arguments after ``loop`` as its) of ``loop``'s engine."""
    if type(loop) is EventLoop:
        return LoopStage(env, loop, *args)
    return cast(LoopStage, compiled_engine().LoopStage(env, loop, *args))  # type: ignore[union-attr]


def is_loop_stage(stage: object) -> TypeGuard[LoopStage]:
    """Is ``stage`` a :class:`LoopStage` of either engine?"""
    compiled = compiled_engine()
    return isinstance(stage, LoopStage) or (
        compiled is not None and isinstance(stage, compiled.LoopStage)
    )


def _view(values: array, dtype: type) -> np.ndarray:
    return np.frombuffer(values, dtype=dtype) if len(values) else np.zeros(0, dtype=dtype)


def _unconnected(*_: object) -> None:
    raise AssertionError("the crossing connects every stage before the run")
