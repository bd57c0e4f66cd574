"""Journeys to the crossings, diversions from closed ones, and exits across the border.

A household's journey is one scheduled arrival event, set on the day it sets off: a household
on the road waits for nothing but time. An all-FIFO crossing takes the household ahead of time,
with no event at all (:meth:`Crossing.enter_at`). Only a household that finds its crossing
closed for longer than its patience, and is among the ``share`` of households that divert
(:class:`Diverters`), gets a process, to wait, give up and travel on to the crossing its rule
names (at most ``MAX_DIVERSIONS`` times).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator
from itertools import islice
from typing import Any, cast

import numpy as np
import simpy

from simulation.engine.crossing import Crossing
from simulation.engine.households import Households
from simulation.engine.records import AT_CROSSING, DIRECT, RETURNED, TRAVELLING, FlowLog
from simulation.engine.sampling import Stream
from simulation.engine.stages.loop import EventLoop
from simulation.engine.streams import Streams
from simulation.scenario.calendar import closure_intervals
from simulation.scenario.schema import Scenario

MAX_DIVERSIONS = 3
BATCH_MIN = 32  # fewer journeys at once are sent one by one (cheaper than numpy)
COIN_BLOCK = 4096  # uniforms drawn at a time for Diverters


class Diverters:
    """Which households divert from a closed crossing: household ``hh`` does when the
    ``hh``-th uniform of the crossing's own stream is below ``share``.

    The uniforms are indexed by household id, not drawn in the order households arrive, so
    both engines (which learn of arrivals at different moments) decide alike; they are drawn
    in blocks as ids grow (numpy's uniforms drawn in blocks are the same sequence).
    """

    def __init__(self, share: float, rng: np.random.Generator) -> None:
        self.share = share
        self._rng = rng
        self._uniforms = np.zeros(0)

    def _cover(self, top: int) -> np.ndarray:
        """The uniforms, drawn up to household id ``top`` at least."""
        have = len(self._uniforms)
        if top >= have:
            more = max(top + 1 - have, COIN_BLOCK)
            self._uniforms = np.concatenate([self._uniforms, self._rng.random(more)])
        return self._uniforms

    def diverts(self, hh: int) -> bool:
        """Does household ``hh`` divert?"""
        return bool(self._cover(hh)[hh] < self.share)

    def divert_all(self, households: np.ndarray) -> np.ndarray:
        """:meth:`diverts` for many households (a boolean array)."""
        if len(households) == 0:
            return np.zeros(0, dtype=bool)
        return self._cover(int(households.max()))[households] < self.share


class Journeys:
    """Sends households to their crossings and records them reaching and leaving them."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        streams: Streams,
        households: Households,
        flows: FlowLog,
        crossings: dict[str, Crossing],
        loop: EventLoop | None = None,
    ) -> None:
        self.env = env
        self.loop = loop
        self._ids = env._eid  # SimPy's event counter (loop events take theirs from it too)
        self._loop = cast(EventLoop, loop)  # used on the fast path only
        self._together: dict[int, tuple[list[int], ...]] = {}  # see journey_together
        self._tokens = itertools.count()
        # a batched arrival's handler where it does not divert: join the first stage
        self._first = [crossings[c].joiner() for c in scenario.crossings]
        self.hh = households
        self.flows = flows
        self.crossings = crossings
        self.horizon = scenario.horizon_hours
        self.names = list(scenario.crossings)
        self.closures = {c: closure_intervals(scenario, c) for c in scenario.crossings}
        rules = {c: x.divert for c, x in scenario.crossings.items()}
        self.divert_to = {c: r.to for c, r in rules.items() if r is not None}
        self._patience = [None if r is None else r.patience_hours for r in rules.values()]
        # who diverts, for rules where not everyone does (a stream only then: share 1.0 draws
        # nothing, so every other draw stays where it was)
        self._who = [
            None
            if r is None or r.share == 1.0
            else Diverters(r.share, streams.rng("divert", c, "who"))
            for c, r in rules.items()
        ]
        self._divert_travel = {
            c: Stream(r.travel_hours, streams.rng("divert", c))
            for c, r in rules.items()
            if r is not None
        }

    def journey(self, hh: int, delay: float, crossing: int) -> None:
        """Send household ``hh`` on its way: it reaches ``crossing`` in ``delay`` hours."""
        target = self.crossings[self.names[crossing]]
        at = self.env._now + delay  # as SimPy would schedule it
        if target.deferred and self.diversion_wait(crossing, hh, at) is None:
            if at < self.horizon:
                self._reached(hh, at)
                target.enter_at(hh, at)
            return
        if self.loop is not None:  # the same arrival, as a loop event
            self.loop.at(at, self._arrive_at, hh, crossing)
            return
        arrival = self.env.timeout(delay, (hh, crossing))
        arrival.callbacks.append(self._arrive)

    def journey_together(
        self, households: list[int], delay: float, crossing: int, persons: list[int],
        groups: list[int],
    ) -> None:  # fmt: skip
        """:meth:`journey` for a few households (of ``persons`` each, of ``groups``, none of
        them direct demand) setting off together: they reach ``crossing`` in ``delay`` hours,
        in this order.

        On the fast path their arrival events (ids drawn now, in order, all at one time)
        are one loop event with the first one's key: no other event can come between them
        (their ids are consecutive, and the only urgent event one of them can cause, a
        diversion's start, runs at once: :meth:`_divert_on_loop`)."""
        target = self.crossings[self.names[crossing]]
        if self.loop is None or target.deferred:
            for hh in households:
                self.journey(hh, delay, crossing)
            return
        token = next(self._tokens)
        self._together[token] = (households, persons, groups)
        self.loop.at(self.env._now + delay, self._arrive_together, token, crossing)
        if len(households) > 1:
            next(islice(self._ids, len(households) - 2, None))  # the others' ids

    def _arrive_together(self, token: int, crossing: int) -> None:
        """The households of :meth:`journey_together` reach ``crossing`` now, in order."""
        households, persons, groups = self._together.pop(token)
        # _reached for each, at once: arriving moves no persons between states
        self.flows.move_many(self.env._now, groups, TRAVELLING, AT_CROSSING, persons)
        if self._closed_to(crossing, self.env._now):
            for hh in households:
                self._join(hh, crossing)
        else:  # no one diverts: _join's test, once for all
            join = self._first[crossing]
            for hh in households:
                join(hh, False)

    def journeys(
        self,
        households: np.ndarray,
        delays: np.ndarray,
        crossings: np.ndarray,
        persons: np.ndarray,
        groups: np.ndarray,
    ) -> None:
        """:meth:`journey` for many households (of ``persons`` each, of ``groups``), in order.

        On the fast path the arrivals are one sorted batch of loop events (their ids drawn
        now, in this order, as the reference draws them) and the flows at arrival are
        recorded now; households bound for an all-FIFO crossing are handed over now.
        """
        if self.loop is None or len(households) < BATCH_MIN:
            for hh, delay, c in zip(
                households.tolist(), delays.tolist(), crossings.tolist(), strict=True
            ):
                self.journey(hh, delay, c)
            return
        at = self.env._now + delays  # elementwise, the same sums as journey's
        arrived = at < self.horizon
        self.flows.move_all(at[arrived], groups[arrived], TRAVELLING, AT_CROSSING, persons[arrived])
        code, deferred = self._arrival_codes(crossings, at, households)
        for c in np.unique(crossings[deferred & arrived]).tolist():
            mine = deferred & arrived & (crossings == c)
            self.crossings[self.names[c]].enter_all_at(households[mine].tolist(), at[mine])
        events = ~deferred
        code = code[events]
        table = [*self._first, self._divert_later]  # by crossing, then the diverting
        slot = np.where(code >= 0, code, len(self._first)).tolist()
        handlers = list(map(table.__getitem__, slot))
        # joiners take (hh, reserved=0); _divert_later takes (hh, code)
        self.loop.batch(at[events], handlers, households[events], np.minimum(code, 0))

    def _arrival_codes(
        self, crossings: np.ndarray, at: np.ndarray, households: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """For ``households`` arriving at ``crossings`` at ``at``: the code :meth:`_arrival`
        takes (the crossing, or ``-1 - crossing`` when the household will divert from it), and
        whether the crossing takes the household ahead of time (all-FIFO and not diverting)."""
        diverts = np.zeros(len(at), dtype=bool)
        for c, patience in enumerate(self._patience):
            if patience is None:
                continue
            here = crossings == c
            closed = np.zeros(len(at), dtype=bool)
            for start, end in self.closures[self.names[c]]:
                closed |= here & (start <= at) & (at < end) & (end - at > patience)
            who = self._who[c]
            if who is not None:
                closed &= who.divert_all(households)
            diverts |= closed
        code = np.where(diverts, -1 - crossings, crossings)
        fifo = np.array([self.crossings[n].deferred for n in self.names])[crossings]
        return code, fifo & ~diverts

    def _divert_later(self, hh: int, code: int) -> None:
        """A batched household reaches a closed crossing (``code`` = -1 - crossing): a loop
        event's handler, so the diversion runs on the loop (:meth:`_divert_on_loop`)."""
        crossing = -1 - code
        patience = self.diversion_wait(crossing, hh)
        assert patience is not None and self.loop is not None  # the batch checked it
        self._divert_on_loop(hh, crossing, patience)

    def arrive_now(self, hh: int, crossing: int) -> None:
        """Household ``hh`` (direct demand) turns up at ``crossing`` now."""
        if self.diversion_wait(crossing, hh) is None:
            self.crossings[self.names[crossing]].enter(hh)
        else:
            self.env.process(self._divert(hh, crossing))

    def _arrive(self, event: simpy.Event) -> None:
        hh, crossing = event._value
        self._arrive_at(hh, crossing)

    def _arrive_at(self, hh: int, crossing: int) -> None:
        """Household ``hh`` reaches ``crossing`` now (the handler of its arrival event)."""
        self._reached(hh, self.env._now)
        self._join(hh, crossing)

    def _join(self, hh: int, crossing: int) -> None:
        """Household ``hh``, at ``crossing`` now, joins it or starts diverting."""
        patience = self.diversion_wait(crossing, hh)
        if patience is None:
            self.crossings[self.names[crossing]].enter(hh)
        elif self.loop is None:
            self.env.process(self._divert(hh, crossing))
        else:
            self._divert_on_loop(hh, crossing, patience)

    def _reached(self, hh: int, hours: float) -> None:
        """Record household ``hh`` reaching a crossing at ``hours`` (direct demand untracked)."""
        if self.hh.mode[hh] != DIRECT:
            self.flows.move(hours, self.hh.group[hh], TRAVELLING, AT_CROSSING, self.hh.size[hh])

    def _divert(self, hh: int, crossing: int) -> Generator[simpy.Event, Any, None]:
        """Wait out the patience at a closed crossing and go on to the next one, then join."""
        env, name = self.env, self.names[crossing]
        group, persons = self.hh.group[hh], self.hh.size[hh]
        tracked = self.hh.mode[hh] != DIRECT
        for _ in range(MAX_DIVERSIONS):
            patience = self.diversion_wait(crossing, hh)
            if patience is None:
                break
            self.crossings[name].gave_up(hh, env.now, env.now + patience)
            yield env.timeout(patience)
            crossing = self.names.index(self.divert_to[name])
            if tracked:
                self.flows.move(env.now, group, AT_CROSSING, TRAVELLING, persons)
            yield env.timeout(self._divert_travel[name]())
            self._reached(hh, env.now)
            name = self.names[crossing]
        self.crossings[name].enter(hh)

    def _divert_on_loop(self, hh: int, crossing: int, patience: float) -> None:
        """:meth:`_divert` as loop events, started by the handler of the event that brought
        ``hh`` to the closed ``crossing``, as that handler's last action.

        SimPy would start the process with an urgent event at this instant, and nothing comes
        between it and this handler: an urgent event here would have been processed before
        this (normal) one, and the handler starts no other process. So running the process's
        first step now, after taking the id of that event, is the same; each ``timeout``
        becomes a loop event whose id is drawn when SimPy would draw the timeout's, and the
        process's end takes an id as SimPy's would (:meth:`_divert_reach`)."""
        next(self._ids)  # the process's start
        self._divert_wait(hh, crossing, 0, patience)

    def _divert_wait(self, hh: int, crossing: int, diverted: int, patience: float) -> None:
        """``hh`` gives up on ``crossing`` after ``patience`` hours (its ``diverted``-th)."""
        now = self.env._now
        self.crossings[self.names[crossing]].gave_up(hh, now, now + patience)
        code = crossing + len(self.names) * diverted
        self._loop.at(now + patience, self._divert_leave, hh, code)

    def _divert_leave(self, hh: int, code: int) -> None:
        """``hh`` leaves the crossing it gave up on, for the one its rule names."""
        crossing, diverted = code % len(self.names), code // len(self.names)
        name, now = self.names[crossing], self.env._now
        onward = self.names.index(self.divert_to[name])
        if self.hh.mode[hh] != DIRECT:
            self.flows.move(now, self.hh.group[hh], AT_CROSSING, TRAVELLING, self.hh.size[hh])
        code = onward + len(self.names) * diverted
        self._loop.at(now + self._divert_travel[name](), self._divert_reach, hh, code)

    def _divert_reach(self, hh: int, code: int) -> None:
        """``hh`` reaches the crossing it diverted to: it diverts again or joins it."""
        crossing, diverted = code % len(self.names), code // len(self.names) + 1
        self._reached(hh, self.env._now)
        if diverted < MAX_DIVERSIONS:
            patience = self.diversion_wait(crossing, hh)
            if patience is not None:
                self._divert_wait(hh, crossing, diverted, patience)
                return
        self.crossings[self.names[crossing]].enter(hh)
        next(self._ids)  # the process's end: SimPy schedules it as an event

    def _closed_to(self, crossing: int, hours: float) -> bool:
        """Would a household reaching ``crossing`` at ``hours`` wait there longer than its
        patience (so that it may divert, :meth:`diversion_wait`)?"""
        patience = self._patience[crossing]
        if patience is None:
            return False
        for start, end in self.closures[self.names[crossing]]:  # a loop: on every arrival
            if start <= hours < end and end - hours > patience:
                return True
        return False

    def diversion_wait(self, crossing: int, hh: int, at: float | None = None) -> float | None:
        """Hours household ``hh`` arriving now (or ``at``) waits before diverting, or None if
        it stays in line."""
        if not self._closed_to(crossing, self.env._now if at is None else at):
            return None
        who = self._who[crossing]
        return self._patience[crossing] if who is None or who.diverts(hh) else None


def exit_recorder(
    households: Households, flows: FlowLog, crossing: int
) -> Callable[[int, float], None]:
    """The function recording a household leaving the last stage of ``crossing`` during the
    run (a FIFO tail reports its exits after the run, to :func:`exits_recorder`)."""
    mode, group, size = households.mode, households.group, households.size
    move = flows.move
    exit_time, exit_hh, exit_crossing = (
        flows.exit_time.append,
        flows.exit_hh.append,
        flows.exit_crossing.append,
    )

    def returned(hh: int, hours: float) -> None:
        if mode[hh] != DIRECT:
            move(hours, group[hh], AT_CROSSING, RETURNED, size[hh])
        exit_time(hours)
        exit_hh(hh)
        exit_crossing(crossing)

    return returned


def exits_recorder(
    households: Households, flows: FlowLog, crossing: int, horizon: float
) -> Callable[[np.ndarray, np.ndarray], None]:
    """The function recording many households leaving the last stage of ``crossing`` (a FIFO
    tail, after the run); exits at or after ``horizon`` are dropped."""

    def exited(ids: np.ndarray, hours: np.ndarray) -> None:
        ids, times = np.asarray(ids, dtype=np.int64), np.asarray(hours, dtype=np.float64)
        reached = times < horizon
        ids, times = ids[reached], times[reached]
        columns = households.columns()
        tracked = columns["mode"][ids] != DIRECT
        flows.move_all(
            times[tracked],
            columns["group"][ids[tracked]],
            AT_CROSSING,
            RETURNED,
            columns["size"][ids[tracked]],
        )
        flows.exit_all(times, ids, crossing)

    return exited
