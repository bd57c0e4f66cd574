"""The crackdown: arrests after a group's deadline, holding centres, deportation convoys."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simulation.engine.records import ARRESTED, DEPORTED, DETAINED, HOME, IN_PAKISTAN, TRAVELLING
from simulation.engine.sampling import Stream
from simulation.scenario.calendar import arrest_capacity_by_day, arrest_rate_by_day, crackdown_days

if TYPE_CHECKING:
    from simulation.engine.run import Model


class Crackdown:
    """Arrests after a group's deadline, holding centres, and convoys to the crossings."""

    def __init__(self, model: Model) -> None:
        spec = model.scenario.crackdown
        assert spec is not None
        self.model = model
        self.spec = spec
        self.rng = model.new_rng()
        self.dwell = Stream(spec.holding.dwell_hours, self.rng)
        self.travel = Stream(spec.transport.travel_hours, self.rng)
        self.held_persons = 0
        self.ready: dict[int, list[tuple[float, int, int]]] = {
            c: [] for c in range(len(model.crossing_names))
        }
        self._seq = itertools.count()

    def start(self) -> None:
        """Start the daily arrests and the convoys to each crossing."""
        env = self.model.env
        groups = [
            g
            for g, p in self.model.scenario.populations.items()
            if p.deadline is not None and p.persons > 0
        ]
        if groups:
            env.process(self.arrests(groups))
        for crossing in self.ready:
            env.process(self.convoys(crossing))

    def arrests(self, groups: list[str]) -> Generator[simpy.Event, Any, None]:
        """Each day at ``arrest_hour``, apprehend households of groups past their deadline.

        Each group's target is Binomial(households at home, rate); the day's arrest capacity and
        the free holding space are shared between groups in proportion to their targets.
        """
        m = self.model
        active = {g: crackdown_days(m.scenario, g) for g in groups}
        rates = {g: arrest_rate_by_day(m.scenario, g) for g in groups}
        capacity = arrest_capacity_by_day(m.scenario)
        order, pointer = {}, {}
        for g in groups:
            first, n = m.first_id[g], len(m.draws[g].sizes)
            order[g] = (first + self.rng.permutation(n)).tolist()
            pointer[g] = 0
        for day in range(m.scenario.days):
            today = [g for g in groups if active[g][day] and rates[g][day] > 0]
            if not today:
                continue
            yield m.env.timeout(24.0 * day + self.spec.arrest_hour - m.env.now)
            targets = {g: int(self.rng.binomial(m.at_home[g], rates[g][day])) for g in today}
            free = self.spec.holding.capacity_persons - self.held_persons
            budget = int(min(free, capacity[day]))
            wanted = sum(targets.values())
            for g in today:
                share = budget * targets[g] // wanted if wanted else 0
                pointer[g] = self._arrest(g, order[g], pointer[g], targets[g], share)

    def _arrest(self, group: str, order: list[int], pointer: int, target: int, budget: int) -> int:
        m = self.model
        gi, now = m.group_index[group], m.env.now
        taken: list[int] = []
        while len(taken) < target and pointer < len(order):
            hh = order[pointer]
            if m.status[hh] != HOME:
                pointer += 1
                continue
            size = m.hh.size[hh]
            if size > budget:
                break
            pointer += 1
            taken.append(hh)
            budget -= size
            m.leave_home(group, [hh], ARRESTED)
            m.hh.mode[hh] = DEPORTED
            self.held_persons += size
            m.flows.move(now, gi, IN_PAKISTAN, DETAINED, size)
            ready = now + self.dwell()
            heapq.heappush(self.ready[m.hh.crossing[hh]], (ready, next(self._seq), hh))
        m.refresh_ranks(taken)
        return pointer

    def convoys(self, crossing: int) -> Generator[simpy.Event, Any, None]:
        """Vehicles leave for the crossing ``departures_per_day`` times a day, evenly spaced."""
        m, transport = self.model, self.spec.transport
        gap = 24.0 / transport.departures_per_day
        queue = self.ready[crossing]
        for k in range(int(m.horizon / gap)):
            yield m.env.timeout((k + 0.5) * gap - m.env.now)
            room, aboard = transport.vehicle_capacity_persons, []
            while queue and queue[0][0] <= m.env.now and m.hh.size[queue[0][2]] <= room:
                hh = heapq.heappop(queue)[2]
                room -= m.hh.size[hh]
                aboard.append(hh)
            if aboard:
                self._depart(aboard, crossing)

    def _depart(self, aboard: list[int], crossing: int) -> None:
        m = self.model
        travel = self.travel()
        for hh in aboard:
            size = m.hh.size[hh]
            self.held_persons -= size
            m.flows.move(m.env.now, m.hh.group[hh], DETAINED, TRAVELLING, size)
            m.journey(hh, travel, crossing)
