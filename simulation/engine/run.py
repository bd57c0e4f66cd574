"""One replication: a pure function of (scenario, seed) returning raw run records.

Households are the moving entity. A household's journey to its crossing is one scheduled
arrival event, set on the day it sets off; a household that finds its crossing closed gets a
short process to wait out its patience and divert. The crossing then moves it through its
stages by event callbacks (:class:`simulation.engine.crossing.Crossing`). Direct demand arrives from
one process per demand line. Arrests, holding and deportation convoys are daily processes of
the crackdown (:mod:`simulation.engine.crackdown`).
"""

from __future__ import annotations

import gc
from array import array
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import simpy

from simulation.engine.crackdown import Crackdown
from simulation.engine.crossing import Crossing
from simulation.engine.population import draw_group, draw_sizes
from simulation.engine.records import (
    AT_CROSSING,
    DEPORTED,
    DIRECT,
    GONE,
    HOME,
    IN_PAKISTAN,
    RENEGED,
    RETURNED,
    TRAVELLING,
    VOLUNTARY,
    FlowLog,
    RawRun,
)
from simulation.engine.sampling import (
    ServiceClock,
    Stream,
    household_sizes,
    service_hours,
)
from simulation.engine.stages.events import Stage
from simulation.engine.stages.fifo import FifoStage
from simulation.scenario.calendar import (
    capacity_breakpoints,
    closure_intervals,
    step_rates,
)
from simulation.scenario.moments import mean_household_size
from simulation.scenario.schema import Scenario, ServiceTime
from simulation.scenario.schema import Stage as StageSpec

MAX_DIVERSIONS = 3


@dataclass
class _Households:
    """Attributes of every household, population and direct demand alike (Python lists)."""

    size: list[int] = field(default_factory=list)
    group: list[int] = field(default_factory=list)
    mode: list[int] = field(default_factory=list)
    crossing: list[int] = field(default_factory=list)
    vulnerable: list[bool] = field(default_factory=list)
    rank: dict[tuple[str, ...], list[int]] = field(default_factory=dict)

    def add(
        self,
        sizes: np.ndarray,
        group: int,
        mode: int,
        crossing: np.ndarray,
        vulnerable: np.ndarray | None = None,
    ) -> int:
        """Append households; return the id of the first."""
        first = len(self.size)
        self.size.extend(sizes.tolist())
        self.group.extend([group] * len(sizes))
        self.mode.extend([mode] * len(sizes))
        self.crossing.extend(crossing.tolist())
        flags = [False] * len(sizes) if vulnerable is None else vulnerable.tolist()
        self.vulnerable.extend(flags)
        return first


class Model:
    """The SimPy environment and everything that lives in it for one replication."""

    def __init__(self, scenario: Scenario, seed: int, lookahead: bool = True) -> None:
        self.scenario = scenario
        self.lookahead = lookahead
        self.seed = seed
        self.env = simpy.Environment()
        self.flows = FlowLog()
        self.hh = _Households()
        self.horizon = scenario.horizon_hours
        self._seeds = np.random.SeedSequence(seed)
        self.group_index = {name: i for i, name in enumerate(scenario.group_names)}
        self.crossing_names = list(scenario.crossings)
        self.initial: dict[str, dict[int, int]] = {
            g: {IN_PAKISTAN: p.persons} for g, p in scenario.populations.items()
        }
        self.draws = {g: draw_group(scenario, g, self.new_rng()) for g in scenario.populations}
        self.first_id: dict[str, int] = {}
        for g, draw in self.draws.items():
            self.first_id[g] = self.hh.add(
                draw.sizes, self.group_index[g], VOLUNTARY, draw.crossing, draw.vulnerable
            )
        self.population_households = len(self.hh.size)
        self.status = [HOME] * len(self.hh.size)
        self.at_home = {g: len(d.sizes) for g, d in self.draws.items()}
        # per crossing, each stage's up-front service hours, their distribution and stream
        self._presets: dict[str, list[tuple[array, ServiceTime, np.random.Generator]]] = {}
        # the population's household sizes and crossings, as arrays once for all stages
        self._population_sizes = np.asarray(self.hh.size, dtype=np.int64)
        self._population_routes = np.asarray(self.hh.crossing, dtype=np.int64)
        self.stages = self._build_stages()
        self.crossings = {
            name: Crossing(self.env, stages, self._exit_recorder(ci), partial(self._exited, ci))
            for ci, (name, stages) in enumerate(self.stages.items())
        }
        self.closures = {c: closure_intervals(scenario, c) for c in scenario.crossings}
        self._divert_to = {
            c: x.divert.to for c, x in scenario.crossings.items() if x.divert is not None
        }
        self._patience = [
            None if x.divert is None else x.divert.patience_hours
            for x in scenario.crossings.values()
        ]
        self._divert_travel = {
            c: Stream(x.divert.travel_hours, self.new_rng())
            for c, x in scenario.crossings.items()
            if x.divert is not None
        }

    def new_rng(self) -> np.random.Generator:
        """A fresh generator from the next child of the replication's seed sequence."""
        return np.random.default_rng(self._seeds.spawn(1)[0])

    # ------------------------------------------------------------------ build
    def _build_stages(self) -> dict[str, list[Stage | FifoStage]]:
        stages: dict[str, list[Stage | FifoStage]] = {}
        for cname, crossing in self.scenario.crossings.items():
            specs = list(crossing.stages.items())
            stages[cname] = []
            for k, (sname, spec) in enumerate(specs):
                clock = ServiceClock(
                    spec.service_minutes.per_household,
                    spec.service_minutes.per_person,
                    self.new_rng(),
                )
                capacity = capacity_breakpoints(self.scenario, cname, sname)
                preset = self._preset_hours(cname, spec.service_minutes)
                self._presets.setdefault(cname, []).append(
                    (preset, spec.service_minutes, self.new_rng())
                )
                if self.lookahead and _first_come_no_blocking([s for _, s in specs], k):
                    stages[cname].append(FifoStage(clock, capacity, self.hh.size, preset))
                    continue
                rank = self._ranks(tuple(spec.priority)) if spec.priority else None
                stages[cname].append(
                    Stage(
                        self.env,
                        clock,
                        capacity,
                        self.hh.size,
                        rank,
                        spec.waiting_capacity_households,
                        preset,
                    )
                )
        return stages

    def _preset_hours(self, crossing: str, service: ServiceTime) -> array:
        """Service times (hours) drawn up front for the population households routed to this
        crossing; NaN for the others (drawn when served)."""
        ci = self.crossing_names.index(crossing)
        sizes, routes = self._population_sizes, self._population_routes
        routed = routes == ci
        hours = np.full(len(sizes), np.nan)
        hours[routed] = service_hours(
            service.per_household, service.per_person, sizes[routed], self.new_rng()
        )
        return array("d", hours.tobytes())

    def _preset_more(self, crossing: str, first: int, sizes: np.ndarray) -> None:
        """Draw up front the service hours of households ``first``.. (direct demand bound for
        ``crossing``) at each of its stages, as for the population."""
        for preset, service, rng in self._presets[crossing]:
            if len(preset) < first:
                preset.frombytes(np.full(first - len(preset), np.nan).tobytes())
            hours = service_hours(service.per_household, service.per_person, sizes, rng)
            preset.frombytes(hours.tobytes())

    def _ranks(self, order: tuple[str, ...]) -> list[int]:
        """A shared, growing list: queue rank of each household under a priority order."""
        return self.hh.rank.setdefault(order, [])

    def _rank_of(self, order: tuple[str, ...], hh: int) -> int:
        for i, name in enumerate(order):
            if name == "deported" and self.hh.mode[hh] == DEPORTED:
                return i
            if name == "vulnerable" and self.hh.vulnerable[hh]:
                return i
        return len(order)

    def refresh_ranks(self, ids: range | list[int]) -> None:
        """Recompute the queue rank of these households under every priority order."""
        n = len(self.hh.size)
        for order, ranks in self.hh.rank.items():
            if len(ranks) < n:
                ranks.extend([len(order)] * (n - len(ranks)))
            if isinstance(ids, range) and ids.step == 1 and len(ids) > 64:
                ranks[ids.start : ids.stop] = self._ranks_of_range(order, ids)
            else:
                for hh in ids:
                    ranks[hh] = self._rank_of(order, hh)

    def _ranks_of_range(self, order: tuple[str, ...], ids: range) -> list[int]:
        """Vectorised :meth:`_rank_of` over a contiguous range of households."""
        classes = {
            "deported": np.asarray(self.hh.mode[ids.start : ids.stop]) == DEPORTED,
            "vulnerable": np.asarray(self.hh.vulnerable[ids.start : ids.stop], dtype=bool),
        }
        ranks = np.full(len(ids), len(order))
        for i in reversed(range(len(order))):
            ranks[classes[order[i]]] = i
        ranks_list: list[int] = ranks.tolist()
        return ranks_list

    # ------------------------------------------------------------------ journeys
    def journey(self, hh: int, delay: float, crossing: int) -> None:
        """Send household ``hh`` on its way: it reaches ``crossing`` in ``delay`` hours.

        The journey is one scheduled arrival event: a household on the road waits for nothing
        but time. An all-FIFO crossing takes the household ahead of time, with no event
        (:meth:`Crossing.enter_at`). Only a household that finds its crossing closed gets a
        process (:meth:`_divert`), to wait out its patience and move on.
        """
        target = self.crossings[self.crossing_names[crossing]]
        at = self.env._now + delay  # as SimPy would schedule it
        if target.deferred and self._diversion_wait(crossing, at) is None:
            if at < self.horizon:
                self._reached(hh, at)
                target.enter_at(hh, at)
            return
        arrival = self.env.timeout(delay, (hh, crossing))
        arrival.callbacks.append(self._arrive)

    def _arrive(self, event: simpy.Event) -> None:
        hh, crossing = event._value
        self._reached(hh, self.env._now)
        if self._diversion_wait(crossing) is None:
            self.crossings[self.crossing_names[crossing]].enter(hh)
        else:
            self.env.process(self._divert(hh, crossing))

    def _reached(self, hh: int, hours: float) -> None:
        """Record household ``hh`` reaching a crossing at ``hours`` (direct demand untracked)."""
        if self.hh.mode[hh] != DIRECT:
            self.flows.move(hours, self.hh.group[hh], TRAVELLING, AT_CROSSING, self.hh.size[hh])

    def _divert(self, hh: int, crossing: int) -> Generator[simpy.Event, Any, None]:
        """Wait out the patience at a closed crossing and go on to the next one, then join."""
        env, name = self.env, self.crossing_names[crossing]
        group, persons = self.hh.group[hh], self.hh.size[hh]
        tracked = self.hh.mode[hh] != DIRECT
        for _ in range(MAX_DIVERSIONS):
            patience = self._diversion_wait(crossing)
            if patience is None:
                break
            gave_up = env.now + patience
            self.stages[name][0].log.add(hh, env.now, gave_up, gave_up, RENEGED, gave_up)
            yield env.timeout(patience)
            crossing = self.crossing_names.index(self._divert_to[name])
            if tracked:
                self.flows.move(env.now, group, AT_CROSSING, TRAVELLING, persons)
            yield env.timeout(self._divert_travel[name]())
            self._reached(hh, env.now)
            name = self.crossing_names[crossing]
        self.crossings[name].enter(hh)

    def _exit_recorder(self, crossing: int) -> Callable[[int, float], None]:
        """The function recording a household leaving the last stage of ``crossing`` during
        the run (a FIFO tail reports its exits after the run, to :meth:`_exited`)."""
        mode, group, size = self.hh.mode, self.hh.group, self.hh.size
        move, f = self.flows.move, self.flows
        exit_time, exit_hh, exit_crossing = (
            f.exit_time.append,
            f.exit_hh.append,
            f.exit_crossing.append,
        )

        def returned(hh: int, hours: float) -> None:
            if mode[hh] != DIRECT:
                move(hours, group[hh], AT_CROSSING, RETURNED, size[hh])
            exit_time(hours)
            exit_hh(hh)
            exit_crossing(crossing)

        return returned

    def _exited(self, crossing: int, households: np.ndarray, hours: np.ndarray) -> None:
        """Many households left the last stage of ``crossing`` (a FIFO tail, after the run)."""
        ids, times = np.asarray(households, dtype=np.int64), np.asarray(hours, dtype=np.float64)
        reached = times < self.horizon
        ids, times = ids[reached], times[reached]
        tracked = np.asarray(self.hh.mode)[ids] != DIRECT
        self.flows.move_all(
            times[tracked],
            np.asarray(self.hh.group)[ids[tracked]],
            AT_CROSSING,
            RETURNED,
            np.asarray(self.hh.size)[ids[tracked]],
        )
        self.flows.exit_all(times, ids, crossing)

    def _diversion_wait(self, crossing: int, at: float | None = None) -> float | None:
        """Hours a household arriving now (or ``at``) waits before diverting, or None if it
        stays in line."""
        patience = self._patience[crossing]
        if patience is None:
            return None
        now = self.env._now if at is None else at
        for start, end in self.closures[self.crossing_names[crossing]]:
            if start <= now < end and end - now > patience:
                return patience
        return None

    # ------------------------------------------------------------------ sources
    def voluntary_departures(self, group: str) -> Generator[simpy.Event, Any, None]:
        """Each day at 00:00, start the journeys of the group's households leaving that day."""
        draw = self.draws[group]
        order = np.argsort(draw.depart_hours, kind="stable")
        times = draw.depart_hours[order]
        day_ends = np.searchsorted(times, 24.0 * np.arange(1, self.scenario.days + 1))
        begin = 0
        for day, end in enumerate(day_ends.tolist()):
            if day > 0:
                yield self.env.timeout(24.0 * day - self.env.now)
            self._set_off(group, order[begin:end])
            begin = end

    def _set_off(self, group: str, leaving: np.ndarray) -> None:
        """Start the journeys of the group's households ``leaving`` (positions in its draw)
        today, those still at home."""
        draw, first, status = self.draws[group], self.first_id[group], self.status
        home = np.asarray([k for k in leaving.tolist() if status[first + k] == HOME], dtype=int)
        if len(home) == 0:
            return
        ids = (first + home).tolist()
        self.leave_home(group, ids)
        depart = draw.depart_hours[home]
        gi = self.group_index[group]
        self.flows.move_all(
            depart, np.full(len(ids), gi), IN_PAKISTAN, TRAVELLING, draw.sizes[home]
        )
        crossing = self.hh.crossing
        delays = (depart - self.env.now + draw.travel_hours[home]).tolist()
        for hh, delay in zip(ids, delays, strict=True):
            self.journey(hh, delay, crossing[hh])

    def leave_home(self, group: str, households: list[int], status: int = GONE) -> None:
        """Mark households as no longer at home (gone, or arrested)."""
        for hh in households:
            self.status[hh] = status
        self.at_home[group] -= len(households)

    def direct_demand(self, index: int) -> Generator[simpy.Event, Any, None]:
        """Poisson arrivals at a crossing from a dated daily rate; one day is drawn at a time."""
        spec = self.scenario.demand[index]
        rng = self.new_rng()
        rates = step_rates(self.scenario, spec.schedule)
        if spec.unit == "persons":
            rates = rates / mean_household_size(spec.household_size)
        gi = self.group_index[spec.group]
        crossing = self.crossing_names.index(spec.crossing)
        hours = spec.arrival_hours
        window = (0.0, 24.0) if hours is None else (hours.open_hour, hours.close_hour)
        env, target = self.env, self.crossings[spec.crossing]
        join, diverts = target.joiner(), spec.crossing in self._divert_to
        for day, rate in enumerate(rates.tolist()):
            if day > 0:
                yield env.timeout(24.0 * day - env.now)
            n = int(rng.poisson(rate))
            if n == 0:
                continue
            offsets = window[0] + np.sort(rng.random(n)) * (window[1] - window[0])
            sizes = household_sizes(spec.household_size, rng, n)
            vulnerable = rng.random(n) < spec.vulnerable_share
            first = self.hh.add(sizes, gi, DIRECT, np.full(n, crossing), vulnerable)
            self.refresh_ranks(range(first, first + n))
            self._preset_more(spec.crossing, first, sizes)
            if target.deferred and not diverts:  # all-FIFO: it takes the day's arrivals now
                target.enter_all_at(range(first, first + n), (24.0 * day + offsets).tolist())
                continue
            for hh, at in enumerate((24.0 * day + offsets).tolist(), start=first):
                yield env.timeout(at - env._now)
                if diverts and self._diversion_wait(crossing) is not None:
                    env.process(self._divert(hh, crossing))
                else:
                    join(hh, False)

    def start_backlogs(self) -> None:
        """Put each stage's initial backlog in its queue at time zero."""
        for cname, crossing in self.scenario.crossings.items():
            for si, stage in enumerate(crossing.stages.values()):
                backlog = stage.initial_backlog
                if backlog is None or backlog.households == 0:
                    continue
                for hh in self._backlog_households(backlog.group, backlog, cname):
                    self.crossings[cname].enter(hh, si)

    def _backlog_households(self, group: str, backlog: Any, crossing: str) -> list[int]:
        gi = self.group_index[group]
        if group not in self.scenario.populations:
            sizes = household_sizes(backlog.household_size, self.new_rng(), backlog.households)
            ci = self.crossing_names.index(crossing)
            first = self.hh.add(sizes, gi, DIRECT, np.full(len(sizes), ci))
            return list(range(first, first + len(sizes)))
        first, ids = self.first_id[group], list[int]()
        total = len(self.draws[group].sizes)
        for k in range(total):
            hh = first + k
            if len(ids) >= backlog.households:
                break
            if self.status[hh] == HOME:
                self.leave_home(group, [hh])
                self.hh.crossing[hh] = self.crossing_names.index(crossing)
                ids.append(hh)
        persons = sum(self.hh.size[h] for h in ids)
        self.initial[group][IN_PAKISTAN] -= persons
        self.initial[group][AT_CROSSING] = self.initial[group].get(AT_CROSSING, 0) + persons
        return ids


def run_model(scenario: Scenario, seed: int, lookahead: bool = True) -> RawRun:
    """Run one replication to the end of the calendar and return its raw records.

    ``lookahead=False`` serves every stage with the event-by-event engine; the sample path is
    the same (tests compare the two), only slower.
    """
    model = Model(scenario, seed, lookahead)
    model.refresh_ranks(range(len(model.hh.size)))
    model.start_backlogs()
    for group in scenario.populations:
        model.env.process(model.voluntary_departures(group))
    for index in range(len(scenario.demand)):
        model.env.process(model.direct_demand(index))
    if scenario.crackdown is not None:
        Crackdown(model).start()
    with _quiet_gc():
        model.env.run(until=model.horizon)
        for crossing in model.crossings.values():
            crossing.close_books(model.horizon)  # serves the FIFO tails
    return _collect(model)


def _first_come_no_blocking(stages: list[StageSpec], k: int) -> bool:
    """Does stage ``k`` serve in arrival order with no waiting limit, and can its households
    always move on (the next stage has no waiting limit)? Then a FifoStage serves it."""
    spec = stages[k]
    last = k + 1 == len(stages)
    return (
        not spec.priority
        and spec.waiting_capacity_households is None
        and (last or stages[k + 1].waiting_capacity_households is None)
    )


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """Collect garbage rarely during a run: the run allocates millions of short-lived events
    and generators that reference counting frees, while full collections would rescan the
    large, long-lived household lists again and again (16% of run time at full scale). The
    collection first (25 ms) frees the cycles left by earlier runs in this process, which
    freezing would keep: without it, 20 replications in one process peaked at 1.5 GB."""
    gc.collect()
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _collect(model: Model) -> RawRun:
    f = model.flows
    scenario = model.scenario
    logs = {
        (cname, sname): stage.log.to_arrays()
        for cname, crossing in scenario.crossings.items()
        for sname, stage in zip(crossing.stages, model.stages[cname], strict=True)
    }
    return RawRun(
        scenario=scenario,
        seed=model.seed,
        sizes=np.asarray(model.hh.size, dtype=np.int64),
        group=np.asarray(model.hh.group, dtype=np.int64),
        mode=np.asarray(model.hh.mode, dtype=np.int64),
        stage_logs=logs,
        flows=f.flows(),
        exits=f.exits(),
        initial=model.initial,
        closures=model.closures,
        events=next(model.env._eid),
    )


__all__ = ["RawRun", "draw_sizes", "run_model"]
