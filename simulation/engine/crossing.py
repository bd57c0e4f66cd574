"""A crossing: its stages in order, and the way households move from one to the next.

Households move on from the handler of the event that ends their visit, so a crossing costs no
process per household. The engines of its stages are chosen by
:mod:`simulation.engine.stages.choice`: the event-by-event reference
:class:`~simulation.engine.stages.events.Stage` (SimPy events), the same rules on the fast
:class:`~simulation.engine.stages.loop.LoopStage` (events in an :class:`EventLoop`), and
:class:`~simulation.engine.stages.fifo.FifoStage` for the FIFO tail.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from functools import partial

import numpy as np
import simpy
from simpy.events import Event

from simulation.engine.records import RENEGED
from simulation.engine.stages.events import Stage
from simulation.engine.stages.fifo import FifoStage
from simulation.engine.stages.loop import LoopStage, is_loop_stage

AnyStage = Stage | LoopStage | FifoStage


class Crossing:
    """A crossing's stages in order, passed by each household one after the other.

    The *FIFO tail* (the stages after the last event-driven :class:`Stage` or
    :class:`LoopStage`, all :class:`FifoStage`) reacts to nothing and nothing reacts to it: its
    arrivals are kept in time order and served by the recursion when the run ends
    (:meth:`close_books`), with no event at all. When every stage is a FifoStage
    (``deferred``), sources may hand over households that will arrive later
    (:meth:`enter_at`). ``on_exit(hh, hours)`` is called when a household leaves the last
    stage during the run; ``on_exits(households, hours)`` reports a FIFO tail's last stage
    when the run ends, including ends beyond the horizon (or inf), which it must drop.
    """

    def __init__(
        self,
        env: simpy.Environment,
        stages: Sequence[AnyStage],
        on_exit: Callable[[int, float], None],
        on_exits: Callable[[np.ndarray, np.ndarray], None],
    ) -> None:
        self.env = env
        self.stages = list(stages)
        self._on_exit = on_exit
        self._on_exits = on_exits
        self._last = len(self.stages) - 1
        # the stages by engine, typed (the only place that asks which engine a stage has)
        self._driven = {k: s for k, s in enumerate(self.stages) if isinstance(s, Stage)}
        self._looped = {k: s for k, s in enumerate(self.stages) if is_loop_stage(s)}
        self._fifo = {k: s for k, s in enumerate(self.stages) if isinstance(s, FifoStage)}
        self._tail = max([*self._driven, *self._looped], default=-1) + 1
        assert all(k >= self._tail for k in self._fifo), "a FifoStage serves only the tail"
        assert not (self._driven and self._looped), "one event engine per crossing"
        self.deferred = self._tail == 0
        # arrivals kept for the FIFO tail: (hours, household) buffers per stage
        self._pending = [(array("d"), array("q")) for _ in self.stages]
        self._join: list[Callable[[int, bool], None]] = []  # filled below; finishers use it
        self._served = [self._finisher(k) for k in range(len(self.stages))]
        self._join.extend(self._joiner(k) for k in range(len(self.stages)))
        for k in self._looped:
            self._connect(k)

    def enter(self, hh: int, first: int = 0, reserved: bool = False) -> None:
        """Household ``hh`` joins stage ``first`` now (``reserved``: its place is held)."""
        self._join[first](hh, reserved)

    def enter_at(self, hh: int, hours: float) -> None:
        """Household ``hh`` will join the first stage at ``hours`` (only when ``deferred``)."""
        assert self.deferred, "only an all-FIFO crossing takes arrivals ahead of time"
        self._pending[0][0].append(hours)
        self._pending[0][1].append(hh)

    def enter_all_at(self, households: Iterable[int], hours: Iterable[float]) -> None:
        """:meth:`enter_at` for many households at once."""
        assert self.deferred, "only an all-FIFO crossing takes arrivals ahead of time"
        self._pending[0][0].extend(hours)
        self._pending[0][1].extend(households)

    def gave_up(self, hh: int, arrived: float, leaves: float) -> None:
        """Household ``hh``, arriving at ``arrived`` while the crossing is closed, gives up
        at ``leaves`` (recorded at the first stage as a visit that reneged)."""
        first = self.stages[0]
        if is_loop_stage(first):
            first.gave_up(hh, arrived, leaves)
        else:
            first.log.add(hh, arrived, leaves, leaves, RENEGED, leaves)

    def joiner(self, first: int = 0) -> Callable[[int, bool], None]:
        """``join(hh, reserved)``: :meth:`enter` at stage ``first``, for callers in a loop."""
        return self._join[first]

    def _joiner(self, k: int) -> Callable[[int, bool], None]:
        env = self.env
        if k in self._looped:
            return self._looped[k].arrive
        if k in self._driven:
            arrive, served = self._driven[k].arrive, self._served[k]

            def join_stage(hh: int, reserved: bool = False) -> None:
                arrive(hh, reserved).callbacks.append(served)

            return join_stage
        at, who = self._pending[k][0].append, self._pending[k][1].append

        def join_tail(hh: int, reserved: bool = False) -> None:
            at(env._now)
            who(hh)

        join_tail.tail = self._pending[k]  # type: ignore[attr-defined]  # the compiled engine appends itself
        return join_tail

    def _finisher(self, k: int) -> Callable[[Event], None]:
        """The callback ending a visit to event-driven stage ``k``: free the server and move
        on, or wait at the server while the next stage's waiting area is full."""
        env, joins = self.env, self._join
        stage = self._driven.get(k)
        if stage is None:
            return self._never
        release, visits = stage.release, stage.log.hh
        if k == self._last:
            on_exit = self._on_exit

            def finish_last(event: Event) -> None:
                index = event._value
                release(index)
                on_exit(visits[index], env._now)

            return finish_last
        limited = self._driven.get(k + 1)
        if limited is not None and limited.waiting_capacity is not None:

            def finish_before_limit(event: Event) -> None:
                index = event._value
                hh = visits[index]
                if not limited.has_room():
                    blocked = partial(self._after_block, k, index, hh)
                    limited.wait_for_room().callbacks.append(blocked)
                    return
                release(index)
                joins[k + 1](hh, False)

            return finish_before_limit

        def finish(event: Event) -> None:
            index = event._value
            release(index)
            joins[k + 1](visits[index], False)

        return finish

    @staticmethod
    def _never(event: Event) -> None:
        raise AssertionError("only a Stage schedules SimPy service events")

    def _after_block(self, k: int, index: int, hh: int, _: Event) -> None:
        self._driven[k].release(index)
        self.enter(hh, k + 1, reserved=True)

    def _connect(self, k: int) -> None:
        """Tell :class:`LoopStage` ``k`` where its households go after their service."""
        stage = self._looped[k]
        if k == self._last:
            stage.connect(None, on_exit=self._on_exit)
            return
        limited = self._looped.get(k + 1)
        if limited is not None and limited.waiting_capacity is None:
            limited = None
        stage.connect(self._join[k + 1], limited)

    def _serve_tail(self, horizon: float) -> None:
        """Serve the FIFO tail's arrivals before ``horizon``, stage by stage in time order
        (a stable sort keeps the order in which simultaneous arrivals came)."""
        for k in range(self._tail, len(self.stages)):
            stage = self._fifo[k]
            buffers = self._pending[k]
            times, households = np.array(buffers[0]), np.array(buffers[1])
            for buffer in buffers:  # the joiners hold these buffers: empty them in place
                del buffer[:]
            order = np.argsort(times, kind="stable")
            # an event-driven run stops before arrivals at the horizon or later
            cut = int(np.searchsorted(times[order], horizon, side="left"))
            times, households = times[order][:cut], households[order][:cut]
            ends = stage.serve(times, households)
            if k == self._last:
                self._on_exits(households, ends)
            else:
                onward = ends < horizon
                self._pending[k + 1][0].frombytes(ends[onward].tobytes())
                self._pending[k + 1][1].frombytes(households[onward].tobytes())

    def close_books(self, horizon: float) -> None:
        """At the end of the run (``horizon`` hours), serve the FIFO tail and record every
        stage's unfinished visits."""
        self._serve_tail(horizon)
        for stage in self.stages:
            stage.close_books(horizon)
