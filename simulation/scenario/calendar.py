"""Dated rules compiled into arrays: capacity breakpoints, closures, hazards, deadlines.

Everything here is a pure function of the scenario; times are hours since the calendar start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np

from simulation.scenario.schema import (
    Campaign,
    CampClosure,
    CapacityChange,
    ClosureEvent,
    CrackdownChange,
    DeadlineExtension,
    HazardChange,
    HoldingChange,
    NoAdverseAction,
    OpeningHours,
    OpeningHoursChange,
    RateStep,
    Scenario,
    StatusExtension,
    TransportChange,
)

# hours (3.6 microseconds): within this of a capacity change the new capacity applies, since
# sums of service times drift by rounding and a service due exactly at closing must not slip in
TIME_EPS = 1e-9


def day_index(scenario: Scenario, day: dt.date) -> int:
    """Days from the calendar start to ``day`` (may be negative or beyond the horizon)."""
    return (day - scenario.calendar.start).days


def _steps(
    scenario: Scenario, first: Any, changes: Iterable[tuple[dt.date, Any]], dtype: Any = None
) -> np.ndarray:
    """Per day: ``first``, then each change's value from its date on (``changes`` in the order
    they apply: a later one overrides an earlier one from its own date)."""
    values = np.full(scenario.days, first, dtype=dtype)
    for day, value in changes:
        values[max(day_index(scenario, day), 0) :] = value
    return values


def _within(scenario: Scenario, spans: Iterable[tuple[dt.date, dt.date]]) -> np.ndarray:
    """Boolean per day: inside any of the whole-day ``spans`` (first and last day inclusive)."""
    inside = np.zeros(scenario.days, dtype=bool)
    for first, last in spans:
        lo = max(day_index(scenario, first), 0)
        inside[lo : max(day_index(scenario, last) + 1, lo)] = True
    return inside


def closed_days(scenario: Scenario, crossing: str) -> np.ndarray:
    """Boolean per simulated day: is the crossing shut by a dated closure?"""
    spans = [(c.start, c.end) for c in scenario.crossings[crossing].closures]
    spans += [
        (e.date, e.end)
        for e in scenario.timeline
        if isinstance(e, ClosureEvent) and e.crossing == crossing
    ]
    return _within(scenario, spans)


def closure_intervals(scenario: Scenario, crossing: str) -> list[tuple[float, float]]:
    """Maximal closed periods of a crossing as (start_hour, end_hour)."""
    closed = closed_days(scenario, crossing)
    spans: list[tuple[float, float]] = []
    day = 0
    while day < len(closed):
        if closed[day]:
            end = day
            while end < len(closed) and closed[end]:
                end += 1
            spans.append((24.0 * day, 24.0 * end))
            day = end
        else:
            day += 1
    return spans


def servers_by_day(scenario: Scenario, crossing: str, stage: str) -> np.ndarray:
    """Servers staffed on each simulated day (base, then dated schedule and timeline changes)."""
    spec = scenario.crossings[crossing].stages[stage]
    changes = [(step.start, 0, step.servers) for step in spec.servers_schedule]
    changes += [
        (e.date, 1, e.servers)
        for e in scenario.timeline
        if isinstance(e, CapacityChange) and e.crossing == crossing and e.stage == stage
    ]
    return _steps(scenario, spec.servers, ((d, v) for d, _, v in sorted(changes)), np.int64)


def opening_hours(scenario: Scenario, crossing: str, stage: str) -> OpeningHours:
    """The stage's opening window at the start (stage, then crossing, then 24 hours)."""
    c = scenario.crossings[crossing]
    return (
        c.stages[stage].opening_hours
        or c.opening_hours
        or OpeningHours(open_hour=0.0, close_hour=24.0)
    )


def opening_by_day(scenario: Scenario, crossing: str, stage: str) -> tuple[np.ndarray, np.ndarray]:
    """Opening and closing hour of the stage on each day, after dated ``opening_hours`` events.

    An event naming the stage overrides one for the whole crossing from the same date.
    """
    first = opening_hours(scenario, crossing, stage)
    opens = np.full(scenario.days, first.open_hour)
    closes = np.full(scenario.days, first.close_hour)
    changes = sorted(
        (e.date, e.stage is not None, e.open_hour, e.close_hour)
        for e in scenario.timeline
        if isinstance(e, OpeningHoursChange) and e.crossing == crossing and e.stage in (None, stage)
    )
    for day, _, open_hour, close_hour in changes:
        opens[max(day_index(scenario, day), 0) :] = open_hour
        closes[max(day_index(scenario, day), 0) :] = close_hour
    return opens, closes


def open_hours_by_day(scenario: Scenario, crossing: str, stage: str) -> np.ndarray:
    """Hours the stage is open on each day (zero on closed days)."""
    opens, closes = opening_by_day(scenario, crossing, stage)
    return np.where(closed_days(scenario, crossing), 0.0, closes - opens)


def capacity_breakpoints(scenario: Scenario, crossing: str, stage: str) -> list[tuple[float, int]]:
    """Piecewise-constant servers available: [(from_hour, servers), ...], starting at hour 0."""
    servers = servers_by_day(scenario, crossing, stage)
    closed = closed_days(scenario, crossing)
    opens, closes = opening_by_day(scenario, crossing, stage)
    points: list[tuple[float, int]] = []
    for day in range(scenario.days):
        base = 24.0 * day
        staffed = 0 if closed[day] else int(servers[day])
        points += [
            (base, 0),
            (base + float(opens[day]), staffed),
            (base + float(closes[day]), 0),
        ]
    merged: list[tuple[float, int]] = []
    for time, value in points:
        if merged and merged[-1][0] == time:
            merged[-1] = (time, value)
        elif not merged or merged[-1][1] != value:
            merged.append((time, value))
    if merged[0][0] > 0:
        merged.insert(0, (0.0, 0))
    return merged


def step_rates(scenario: Scenario, steps: list[RateStep]) -> np.ndarray:
    """Daily rate from dated steps (zero before the first step)."""
    return _steps(scenario, 0.0, ((step.start, step.rate_per_day) for step in steps))


def deadline_by_day(scenario: Scenario, group: str) -> np.ndarray:
    """For each day, the deadline (day index) in force that day, after announced extensions.

    An extension announced on a day moves the deadline in force from then on to its new date,
    unless that deadline is already later (an extension never brings a deadline forward: two
    announced extensions give the later date). Days without a deadline get a value beyond the
    horizon.
    """
    extensions = sorted(
        (e.date, e.new_deadline)
        for e in scenario.timeline
        if isinstance(e, DeadlineExtension) and e.group == group
    )
    first = scenario.populations[group].deadline
    return _last_day_in_force(scenario, first, extensions, never_earlier=True)


def _last_day_in_force(
    scenario: Scenario,
    first: dt.date | None,
    extensions: list[tuple[dt.date, dt.date]],
    never_earlier: bool,
) -> np.ndarray:
    """Per day, the last day (index) in force: ``first``, then each (announced, new) extension
    from its announcement on (``never_earlier``: unless the day in force is already later);
    beyond the horizon when there is no ``first``."""
    if first is None:
        return np.full(scenario.days, scenario.days + 10_000, dtype=np.int64)
    in_force = np.full(scenario.days, day_index(scenario, first), dtype=np.int64)
    for announced, new in extensions:
        later = in_force[max(day_index(scenario, announced), 0) :]
        if never_earlier:
            np.maximum(later, day_index(scenario, new), out=later)
        else:
            later[:] = day_index(scenario, new)
    return in_force


def lapse_by_day(scenario: Scenario, group: str) -> np.ndarray:
    """For each day, the last day (index) of the group's legal stay in force that day, after
    announced ``status_extension``s; beyond the horizon when the status never lapses."""
    extensions = sorted(
        (e.date, e.new_lapse)
        for e in scenario.timeline
        if isinstance(e, StatusExtension) and e.group == group
    )
    first = scenario.populations[group].status_lapses
    return _last_day_in_force(scenario, first, extensions, never_earlier=False)


def protected_days(scenario: Scenario, group: str) -> np.ndarray:
    """Boolean per day: does a ``no_adverse_action`` event shield the group from arrests?"""
    return _within(
        scenario,
        (
            (e.date, e.end)
            for e in scenario.timeline
            if isinstance(e, NoAdverseAction) and e.group in (None, group)
        ),
    )


def crackdown_days(scenario: Scenario, group: str) -> np.ndarray:
    """Boolean per day: is the group subject to the general crackdown, i.e. past its deadline
    or its status lapse (in force that day), and not shielded by ``no_adverse_action``?"""
    days = np.arange(scenario.days)
    past = (days > deadline_by_day(scenario, group)) | (days > lapse_by_day(scenario, group))
    return past & ~protected_days(scenario, group)


def campaign_days(scenario: Scenario, campaign: Campaign, group: str) -> np.ndarray:
    """Boolean per day: is the campaign arresting the group (its dates, no shield)?"""
    last = campaign.end or scenario.calendar.end
    return _within(scenario, [(campaign.start, last)]) & ~protected_days(scenario, group)


def voluntary_hazard(scenario: Scenario, group: str) -> np.ndarray:
    """Daily voluntary-return hazard per household (per day), after timeline changes.

    After the deadline in force the hazard is ``after_deadline_per_day``; with a half-life, its
    excess over the usual hazard (the ramp's base or the schedule's rate) halves every
    ``after_deadline_half_life_days`` days, counted from the first day after the deadline.
    """
    vol = scenario.populations[group].voluntary
    days = np.arange(scenario.days)
    deadline = deadline_by_day(scenario, group)
    if vol.schedule is not None:
        hazard = step_rates(scenario, vol.schedule)
        usual = hazard
    else:
        assert vol.ramp is not None
        ramp = vol.ramp
        to_go = deadline - days
        rise = np.clip(1.0 - to_go / ramp.ramp_days, 0.0, 1.0)
        hazard = ramp.base_per_day + (ramp.peak_per_day - ramp.base_per_day) * rise
        usual = np.full(scenario.days, ramp.base_per_day)
    if vol.after_deadline_per_day is not None:
        after = np.full(scenario.days, vol.after_deadline_per_day)
        if vol.after_deadline_half_life_days is not None:
            since = np.maximum(days - deadline - 1, 0)  # 0 on the first day after the deadline
            fade = 0.5 ** (since / vol.after_deadline_half_life_days)
            after = usual + (after - usual) * fade
        hazard = np.where(days > deadline, after, hazard)
    for event in scenario.timeline:
        if isinstance(event, HazardChange) and event.group == group:
            hazard[max(day_index(scenario, event.date), 0) :] *= event.multiplier
    return hazard


def camp_closures(scenario: Scenario, group: str) -> list[CampClosure]:
    """The group's camp closures in date order (file order on the same date): the k-th takes
    the k-th slice of the camps' residents, of width its ``share``."""
    events = [e for e in scenario.timeline if isinstance(e, CampClosure) and e.group == group]
    return sorted(events, key=lambda e: e.date)


def hour_probabilities(weights: list[float]) -> np.ndarray:
    """A within-day departure profile as probabilities of the 24 hours (weights not all 0)."""
    p = np.asarray(weights, dtype=float)
    return p / p.sum()


def arrest_rate_by_day(scenario: Scenario, group: str) -> np.ndarray:
    """Share of the group's households at home apprehended per day, after dated changes."""
    assert scenario.crackdown is not None
    changes = sorted(
        (e.date, e.group is not None, e.arrest_rate_per_day)
        for e in scenario.timeline
        if isinstance(e, CrackdownChange)
        and e.arrest_rate_per_day is not None
        and e.group in (None, group)
    )
    first = scenario.crackdown.arrest_rate_per_day
    return _steps(scenario, first, ((day, value) for day, _, value in changes))


def arrest_capacity_by_day(scenario: Scenario) -> np.ndarray:
    """Persons that can be arrested per day (all groups together; inf when unlimited)."""
    assert scenario.crackdown is not None
    first = scenario.crackdown.arrest_capacity_persons_per_day
    changes = sorted(
        (e.date, e.arrest_capacity_persons_per_day)
        for e in scenario.timeline
        if isinstance(e, CrackdownChange) and e.arrest_capacity_persons_per_day is not None
    )
    return _steps(scenario, np.inf if first is None else float(first), changes)


def holding_capacity_by_day(scenario: Scenario) -> np.ndarray:
    """Persons the holding centres can hold on each day, after ``holding_change`` events."""
    assert scenario.crackdown is not None
    first = scenario.crackdown.holding.capacity_persons
    changes = sorted(
        (e.date, e.capacity_persons) for e in scenario.timeline if isinstance(e, HoldingChange)
    )
    return _steps(scenario, first, changes, np.int64)


def transport_by_day(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Convoy departures per day and vehicle capacity (persons) on each day, after
    ``transport_change`` events."""
    assert scenario.crackdown is not None
    spec = scenario.crackdown.transport
    changes = [e for e in scenario.timeline if isinstance(e, TransportChange)]
    changes.sort(key=lambda e: e.date)  # stable: same-day events in file order
    departures = [
        (e.date, e.departures_per_day) for e in changes if e.departures_per_day is not None
    ]
    vehicle = [
        (e.date, e.vehicle_capacity_persons)
        for e in changes
        if e.vehicle_capacity_persons is not None
    ]
    return (
        _steps(scenario, spec.departures_per_day, departures, np.int64),
        _steps(scenario, spec.vehicle_capacity_persons, vehicle, np.int64),
    )
