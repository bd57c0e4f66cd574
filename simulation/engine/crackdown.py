"""The crackdown: arrests after a group's deadline or status lapse, targeted campaigns,
holding centres, deportation convoys.

Randomness is per group (the order of arrests and the daily counts, stream ``crackdown/<group>/
arrests``; holding times, ``crackdown/<group>/holding``), per campaign and group (``crackdown/
campaign/<name>/<group>/arrests`` and ``.../holding``) and per crossing (convoy travel,
``convoy/<crossing>``). Each day at ``arrest_hour`` the general crackdown arrests first (groups
in name order), then each campaign in name order; so neither the order of groups or campaigns
in the file nor a change to one group's rules moves another group's draws.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
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
    campaign_days,
    closed_days,
    crackdown_days,
    holding_capacity_by_day,
    transport_by_day,
)
from simulation.scenario.schema import Campaign, Scenario


@dataclass
class Sweep:
    """One group's arrests by one arrester (the general crackdown or a campaign): the drawn
    order of its targeted households and where the next day's arrests start in it."""

    group: str
    order: np.ndarray  # household ids
    rng: np.random.Generator
    dwell: Stream
    active: np.ndarray  # bool per day
    rate_per_day: np.ndarray  # per day
    ids: np.ndarray  # the targeted households, ascending
    pointer: int = 0

    def today(self, day: int) -> bool:
        """Does this sweep arrest on ``day``?"""
        return bool(self.active[day]) and self.rate_per_day[day] > 0


class Crackdown:
    """Arrests (general and by campaign), holding centres, and convoys to the crossings."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        streams: Streams,
        households: Households,
        flows: FlowLog,
        journeys: Journeys,
        population: dict[str, range],
        regions: dict[str, np.ndarray] | None = None,
    ) -> None:
        spec = scenario.crackdown
        assert spec is not None
        self.env, self.scenario, self.spec = env, scenario, spec
        self.hh, self.flows, self.journeys = households, flows, journeys
        self.population = population
        self.general = [
            self._general(g, streams)
            for g, p in sorted(scenario.populations.items())
            if (p.deadline is not None or p.status_lapses is not None) and p.persons > 0
        ]
        self.capacity = arrest_capacity_by_day(scenario)
        self.campaigns = [
            (self._capacity(c), self._campaign(c, streams, regions or {}))
            for c in sorted(spec.campaigns, key=lambda c: c.name)
        ]
        self.travel = {
            c: Stream(spec.transport.travel_hours, streams.rng("convoy", c))
            for c in scenario.crossings
        }
        self._sizes = np.array(households.size, dtype=np.int64)  # the population's, fixed
        self._crossings = np.array(households.crossing, dtype=np.int64)  # idem, at home
        self.holding = holding_capacity_by_day(scenario)
        self.departures, self.vehicle = transport_by_day(scenario)
        # convoys' departures (the same to every crossing): hour, vehicle room, day
        self._hours = list(self._departure_hours())
        days = [min(int(hour // 24), scenario.days - 1) for hour in self._hours]
        self._room = [int(self.vehicle[day]) for day in days]
        self._day = days
        self.closed = np.array([closed_days(scenario, c) for c in scenario.crossings])
        self._closed: list[list[bool]] = self.closed.tolist()
        self.held_persons = 0
        self.ready: dict[int, list[tuple[float, int, int]]] = {
            c: [] for c in range(len(scenario.crossings))
        }
        self._seq = itertools.count()

    def _general(self, group: str, streams: Streams) -> Sweep:
        """The general crackdown's sweep of a group: past its deadline or lapse."""
        rng = streams.rng("crackdown", group, "arrests")
        ids = np.arange(self.population[group].start, self.population[group].stop)
        dwell = Stream(self.spec.holding.dwell_hours, streams.rng("crackdown", group, "holding"))
        order = self.population[group].start + rng.permutation(len(ids))
        s = self.scenario
        return Sweep(group, order, rng, dwell, crackdown_days(s, group),
                     arrest_rate_by_day(s, group), ids)  # fmt: skip

    def _campaign(
        self, campaign: Campaign, streams: Streams, regions: dict[str, np.ndarray]
    ) -> list[Sweep]:
        """A campaign's sweeps: one per targeted group with persons, over its regions."""
        s, sweeps = self.scenario, []
        for g in sorted(campaign.groups or s.populations):
            pop = s.populations[g]
            if pop.persons == 0:
                continue
            names = list(pop.regions)
            wanted = [names.index(r) for r in campaign.regions or names if r in names]
            ids = self.population[g].start + np.flatnonzero(np.isin(regions[g], wanted))
            name = ("crackdown", "campaign", campaign.name, g)
            rng = streams.rng(*name, "arrests")
            dwell = Stream(self.spec.holding.dwell_hours, streams.rng(*name, "holding"))
            order = ids[rng.permutation(len(ids))]
            rate = np.full(s.days, campaign.arrest_rate_per_day)
            sweeps.append(Sweep(g, order, rng, dwell, campaign_days(s, campaign, g), rate, ids))
        return sweeps

    def _capacity(self, campaign: Campaign) -> float:
        """A campaign's own daily capacity (persons; inf when unlimited)."""
        cap = campaign.arrest_capacity_persons_per_day
        return np.inf if cap is None else float(cap)

    def start(self) -> None:
        """Start the daily arrests and the convoys to each crossing (on the fast path, the
        convoys are loop events: :meth:`_convoys_on_loop`)."""
        if self.general or any(sweeps for _, sweeps in self.campaigns):
            self.env.process(self.arrests())
        fast = self.journeys.loop is not None
        for crossing in self.ready:
            self.env.process(self._convoys_on_loop(crossing) if fast else self.convoys(crossing))

    def arrests(self) -> Generator[simpy.Event, Any, None]:
        """Each day at ``arrest_hour``: the general crackdown, then each campaign by name."""
        for day in range(self.scenario.days):
            general = [w for w in self.general if w.today(day)]
            campaigns = [(cap, [w for w in ws if w.today(day)]) for cap, ws in self.campaigns]
            if not general and not any(ws for _, ws in campaigns):
                continue
            yield self.env.timeout(24.0 * day + self.spec.arrest_hour - self.env.now)
            if general:
                self._round(general, day, float(self.capacity[day]))
            for capacity, sweeps in campaigns:
                if sweeps:
                    self._round(sweeps, day, capacity)

    def _round(self, sweeps: list[Sweep], day: int, capacity: float) -> None:
        """One arrester's arrests of a day: each sweep's target is Binomial(targeted households
        at home, rate); ``capacity`` (persons) and the free holding space are shared between
        the sweeps in proportion to their targets."""
        blocked = self._blocked(day)
        targets = [
            int(w.rng.binomial(self._at_home(w, blocked), w.rate_per_day[day])) for w in sweeps
        ]
        free = max(int(self.holding[day]) - self.held_persons, 0)
        budget = int(min(free, capacity))
        wanted = sum(targets)
        for w, target in zip(sweeps, targets, strict=True):
            share = budget * target // wanted if wanted else 0
            w.pointer = self._arrest(w, target, share, blocked)

    def _blocked(self, day: int) -> np.ndarray | None:
        """With ``pause_when_closed``, which crossings (by index) are shut on ``day``; None
        when arrests are not paused that day."""
        if not self.spec.pause_when_closed or not self.closed[:, day].any():
            return None
        blocked: np.ndarray = self.closed[:, day]
        return blocked

    def _at_home(self, sweep: Sweep, blocked: np.ndarray | None) -> int:
        """Targeted households at home (whose crossing is open, when ``blocked``)."""
        if blocked is None and len(sweep.ids) == len(self.population[sweep.group]):
            return self.hh.at_home[sweep.group]
        home = self.hh.at_home_mask(sweep.ids)
        if blocked is not None:
            home &= ~blocked[self._crossings[sweep.ids]]
        return int(home.sum())

    def _arrest(self, sweep: Sweep, target: int, budget: int, blocked: np.ndarray | None) -> int:
        """Arrest up to ``target`` households at home, in the sweep's drawn order, within
        ``budget`` persons (stopping at the first one that does not fit); return where the
        next day's arrests start in the order. Households no longer at home are skipped;
        those whose crossing is ``blocked`` are passed over but keep their place."""
        pointer = sweep.pointer
        if target <= 0:
            return pointer
        hh_, now = self.hh, self.env.now
        taken, pointer = self._pick(sweep.order, pointer, target, budget, blocked)
        if not taken:
            return pointer
        ids = np.array(taken)
        sizes = self._sizes[ids]
        self.held_persons += int(sizes.sum())
        gi = hh_.group[taken[0]]  # a sweep's households are of one group
        self.flows.move_all(np.full(len(taken), now), np.full(len(taken), gi), IN_PAKISTAN,
                            DETAINED, sizes)  # fmt: skip
        ready = sweep.dwell.take(len(taken))  # the draws dwell() would give, in order
        crossing, queues, seq = hh_.crossing, self.ready, self._seq
        for hh, hours in zip(taken, ready, strict=True):
            heapq.heappush(queues[crossing[hh]], (now + hours, next(seq), hh))
        hh_.leave_home_group(ids, gi, ARRESTED)
        hh_.deport(taken)
        return pointer

    def _pick(
        self,
        order: Sequence[int] | np.ndarray,
        pointer: int,
        target: int,
        budget: int,
        blocked: np.ndarray | None = None,
    ) -> tuple[list[int], int]:
        """The households :meth:`_arrest` takes from ``order[pointer:]``, and the new pointer:
        those at home (and not ``blocked``), in order, while fewer than ``target`` are taken
        and their persons fit in ``budget``; a window of the order at a time, with numpy. The
        pointer never passes a blocked household at home, so it keeps its place."""
        taken: list[int] = []
        window = max(64, 2 * target)
        sizes, held = self._sizes, len(order)
        while pointer < len(order):
            ids = np.asarray(order[pointer : pointer + window])
            home = np.flatnonzero(self.hh.at_home_mask(ids))
            if blocked is not None:
                shut = blocked[self._crossings[ids[home]]]
                if shut.any():
                    held = min(held, pointer + int(home[np.argmax(shut)]))
                home = home[~shut]
            fits = np.cumsum(sizes[ids[home]]) <= budget
            room = min(target - len(taken), int(fits.sum()))  # fits is a run of True first
            taken += ids[home[:room]].tolist()
            budget -= int(sizes[ids[home[:room]]].sum())
            if len(taken) == target:  # stop after the last one taken
                return taken, min(held, pointer + int(home[room - 1]) + 1)
            if room < len(home):  # the next one at home does not fit: stop before it
                return taken, min(held, pointer + int(home[room]))
            pointer += len(ids)
        return taken, min(held, pointer)

    def _departure_hours(self) -> Iterator[float]:
        """Convoy departure times: ``departures_per_day`` a day, evenly spaced over each run
        of days with the same number (from the first day of the run); none on days with 0."""
        per_day, days = self.departures, self.scenario.days
        first = 0
        while first < days:
            last = first
            while last < days and per_day[last] == per_day[first]:
                last += 1
            if per_day[first] > 0:  # none: deportees wait in holding
                gap = 24.0 / int(per_day[first])
                for k in range(int((24.0 * last - 24.0 * first) / gap)):
                    yield 24.0 * first + (k + 0.5) * gap
            first = last

    def convoys(self, crossing: int) -> Generator[simpy.Event, Any, None]:
        """Vehicles leave for the crossing at :meth:`_departure_hours`, each taking the
        households whose dwell is over, in order, while they fit (:meth:`_board`)."""
        env = self.env
        for k, hour in enumerate(self._hours):
            yield env.timeout(hour - env.now)
            self._board(crossing, k)

    def _convoys_on_loop(self, crossing: int) -> Generator[simpy.Event, Any, None]:
        """:meth:`convoys` as loop events: this process only schedules the first departure
        when SimPy starts it, then ends. Each departure is a loop event whose id is drawn
        when the reference draws its timeout's; the process's end takes its id now instead
        of after the last departure, which moves no other event (it does nothing, and every
        other id keeps its order)."""
        self._next_convoy(crossing, 0)
        return
        yield  # a generator: SimPy starts it as a process

    def _next_convoy(self, crossing: int, k: int) -> None:
        """Schedule departure ``k`` to ``crossing`` (as :meth:`convoys` times its timeout)."""
        if k < len(self._hours):
            now = self.env._now
            loop = self.journeys.loop
            assert loop is not None
            loop.at(now + (self._hours[k] - now), self._convoy, crossing, k)

    def _convoy(self, crossing: int, k: int) -> None:
        """Departure ``k`` to ``crossing`` leaves now; then the next one is scheduled."""
        self._board(crossing, k)
        self._next_convoy(crossing, k + 1)

    def _board(self, crossing: int, k: int) -> None:
        """The vehicles of departure ``k`` (leaving now) take the households whose dwell is
        over, in order, while they fit; with ``pause_when_closed`` none leaves while the
        crossing is closed."""
        queue, size, now = self.ready[crossing], self.hh.size, self.env._now
        if not queue or queue[0][0] > now:  # no one is ready: nothing to check
            return
        if self.spec.pause_when_closed and self._closed[crossing][self._day[k]]:
            return
        room, aboard = self._room[k], []
        while queue and queue[0][0] <= now and size[queue[0][2]] <= room:
            hh = heapq.heappop(queue)[2]
            room -= size[hh]
            aboard.append(hh)
        if aboard:
            self._depart(aboard, crossing)

    def _depart(self, aboard: list[int], crossing: int) -> None:
        """The households ``aboard`` set off together for ``crossing`` now."""
        travel = self.travel[self.journeys.names[crossing]]()
        now, size, group = self.env._now, self.hh.size, self.hh.group
        persons = [size[hh] for hh in aboard]
        groups = [group[hh] for hh in aboard]
        self.held_persons -= sum(persons)
        self.flows.move_many(now, groups, DETAINED, TRAVELLING, persons)
        if len(aboard) < BATCH_MIN:  # one by one: cheaper than numpy for a few
            self.journeys.journey_together(aboard, travel, crossing, persons, groups)
            return
        n, ids = len(aboard), np.array(aboard)
        self.journeys.journeys(
            ids, np.full(n, travel), np.full(n, crossing), np.array(persons), np.array(groups)
        )
