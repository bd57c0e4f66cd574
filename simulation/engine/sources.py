"""Where households come from: the population's voluntary departures, direct demand, and the
backlogs already queueing when the run starts."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from simulation.engine.crossing import Crossing
from simulation.engine.households import Households
from simulation.engine.journeys import Journeys
from simulation.engine.population import GroupDraw
from simulation.engine.presets import ServicePresets
from simulation.engine.records import AT_CROSSING, DIRECT, HOME, IN_PAKISTAN, TRAVELLING, FlowLog
from simulation.engine.sampling import household_sizes
from simulation.engine.streams import Streams
from simulation.scenario.calendar import step_rates
from simulation.scenario.moments import mean_household_size
from simulation.scenario.schema import Backlog, Demand, Scenario


def voluntary_departures(
    env: simpy.Environment,
    draw: GroupDraw,
    first_id: int,
    households: Households,
    flows: FlowLog,
    journeys: Journeys,
) -> Generator[simpy.Event, Any, None]:
    """Each day at 00:00, start the journeys of the group's households leaving that day (those
    still at home)."""
    order = np.argsort(draw.depart_hours, kind="stable")
    times = draw.depart_hours[order]
    days = int(journeys.horizon // 24)
    day_ends = np.searchsorted(times, 24.0 * np.arange(1, days + 1))
    begin = 0
    for day, end in enumerate(day_ends.tolist()):
        if day > 0:
            yield env.timeout(24.0 * day - env.now)
        leaving = order[begin:end]
        begin = end
        home = leaving[households.at_home_mask(first_id + leaving)]
        if len(home) == 0:
            continue
        ids = first_id + home
        group = households.group[int(ids[0])]
        households.leave_home_group(ids, group)
        depart, persons = draw.depart_hours[home], draw.sizes[home]
        groups = np.full(len(ids), group)
        flows.move_all(depart, groups, IN_PAKISTAN, TRAVELLING, persons)
        delays = depart - env.now + draw.travel_hours[home]
        journeys.journeys(ids, delays, draw.crossing[home], persons, groups)


def demand_stream_name(scenario: Scenario, index: int) -> tuple[str, ...]:
    """A demand line's stable name: its crossing, its group label, and its rank among the
    lines with that crossing and label (so lines elsewhere in the file do not move it)."""
    spec = scenario.demand[index]
    same = [
        i
        for i, d in enumerate(scenario.demand)
        if d.crossing == spec.crossing and d.group == spec.group
    ]
    return ("demand", spec.crossing, spec.group, str(same.index(index)))


class DemandLine:
    """One line of direct demand: Poisson arrivals at a crossing from a dated daily rate."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        index: int,
        streams: Streams,
        target: Crossing,
        journeys: Journeys,
    ) -> None:
        spec: Demand = scenario.demand[index]
        name = demand_stream_name(scenario, index)
        self.env, self.spec, self.target, self.journeys = env, spec, target, journeys
        self.rng = streams.rng(*name, "arrivals")
        self.service = [streams.rng(*name, "service", s)
                        for s in scenario.crossings[spec.crossing].stages]  # fmt: skip
        rates = step_rates(scenario, spec.schedule)
        if spec.unit == "persons":
            rates = rates / mean_household_size(spec.household_size)
        self.rates: list[float] = rates.tolist()
        self.group = scenario.group_names.index(spec.group)
        self.crossing = list(scenario.crossings).index(spec.crossing)
        hours = spec.arrival_hours
        self.window = (0.0, 24.0) if hours is None else (hours.open_hour, hours.close_hour)
        self.diverts = spec.crossing in journeys.divert_to

    def day(self, day: int, households: Households, presets: ServicePresets) -> None:
        """Draw day ``day``'s households (at its midnight) and hand them to the crossing."""
        rng, spec = self.rng, self.spec
        n = int(rng.poisson(self.rates[day]))
        if n == 0:
            return
        offsets = self.window[0] + np.sort(rng.random(n)) * (self.window[1] - self.window[0])
        sizes = household_sizes(spec.household_size, rng, n)
        vulnerable = rng.random(n) < spec.vulnerable_share
        first = households.add(sizes, self.group, DIRECT, np.full(n, self.crossing), vulnerable)
        presets.extend(spec.crossing, first, sizes, self.service)
        arrivals = (24.0 * day + offsets).tolist()
        if self.target.deferred and not self.diverts:  # all-FIFO: it takes them now
            self.target.enter_all_at(range(first, first + n), arrivals)
        else:
            self.env.process(self._arrive(first, arrivals))

    def _arrive(self, first: int, arrivals: list[float]) -> Generator[simpy.Event, Any, None]:
        env, join, journeys = self.env, self.target.joiner(), self.journeys
        for hh, at in enumerate(arrivals, start=first):
            yield env.timeout(at - env._now)
            if self.diverts:
                journeys.arrive_now(hh, self.crossing)
            else:
                join(hh, False)


def direct_demand(
    env: simpy.Environment,
    lines: list[DemandLine],
    days: int,
    households: Households,
    presets: ServicePresets,
) -> Generator[simpy.Event, Any, None]:
    """Each midnight, every demand line in file order draws its day: households are created in
    the same order whichever engine serves the crossings."""
    for day in range(days):
        if day > 0:
            yield env.timeout(24.0 * day - env.now)
        for line in lines:
            line.day(day, households, presets)


def start_backlogs(
    scenario: Scenario,
    streams: Streams,
    households: Households,
    population: dict[str, range],
    initial: dict[str, dict[int, int]],
    crossings: dict[str, Crossing],
) -> None:
    """Put each stage's initial backlog in its queue at time zero.

    A backlog of a population group takes the group's first households still at home (and
    moves their persons from in Pakistan to at the crossing at the start); any other label
    is direct demand, with sizes drawn from the backlog's own stream.
    """
    for cname, crossing in scenario.crossings.items():
        for si, (sname, stage) in enumerate(crossing.stages.items()):
            backlog = stage.initial_backlog
            if backlog is None or backlog.households == 0:
                continue
            if backlog.group in scenario.populations:
                ids = _take_from_home(scenario, households, population, initial, backlog, cname)
            else:
                rng = streams.rng("backlog", cname, sname)
                assert backlog.household_size is not None  # validated: direct demand has sizes
                sizes = household_sizes(backlog.household_size, rng, backlog.households)
                group = scenario.group_names.index(backlog.group)
                ci = list(scenario.crossings).index(cname)
                first = households.add(sizes, group, DIRECT, np.full(len(sizes), ci))
                ids = list(range(first, first + len(sizes)))
            for hh in ids:
                crossings[cname].enter(hh, si)


def _take_from_home(
    scenario: Scenario,
    households: Households,
    population: dict[str, range],
    initial: dict[str, dict[int, int]],
    backlog: Backlog,
    crossing: str,
) -> list[int]:
    """The group's first ``backlog.households`` households still at home, now at ``crossing``."""
    group, ids = backlog.group, list[int]()
    for hh in population[group]:
        if len(ids) >= backlog.households:
            break
        if households.status[hh] == HOME:
            households.leave_home([hh])
            households.crossing[hh] = list(scenario.crossings).index(crossing)
            ids.append(hh)
    persons = sum(households.size[h] for h in ids)
    initial[group][IN_PAKISTAN] -= persons
    initial[group][AT_CROSSING] = initial[group].get(AT_CROSSING, 0) + persons
    return ids
