# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The compiled fast engine: :mod:`simulation.engine.stages.loop` with its events in C structs.

The same :class:`EventLoop` and :class:`LoopStage`, rule for rule and event for event, with the
loop's events, the stages' queues and their visit records held in C arrays instead of Python
tuples, deques and byte strings, and the stages calling each other directly instead of through
bound methods. Every event still takes its id from SimPy's counter at the moment the reference
schedules it, and the loop still merges its heap with SimPy's queue by (time, priority, id), so
the order of events, ties included, is the reference's. Households' service times, the queues'
tie-breaking and the records are those of ``loop.py``; the tests run both against the
event-by-event reference. Where a handler is Python code (a journey's arrival, a FIFO tail, a
household leaving the last stage), it is called as in ``loop.py``.
"""

from cpython.array cimport array as carray, resize_smart
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy

from itertools import islice

import numpy as np
from simpy.core import StopSimulation
from simpy.events import NORMAL, URGENT, Event

from simulation.engine.presets import PresetColumn
from simulation.engine.records import RENEGED, SERVED, UNSERVED, StageLog
from simulation.engine.stages.loop import write_log
from simulation.scenario.calendar import TIME_EPS

cdef double INF = float("inf")
cdef double NAN = float("nan")
cdef double EPS = TIME_EPS
cdef int PRIO = NORMAL  # every loop event has SimPy's NORMAL priority

# what an event does
cdef enum:
    K_PYTHON = 0  # handlers[target](a, b)
    K_ARRIVE = 1  # stages[target] takes household a (b: its place was reserved)
    K_END = 2  # stages[target] ends visit a of household b
    K_UNBLOCK = 3  # stages[target] lets visit a of household b go on (a place is reserved)

# how a stage ends a service
cdef enum:
    END_UNCONNECTED = 0
    END_ONWARD = 1  # free the server, on to the next stage
    END_LAST = 2  # free the server, cross the border
    END_BEFORE_LIMIT = 3  # on if the next stage has room, else stay at the server


cdef struct Ev:
    double time
    long long id
    int kind
    int target
    long long a
    long long b


cdef struct Visit:  # the layout of loop.VISIT (=qddd)
    long long hh
    double arrive
    double start
    double end


cdef struct Waiting:
    long long rank  # priority queues only
    long long seq  # priority queues only: arrival counter, breaks ties
    double arrived
    long long hh


cdef struct Held:  # a household held at an upstream server for a place here
    int stage
    long long visit
    long long hh


cdef inline bint ev_before(Ev* x, Ev* y) noexcept nogil:
    return x.time < y.time or (x.time == y.time and x.id < y.id)


cdef inline bint waiting_before(Waiting* x, Waiting* y) noexcept nogil:
    return x.rank < y.rank or (x.rank == y.rank and x.seq < y.seq)


cdef void* grow(void* block, Py_ssize_t* capacity, Py_ssize_t size) except NULL:
    """``block`` (``capacity`` items of ``size`` bytes) with room for twice as many."""
    cdef Py_ssize_t more = capacity[0] * 2 if capacity[0] else 256
    cdef void* bigger = realloc(block, more * size)
    if bigger == NULL:
        raise MemoryError()
    capacity[0] = more
    return bigger


cdef class EventLoop:
    """A heap of crossing events merged with SimPy's queue, in SimPy's order
    (:class:`simulation.engine.stages.loop.EventLoop`, compiled)."""

    cdef public object env
    cdef public object ids
    cdef Ev* heap
    cdef Py_ssize_t n, capacity
    cdef list handlers  # target -> a Python handler(a, b)
    cdef dict targets  # a Python handler -> its target
    cdef list stages  # target -> LoopStage

    def __cinit__(self, env):
        self.heap = NULL
        self.n = self.capacity = 0

    def __init__(self, env):
        self.env = env
        self.ids = env._eid  # SimPy's own event counter: ids interleave with SimPy's events
        self.handlers, self.targets, self.stages = [], {}, []

    def __dealloc__(self):
        free(self.heap)

    cdef int _enrol(self, LoopStage stage) except -1:
        stage.index = len(self.stages)
        self.stages.append(stage)
        return 0

    cdef int push(self, double time, int kind, int target, long long a, long long b) except -1:
        return self.push_id(time, next(self.ids), kind, target, a, b)

    cdef int push_id(
        self, double time, long long id, int kind, int target, long long a, long long b
    ) except -1:
        cdef Py_ssize_t i = self.n, parent
        cdef Ev ev
        if self.n == self.capacity:
            self.heap = <Ev*>grow(self.heap, &self.capacity, sizeof(Ev))
        ev.time, ev.id, ev.kind, ev.target, ev.a, ev.b = time, id, kind, target, a, b
        while i > 0:
            parent = (i - 1) >> 1
            if not ev_before(&ev, &self.heap[parent]):
                break
            self.heap[i] = self.heap[parent]
            i = parent
        self.heap[i] = ev
        self.n += 1
        return 0

    cdef void pop(self, Ev* out) noexcept:
        cdef Py_ssize_t i = 0, child, n
        cdef Ev last
        out[0] = self.heap[0]
        self.n -= 1
        n = self.n
        if n == 0:
            return
        last = self.heap[n]
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            if child + 1 < n and ev_before(&self.heap[child + 1], &self.heap[child]):
                child += 1
            if not ev_before(&self.heap[child], &last):
                break
            self.heap[i] = self.heap[child]
            i = child
        self.heap[i] = last

    cdef int _target(self, object handler, int* kind) except -1:
        """Where an event calling ``handler`` goes: a compiled stage's arrival, or a slot."""
        owner = getattr(handler, "__self__", None)
        if isinstance(owner, LoopStage) and handler.__name__ == "arrive" and (
            (<LoopStage>owner).loop is self
        ):
            kind[0] = K_ARRIVE
            return (<LoopStage>owner).index
        kind[0] = K_PYTHON
        target = self.targets.get(handler)
        if target is None:
            target = len(self.handlers)
            self.handlers.append(handler)
            self.targets[handler] = target
        return target

    def at(self, double time, handler, long long a, long long b):
        """Call ``handler(a, b)`` at ``time`` (hours), where SimPy would process an event
        scheduled now for that time."""
        cdef int kind
        cdef int target = self._target(handler, &kind)
        self.push(time, kind, target, a, b)

    def batch(self, times, handlers, a, b):
        """:meth:`at` for many events scheduled now in this order (their ids drawn now, in
        order): ``handlers[i](a[i], b[i])`` at ``times[i]``."""
        cdef Py_ssize_t i, n = len(times)
        cdef long long first
        cdef int kind
        cdef dict known = {}
        if n == 0:
            return
        first = next(self.ids)
        if n > 1:
            next(islice(self.ids, n - 2, None))  # draw the other n - 1 ids
        cdef double[:] at = np.ascontiguousarray(times, dtype=np.float64)
        cdef long long[:] first_args = np.ascontiguousarray(a, dtype=np.int64)
        cdef long long[:] second_args = np.ascontiguousarray(b, dtype=np.int64)
        for i in range(n):
            handler = handlers[i]
            route = known.get(handler)
            if route is None:
                target = self._target(handler, &kind)
                route = known[handler] = (kind, target)
            self.push_id(at[i], first + i, route[0], route[1], first_args[i], second_args[i])

    def run(self, double until):
        """Process SimPy's events and the loop's, in key order, up to ``until`` (excluded):
        ``env.run(until)`` with the loop's events merged in."""
        env = self.env
        stop = Event(env)  # as env.run(until) does: an urgent event ends the run
        stop._ok, stop._value = True, None
        env.schedule(stop, URGENT, until - env.now)
        stop.callbacks.append(StopSimulation.callback)
        cdef list queue = env._queue
        step = env.step
        cdef tuple top
        cdef double t
        cdef int priority
        cdef Ev ev
        try:
            while True:
                # the stop event stays in SimPy's queue until the end, so queue[0] exists
                if self.n:
                    top = <tuple>queue[0]
                    t = top[0]
                    if self.heap[0].time < t or (self.heap[0].time == t and (
                        PRIO < <int>top[1] or (PRIO == <int>top[1]
                                               and self.heap[0].id < <long long>top[2])
                    )):
                        self.pop(&ev)
                        env._now = ev.time
                        self.handle(&ev)
                        continue
                step()
        except StopSimulation:
            pass

    cdef int handle(self, Ev* ev) except -1:
        cdef LoopStage stage
        if ev.kind == K_END:
            stage = <LoopStage>self.stages[ev.target]
            stage.end(ev.a, ev.b, ev.time)
        elif ev.kind == K_ARRIVE:
            stage = <LoopStage>self.stages[ev.target]
            stage.take(ev.a, ev.b != 0, ev.time)
        elif ev.kind == K_UNBLOCK:
            stage = <LoopStage>self.stages[ev.target]
            stage.release(ev.a, ev.time)
            stage.onward(ev.b, True, ev.time)
        else:
            self.handlers[ev.target](ev.a, ev.b)
        return 0


cdef class LoopStage:
    """One processing stage served through a compiled :class:`EventLoop`
    (:class:`simulation.engine.stages.loop.LoopStage`, compiled: same arguments, same rules)."""

    cdef public object env
    cdef public object log
    cdef public object road_log
    cdef public object waiting_capacity
    cdef public int servers
    cdef public int busy
    cdef EventLoop loop
    cdef int index
    cdef object clock
    cdef object sizes
    cdef object rank  # a bytearray of ranks by household, or None (FIFO)
    cdef carray table
    cdef long long stride, column
    cdef long long cap  # waiting capacity, -1 if none
    cdef double next_time
    cdef int next_servers
    # visits recorded, and the visits whose server was freed late (when)
    cdef Visit* visits
    cdef Py_ssize_t nvisits, cvisits
    cdef long long* freed
    cdef double* freed_at
    cdef Py_ssize_t nfreed, cfreed, cfreed_at
    cdef dict other  # visit -> (kind, leave), not SERVED
    # households waiting: a ring (FIFO) or a heap (priority)
    cdef Waiting* waiting
    cdef Py_ssize_t head, nwaiting, cwaiting
    cdef long long seq
    # households held upstream for a place here (a ring)
    cdef Held* held
    cdef Py_ssize_t hhead, nheld, cheld
    cdef long long reserved
    cdef object road  # a deque of (arrived, hh), or None
    # where households go after their service
    cdef int ending
    cdef LoopStage next_stage
    cdef object next_python  # onward(hh, reserved) when the next stage is not compiled
    cdef carray tail_times, tail_households  # the FIFO tail's arrival buffers, if it is next
    cdef LoopStage limited
    cdef object exit

    def __cinit__(self, *args, **kwargs):
        self.visits, self.freed, self.freed_at, self.waiting, self.held = NULL, NULL, NULL, NULL, NULL
        self.nvisits = self.cvisits = self.nfreed = self.cfreed = self.cfreed_at = 0
        self.head = self.nwaiting = self.cwaiting = self.hhead = self.nheld = self.cheld = 0

    def __init__(
        self, env, EventLoop loop, clock, capacity, sizes, rank=None, waiting_capacity=None,
        preset=None,
    ):
        self.env, self.loop = env, loop
        loop._enrol(self)
        self.log = StageLog()  # written by close_books
        self.road_log = None
        self.other = {}
        self.clock, self.sizes, self.rank = clock, sizes, rank
        column = preset or PresetColumn(carray("d"), 1, 0)
        self.table, self.stride, self.column = column.table, column.stride, column.column
        self.waiting_capacity = waiting_capacity
        self.cap = -1 if waiting_capacity is None else waiting_capacity
        self.servers = capacity[0][1]
        self.busy = 0
        self.seq = 0
        self.reserved = 0
        self.road = None
        self.next_time, self.next_servers = capacity[1] if len(capacity) > 1 else (
            INF, self.servers
        )
        self.ending = END_UNCONNECTED
        self.next_stage, self.next_python, self.limited, self.exit = None, None, None, None
        self.tail_times = self.tail_households = None
        if len(capacity) > 1:
            env.process(self._follow(capacity))

    def __dealloc__(self):
        free(self.visits)
        free(self.freed)
        free(self.freed_at)
        free(self.waiting)
        free(self.held)

    def __len__(self):
        """Households waiting (not in service)."""
        return self.nwaiting

    def open_road(self):
        """Overflow waits on the approach road (:meth:`Stage.open_road`, same rules)."""
        assert self.waiting_capacity is not None, "only a bounded stage has a road"
        from collections import deque

        self.road, self.road_log = deque(), StageLog()

    def _follow(self, capacity):
        ahead = [*capacity[2:], (INF, capacity[len(capacity) - 1][1])]  # no wraparound here
        for (time, servers), upcoming in zip(capacity[1:], ahead, strict=True):
            yield self.env.timeout(time - self.env.now)
            self.servers = servers
            self.next_time, self.next_servers = upcoming
            self.dispatch(self.env._now)

    cdef inline bint free_now(self, double now) noexcept:
        """Is a server free to start now? (The rule of Stage._free near a capacity change.)"""
        cdef int servers = self.servers
        if self.next_time - now <= EPS:
            servers = self.next_servers
        return self.busy < servers

    def connect(self, onward, limited=None, on_exit=None):
        """Where households go after their service: ``onward(hh, reserved)`` joins the next
        stage, held at this stage's server while ``limited`` (that next stage, with a waiting
        limit) has no room; after the last stage (``onward`` None), ``on_exit(hh, hours)``."""
        if onward is None:
            assert on_exit is not None
            self.exit = on_exit
            self.ending = END_LAST
            return
        owner = getattr(onward, "__self__", None)
        tail = getattr(onward, "tail", None)  # (times, households) buffers of a FIFO tail
        if isinstance(owner, LoopStage) and onward.__name__ == "arrive":
            self.next_stage = <LoopStage>owner
        elif tail is not None:
            self.tail_times, self.tail_households = tail
        else:
            self.next_python = onward
        self.limited = limited
        self.ending = END_ONWARD if limited is None else END_BEFORE_LIMIT

    def arrive(self, long long hh, reserved=False):
        """Household ``hh`` joins the stage now (``reserved``: its place was held for it)."""
        self.take(hh, bool(reserved), self.env._now)

    cdef int take(self, long long hh, bint reserved, double now) except -1:
        if reserved:
            self.reserved -= 1
        if self.nwaiting == 0 and (
            (self.busy < self.servers and self.next_time - now > EPS) or self.free_now(now)
        ):
            self.begin(now, hh, now)
        elif self.road is not None and (len(self.road) or not self.has_room()):
            self.road.append((now, hh))
        else:
            self.enqueue(now, hh)
        return 0

    cdef int enqueue(self, double arrived, long long hh) except -1:
        cdef Py_ssize_t i, parent
        cdef Waiting entry
        if self.nwaiting == self.cwaiting:
            self._widen()
        if self.rank is None:
            i = (self.head + self.nwaiting) % self.cwaiting
            self.waiting[i].arrived, self.waiting[i].hh = arrived, hh
            self.nwaiting += 1
            return 0
        self.seq += 1
        entry.rank, entry.seq, entry.arrived, entry.hh = self.rank[hh], self.seq, arrived, hh
        i = self.nwaiting  # heapq's push: sift the new entry up
        while i > 0:
            parent = (i - 1) >> 1
            if not waiting_before(&entry, &self.waiting[parent]):
                break
            self.waiting[i] = self.waiting[parent]
            i = parent
        self.waiting[i] = entry
        self.nwaiting += 1
        return 0

    cdef int _widen(self) except -1:
        """Double the waiting room's storage, the ring unrolled from its head."""
        cdef Py_ssize_t old = self.cwaiting, tail
        self.waiting = <Waiting*>grow(self.waiting, &self.cwaiting, sizeof(Waiting))
        if self.rank is None and self.head + self.nwaiting > old:  # the ring wrapped
            tail = self.head + self.nwaiting - old
            memcpy(&self.waiting[old], &self.waiting[0], tail * sizeof(Waiting))
        return 0

    cdef Waiting dequeue(self) noexcept:
        """The next household to serve (the queue is not empty)."""
        cdef Waiting out, last
        cdef Py_ssize_t i, child, n, start_end
        if self.rank is None:
            out = self.waiting[self.head]
            self.head = (self.head + 1) % self.cwaiting
            self.nwaiting -= 1
            return out
        # heapq's pop: the last entry replaces the root, moved down the smaller children
        # to a leaf, then up (so the array is as heapq leaves it)
        out = self.waiting[0]
        self.nwaiting -= 1
        n = self.nwaiting
        if n == 0:
            return out
        last = self.waiting[n]
        i = 0
        child = 1
        while child < n:
            if child + 1 < n and not waiting_before(&self.waiting[child], &self.waiting[child + 1]):
                child += 1
            self.waiting[i] = self.waiting[child]
            i = child
            child = 2 * i + 1
        while i > 0:
            start_end = (i - 1) >> 1
            if not waiting_before(&last, &self.waiting[start_end]):
                break
            self.waiting[i] = self.waiting[start_end]
            i = start_end
        self.waiting[i] = last
        return out

    cdef int begin(self, double arrived, long long hh, double now) except -1:
        """A server takes household ``hh`` now: record the visit, schedule its end."""
        cdef double hours = NAN, end
        cdef long long i = hh * self.stride + self.column
        cdef Py_ssize_t visit
        self.busy += 1
        if i < len(self.table):
            hours = self.table.data.as_doubles[i]
        if hours != hours:  # not drawn up front (direct demand, diverted): draw now
            hours = self.clock.hours(self.sizes[hh])
        end = now + hours  # what SimPy's schedule(event, NORMAL, hours) adds
        if self.nvisits == self.cvisits:
            self.visits = <Visit*>grow(self.visits, &self.cvisits, sizeof(Visit))
        visit = self.nvisits
        self.visits[visit].hh, self.visits[visit].arrive = hh, arrived
        self.visits[visit].start, self.visits[visit].end = now, end
        self.nvisits += 1
        self.loop.push(end, K_END, self.index, visit, hh)
        return 0

    cdef int end(self, long long visit, long long hh, double now) except -1:
        """The end of a service: free the server and move on, or stay at the server while
        the next stage has no room (:meth:`LoopStage._finish_before_limit`)."""
        cdef LoopStage limited
        if self.ending == END_BEFORE_LIMIT:
            limited = self.limited
            if limited.nwaiting + limited.reserved >= limited.cap:  # no room
                limited.hold(self.index, visit, hh)
                return 0
            self.release(visit, now)
            return self.onward(hh, False, now)
        self.busy -= 1
        if self.nwaiting or self.nheld:
            self.dispatch(now)
        if self.ending == END_ONWARD:
            return self.onward(hh, False, now)
        if self.ending == END_LAST:
            self.exit(hh, now)
            return 0
        raise AssertionError("the crossing connects every stage before the run")

    cdef int onward(self, long long hh, bint reserved, double now) except -1:
        cdef Py_ssize_t n
        if self.next_stage is not None:
            return self.next_stage.take(hh, reserved, now)
        if self.tail_times is not None:  # what the tail's joiner does: note when and who
            n = len(self.tail_times)
            resize_smart(self.tail_times, n + 1)
            resize_smart(self.tail_households, n + 1)
            self.tail_times.data.as_doubles[n] = now
            self.tail_households.data.as_longlongs[n] = hh
            return 0
        self.next_python(hh, reserved)
        return 0

    cdef int hold(self, int stage, long long visit, long long hh) except -1:
        cdef Py_ssize_t i, old = self.cheld, tail
        if self.nheld == self.cheld:
            self.held = <Held*>grow(self.held, &self.cheld, sizeof(Held))
            if self.hhead + self.nheld > old:  # the ring wrapped
                tail = self.hhead + self.nheld - old
                memcpy(&self.held[old], &self.held[0], tail * sizeof(Held))
        i = (self.hhead + self.nheld) % self.cheld
        self.held[i].stage, self.held[i].visit, self.held[i].hh = stage, visit, hh
        self.nheld += 1
        return 0

    cdef int release(self, long long visit, double now) except -1:
        """The household in ``visit`` leaves its server now (recorded: it may be late)."""
        self.busy -= 1
        if self.nfreed == self.cfreed:
            self.freed = <long long*>grow(self.freed, &self.cfreed, sizeof(long long))
            self.freed_at = <double*>grow(self.freed_at, &self.cfreed_at, sizeof(double))
        self.freed[self.nfreed], self.freed_at[self.nfreed] = visit, now
        self.nfreed += 1
        if self.nwaiting or self.nheld:
            self.dispatch(now)
        return 0

    cpdef bint has_room(self):
        """Can one more household enter the waiting area now?"""
        return self.cap < 0 or self.nwaiting + self.reserved < self.cap

    cdef int dispatch(self, double now) except -1:
        cdef Waiting next_up
        cdef Held held
        while self.nwaiting and self.free_now(now):
            next_up = self.dequeue()
            self.begin(next_up.arrived, next_up.hh, now)
            if self.road:  # a place freed: the head of the road moves in
                self.admit(now)
        while self.nheld and self.has_room():
            self.reserved += 1  # the reference succeeds the waiting event here
            held = self.held[self.hhead]
            self.hhead = (self.hhead + 1) % self.cheld
            self.nheld -= 1
            self.loop.push(now, K_UNBLOCK, held.stage, held.visit, held.hh)
        return 0

    cdef int admit(self, double now) except -1:
        """The household at the head of the road moves into the waiting area now."""
        arrived, hh = self.road.popleft()
        self.road_log.add(hh, arrived, now, now, SERVED, now)
        self.enqueue(arrived, hh)
        return 0

    def gave_up(self, long long hh, double arrived, double leaves):
        """Record household ``hh`` giving up at ``leaves`` (a visit that reneged)."""
        self.other[self.nvisits] = (RENEGED, leaves)
        self.record(hh, arrived, leaves, leaves)

    cdef int record(self, long long hh, double arrive, double start, double end) except -1:
        if self.nvisits == self.cvisits:
            self.visits = <Visit*>grow(self.visits, &self.cvisits, sizeof(Visit))
        self.visits[self.nvisits].hh, self.visits[self.nvisits].arrive = hh, arrive
        self.visits[self.nvisits].start, self.visits[self.nvisits].end = start, end
        self.nvisits += 1
        return 0

    def close_books(self, double horizon):
        """At the end of the run (``horizon``), record the households still waiting as
        unserved (in the order of :meth:`Stage.close_books`) and write :attr:`log`."""
        cdef Py_ssize_t k, i
        waiting = []
        for k in range(self.nwaiting):  # the ring from its head, or the heap's array
            i = (self.head + k) % self.cwaiting if self.rank is None else k
            waiting.append((self.waiting[i].arrived, self.waiting[i].hh))
        road = list(self.road or ())
        for arrived, hh in [*waiting, *road]:
            self.other[self.nvisits] = (UNSERVED, INF)
            self.record(hh, arrived, INF, INF)
        for arrived, hh in road:
            self.road_log.add(hh, arrived, INF, INF, UNSERVED, INF)
        visits = (<char*>self.visits)[: self.nvisits * sizeof(Visit)]
        freed = np.frombuffer((<char*>self.freed)[: self.nfreed * sizeof(long long)], np.int64)
        freed_at = np.frombuffer((<char*>self.freed_at)[: self.nfreed * sizeof(double)])
        write_log(
            self.log,
            visits,
            blocks=self.limited is not None,
            freed=freed,
            freed_at=freed_at,
            other=self.other,
            horizon=horizon,
        )
        free(self.visits)
        self.visits, self.nvisits, self.cvisits = NULL, 0, 0


cdef class FifoServers:
    """The servers of a FIFO-tail stage: the Kiefer-Wolfowitz recursion of
    :meth:`simulation.engine.stages.fifo.FifoStage.serve`, compiled (same rules, the
    ``TIME_EPS`` rule near capacity changes included)."""

    cdef double* ends  # a min-heap of the service ends of households taken by a server
    cdef Py_ssize_t nends, cends
    cdef double[:] times  # capacity breakpoints (hours), then inf
    cdef long long[:] servers  # servers from each breakpoint (the last repeated)
    cdef Py_ssize_t segment  # times[segment] holds at the latest time looked at
    cdef long long segment_servers
    cdef double upcoming, last_start

    def __cinit__(self, *args):
        self.ends, self.nends, self.cends = NULL, 0, 0

    def __init__(self, capacity):
        self.times = np.array([t for t, _ in capacity] + [INF], dtype=np.float64)
        last = capacity[len(capacity) - 1][1]
        self.servers = np.array([s for _, s in capacity] + [last], dtype=np.int64)
        self.segment = 0
        self.segment_servers, self.upcoming = self.servers[0], self.times[1]
        self.last_start = 0.0

    def __dealloc__(self):
        free(self.ends)

    def serve(self, times, hours):
        """The start and end (hours) of the households arriving at ``times`` (in time order)
        with services of ``hours``, for as many as a server ever takes (the others, and all
        after them, never start)."""
        cdef double[:] at = np.ascontiguousarray(times, dtype=np.float64)
        cdef double[:] service = np.ascontiguousarray(hours, dtype=np.float64)
        cdef Py_ssize_t j, k = 0, n = at.shape[0]
        cdef double now, t, start, end
        cdef long long busy
        cdef bint replace
        starts, ends = np.empty(n), np.empty(n)
        cdef double[:] started = starts
        cdef double[:] ended = ends
        for j in range(n):
            now = at[j]
            t = now if now > self.last_start else self.last_start
            busy = self.nends
            # the plain recursion while no capacity change is near; else the general search
            replace = busy == self.segment_servers and self.segment_servers > 0
            start = t if not replace or self.ends[0] <= t else self.ends[0]
            if (busy >= self.segment_servers and not replace) or self.upcoming - start <= EPS:
                replace = False
                start = self.first_free(t)
                if start == INF:  # no server ever takes it, nor anyone after it
                    break
            self.last_start = start
            end = start + service[j]
            if replace:  # ends[0] is free by ``start``: that server takes this household
                self.replace_top(end)
            else:
                self.push(end)
            started[k], ended[k] = start, end
            k += 1
        return starts[:k], ends[:k]

    cdef double first_free(self, double t) except? -1.0:
        """The first time from ``t`` on at which a server is free to start (inf if never)."""
        cdef Py_ssize_t k
        cdef long long servers
        while True:
            while self.nends and self.ends[0] <= t:
                self.pop()
            k = self.segment
            while self.times[k + 1] <= t:
                k += 1
            self.segment = k
            self.upcoming = self.times[k + 1]
            self.segment_servers = self.servers[k]
            # within TIME_EPS of a capacity change, the new capacity applies (as in Stage)
            servers = self.servers[k + 1] if self.upcoming - t <= EPS else self.servers[k]
            if self.nends < servers:
                return t
            t = self.ends[0] if self.nends and self.ends[0] < self.upcoming else self.upcoming
            if t == INF:
                return INF

    cdef int push(self, double value) except -1:
        cdef Py_ssize_t i = self.nends, parent
        if self.nends == self.cends:
            self.ends = <double*>grow(self.ends, &self.cends, sizeof(double))
        while i > 0:
            parent = (i - 1) >> 1
            if self.ends[parent] <= value:
                break
            self.ends[i] = self.ends[parent]
            i = parent
        self.ends[i] = value
        self.nends += 1
        return 0

    cdef void pop(self) noexcept:
        self.nends -= 1
        if self.nends:
            self.sift_down(self.ends[self.nends])

    cdef void replace_top(self, double value) noexcept:
        self.sift_down(value)

    cdef void sift_down(self, double value) noexcept:
        """Put ``value`` at the root and move it down to its place."""
        cdef Py_ssize_t i = 0, child, n = self.nends
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            if child + 1 < n and self.ends[child + 1] < self.ends[child]:
                child += 1
            if value <= self.ends[child]:
                break
            self.ends[i] = self.ends[child]
            i = child
        self.ends[i] = value
