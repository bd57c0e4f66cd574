"""The crackdown: arrests after a group's deadline, holding centres, deportation convoys.

Randomness is per group (the order of arrests and the daily counts, stream ``crackdown/<group>/
arrests``; holding times, ``crackdown/<group>/holding``) and per crossing (convoy travel,
``convoy/<crossing>``), and groups are arrested in name order each day, so neither the order of
groups in the file nor a change to one group's rules moves another group's draws.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from simulation.engine.households import Households
from simulation.engine.journeys import BATCH_MIN, Journeys
from simulation.engine.records import ARRESTED, DETAINED, IN_PAKISTAN, TRAVELLING, FlowLog
from simulation.engine.sampling import Stream
from simulation.engine.streams import Streams
from simulation.scenario.calendar import (
    arrest_capacity_by_day,
    arrest_rate_by_day,
    crackdown_days,
)
from simulation.scenario.schema import Scenario


class Crackdown:
    """Arrests after a group's deadline, holding centres, and convoys to the crossings."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        streams: Streams,
        households: Households,
        flows: FlowLog,
        journeys: Journeys,
        population: dict[str, range],
    ) -> None:
        spec = scenario.crackdown
        assert spec is not None
        self.env, self.scenario, self.spec = env, scenario, spec
        self.hh, self.flows, self.journeys = households, flows, journeys
        self.groups = sorted(
            g for g, p in scenario.populations.items() if p.deadline is not None and p.persons > 0
        )
        self.rng = {g: streams.rng("crackdown", g, "arrests") for g in self.groups}
        self.dwell = {
            g: Stream(spec.holding.dwell_hours, streams.rng("crackdown", g, "holding"))
            for g in self.groups
        }
        self.travel = {
            c: Stream(spec.transport.travel_hours, streams.rng("convoy", c))
            for c in scenario.crossings
        }
        self.population = population
        self._sizes = np.asarray(households.size, dtype=np.int64)  # the population's, fixed
        self.held_persons = 0
        self.ready: dict[int, list[tuple[float, int, int]]] = {
            c: [] for c in range(len(scenario.crossings))
        }
        self._seq = itertools.count()

    def start(self) -> None:
        """Start the daily arrests and the convoys to each crossing."""
        if self.groups:
            self.env.process(self.arrests())
        for crossing in self.ready:
            self.env.process(self.convoys(crossing))

    def arrests(self) -> Generator[simpy.Event, Any, None]:
        """Each day at ``arrest_hour``, apprehend households of groups past their deadline.

        Each group's target is Binomial(households at home, rate); the day's arrest capacity and
        the free holding space are shared between groups in proportion to their targets.
        """
        s, groups = self.scenario, self.groups
        active = {g: crackdown_days(s, g) for g in groups}
        rates = {g: arrest_rate_by_day(s, g) for g in groups}
        capacity = arrest_capacity_by_day(s)
        order = {
            g: (self.population[g].start + self.rng[g].permutation(len(self.population[g])))
            for g in groups
        }
        queue = {g: order[g].tolist() for g in groups}
        pointer = dict.fromkeys(groups, 0)
        for day in range(s.days):
            today = [g for g in groups if active[g][day] and rates[g][day] > 0]
            if not today:
                continue
            yield self.env.timeout(24.0 * day + self.spec.arrest_hour - self.env.now)
            targets = {
                g: int(self.rng[g].binomial(self.hh.at_home[g], rates[g][day])) for g in today
            }
            free = self.spec.holding.capacity_persons - self.held_persons
            budget = int(min(free, capacity[day]))
            wanted = sum(targets.values())
            for g in today:
                share = budget * targets[g] // wanted if wanted else 0
                pointer[g] = self._arrest(g, queue[g], pointer[g], targets[g], share)

    def _arrest(self, group: str, order: list[int], pointer: int, target: int, budget: int) -> int:
        """Arrest up to ``target`` households at home, in the group's drawn order, within
        ``budget`` persons (stopping at the first one that does not fit); return where the
        next day's arrests start in ``order``. Households no longer at home are skipped."""
        if target <= 0:
            return pointer
        hh_, now = self.hh, self.env.now
        taken, pointer = self._pick(order, pointer, target, budget)
        if not taken:
            return pointer
        sizes = [hh_.size[hh] for hh in taken]
        self.held_persons += sum(sizes)
        gi = hh_.group[taken[0]]
        self.flows.move_all(np.full(len(taken), now), np.full(len(taken), gi), IN_PAKISTAN,
                            DETAINED, np.asarray(sizes))  # fmt: skip
        ready = self.dwell[group].take(len(taken))  # the draws dwell() would give, in order
        for hh, hours in zip(taken, ready, strict=True):
            heapq.heappush(self.ready[hh_.crossing[hh]], (now + hours, next(self._seq), hh))
        hh_.leave_home(taken, ARRESTED)
        hh_.deport(taken)
        return pointer

    def _pick(
        self, order: list[int], pointer: int, target: int, budget: int
    ) -> tuple[list[int], int]:
        """The households :meth:`_arrest` takes from ``order[pointer:]``, and the new pointer:
        those at home, in order, while fewer than ``target`` are taken and their persons fit
        in ``budget``; a window of the order at a time, with numpy."""
        taken: list[int] = []
        window = max(64, 2 * target)
        sizes = self._sizes
        while pointer < len(order):
            ids = np.asarray(order[pointer : pointer + window])
            home = np.flatnonzero(self.hh.at_home_mask(ids))
            fits = np.cumsum(sizes[ids[home]]) <= budget
            room = min(target - len(taken), int(fits.sum()))  # fits is a run of True first
            taken += ids[home[:room]].tolist()
            budget -= int(sizes[ids[home[:room]]].sum())
            if len(taken) == target:  # stop after the last one taken
                return taken, pointer + int(home[room - 1]) + 1
            if room < len(home):  # the next one at home does not fit: stop before it
                return taken, pointer + int(home[room])
            pointer += len(ids)
        return taken, pointer

    def convoys(self, crossing: int) -> Generator[simpy.Event, Any, None]:
        """Vehicles leave for the crossing ``departures_per_day`` times a day, evenly spaced."""
        transport, env = self.spec.transport, self.env
        gap = 24.0 / transport.departures_per_day
        queue, size = self.ready[crossing], self.hh.size
        for k in range(int(self.journeys.horizon / gap)):
            yield env.timeout((k + 0.5) * gap - env.now)
            room, aboard = transport.vehicle_capacity_persons, []
            while queue and queue[0][0] <= env.now and size[queue[0][2]] <= room:
                hh = heapq.heappop(queue)[2]
                room -= size[hh]
                aboard.append(hh)
            if aboard:
                self._depart(aboard, crossing)

    def _depart(self, aboard: list[int], crossing: int) -> None:
        travel = self.travel[self.journeys.names[crossing]]()
        now, size, group = self.env.now, self.hh.size, self.hh.group
        for hh in aboard:
            self.held_persons -= size[hh]
            self.flows.move(now, group[hh], DETAINED, TRAVELLING, size[hh])
        if len(aboard) < BATCH_MIN:  # one by one: cheaper than numpy for a few
            for hh in aboard:
                self.journeys.journey(hh, travel, crossing)
            return
        n, ids = len(aboard), np.array(aboard)
        persons, groups = (
            np.array([size[hh] for hh in aboard]),
            np.array([group[hh] for hh in aboard]),
        )
        self.journeys.journeys(ids, np.full(n, travel), np.full(n, crossing), persons, groups)
