"""Households of each legal-status group: sizes, routes, and voluntary departure times.

All of it is drawn up front with numpy (vectorised); the SimPy processes only read the arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.engine.sampling import household_sizes, sample
from simulation.engine.streams import Streams
from simulation.scenario.calendar import (
    camp_closures,
    day_index,
    hour_probabilities,
    voluntary_hazard,
)
from simulation.scenario.moments import mean_household_size
from simulation.scenario.rules import SHARE_TOLERANCE
from simulation.scenario.schema import Population, Scenario


@dataclass(frozen=True)
class GroupDraw:
    """The households of one group (arrays of equal length)."""

    sizes: np.ndarray  # persons per household
    crossing: np.ndarray  # index into the scenario's crossings
    travel_hours: np.ndarray  # home to the chosen crossing
    depart_hours: np.ndarray  # voluntary departure time, inf if none in the horizon
    vulnerable: np.ndarray  # bool
    region: np.ndarray  # index into the group's regions (in file order)


def split_persons(spec_sizes: np.ndarray, persons: int) -> np.ndarray:
    """Cut a stream of household sizes so that they add up to exactly ``persons``."""
    total = np.cumsum(spec_sizes)
    n = int(np.searchsorted(total, persons)) + 1
    sizes = spec_sizes[:n].copy()
    sizes[-1] = persons - (total[n - 2] if n > 1 else 0)
    return sizes


def draw_sizes(pop: Population, rng: np.random.Generator) -> np.ndarray:
    """Household sizes whose sum is the group's persons exactly."""
    if pop.persons == 0:
        return np.zeros(0, dtype=np.int64)
    guess = int(pop.persons / mean_household_size(pop.household_size) * 1.2) + 64
    sizes = household_sizes(pop.household_size, rng, guess)
    while sizes.sum() < pop.persons:
        sizes = np.concatenate([sizes, household_sizes(pop.household_size, rng, guess)])
    return split_persons(sizes, pop.persons)


def departure_hours(
    hazard_per_day: np.ndarray,
    rng: np.random.Generator,
    n: int,
    propensity: np.ndarray | None = None,
) -> np.ndarray:
    """Voluntary departure times (hours) under a hazard constant within each day.

    Inverts the cumulative hazard at an Exp(1) draw; ``inf`` when no departure in the horizon.
    A household of ``propensity`` z has z times the hazard: it leaves when z H(t) reaches its
    draw (never when z is 0).
    """
    cumulative = np.cumsum(hazard_per_day)
    draws = rng.exponential(1.0, n)
    if propensity is not None:
        draws = np.divide(draws, propensity, out=np.full(n, np.inf), where=propensity > 0)
    day = np.searchsorted(cumulative, draws, side="left")
    inside = day < len(cumulative)
    out = np.full(n, np.inf)
    d = day[inside]
    before = np.where(d > 0, cumulative[np.maximum(d - 1, 0)], 0.0)
    out[inside] = 24.0 * (d + (draws[inside] - before) / hazard_per_day[d])
    return out


def draw_group(
    scenario: Scenario,
    group: str,
    households: np.random.Generator,
    departures: np.random.Generator,
    streams: Streams,
) -> GroupDraw:
    """Draw every household of a group: size, region and crossing, travel, vulnerability
    (stream ``households``), and when it leaves home (stream ``departures``, so a change of
    the group's hazard leaves who its households are as it was, and the streams of the
    optional mechanisms, see :func:`leaving_hours`)."""
    pop = scenario.populations[group]
    sizes = draw_sizes(pop, households)
    n = len(sizes)
    region, crossing, travel = _routes(scenario, pop, households, n)
    vulnerable = households.random(n) < pop.vulnerable_share
    depart = leaving_hours(scenario, group, departures, streams, n)
    return GroupDraw(sizes, crossing, travel, depart, vulnerable, region)


def leaving_hours(
    scenario: Scenario,
    group: str,
    departures: np.random.Generator,
    streams: Streams,
    n: int,
) -> np.ndarray:
    """When each of the group's ``n`` households leaves home (hours; ``inf``: not in the run).

    The voluntary time (stream ``departures``), scaled by each household's propensity, unless
    it never leaves of its own accord; then the earlier of that and its camp's closure; then
    the hour of the day from ``hour_weights``. Each optional mechanism draws from a stream of
    its own, issued only when the scenario uses it, so without it every draw is as before.
    """
    vol = scenario.populations[group].voluntary
    propensity = None
    if vol.propensity_cv > 0:
        rng = streams.rng("population", group, "propensity")
        propensity = propensities(vol.propensity_cv, rng, n)
    depart = departure_hours(voluntary_hazard(scenario, group), departures, n, propensity)
    depart[departures.random(n) < vol.never_share] = np.inf
    if scenario.populations[group].camps is not None:
        closed = closure_hours(scenario, group, streams.rng("population", group, "camps"), n)
        depart = np.minimum(depart, closed)
    if vol.hour_weights is not None:
        hours = streams.rng("population", group, "hours")
        depart = set_off_hours(depart, hour_probabilities(vol.hour_weights), hours)
    return depart


def propensities(cv: float, rng: np.random.Generator, n: int) -> np.ndarray:
    """Each household's propensity: Gamma(shape 1/cv^2, scale cv^2), mean 1, variation ``cv``."""
    return rng.gamma(1.0 / cv**2, cv**2, n)


def closure_hours(scenario: Scenario, group: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """When each household is pushed out of its closed camp (hours; ``inf``: never).

    One uniform u per household: it lives in a camp when u < camps.share, and its place
    u / camps.share in [0, 1) puts it in the slice of the k-th closure (widths the closures'
    shares, in date order). From the closure's date it leaves at rate ``hazard_per_day``.
    """
    camps = scenario.populations[group].camps
    assert camps is not None
    u = rng.random(n)
    waits_days = rng.exponential(1.0, n)
    out = np.full(n, np.inf)
    if camps.share == 0:
        return out
    place = np.where(u < camps.share, u / camps.share, np.inf)
    low = 0.0
    for event in camp_closures(scenario, group):
        high = low + event.share
        # shares validated to sum to 1 within the tolerance close every camp
        high = 1.0 if high > 1.0 - SHARE_TOLERANCE else high
        mine = (place >= low) & (place < high)
        low = high
        if event.hazard_per_day > 0:
            start_day = day_index(scenario, event.date)
            out[mine] = 24.0 * (start_day + waits_days[mine] / event.hazard_per_day)
    out[out >= scenario.horizon_hours] = np.inf
    return out


def set_off_hours(
    depart_hours: np.ndarray, hour_p: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Keep each departure's day; set off at an hour drawn from ``hour_p``, uniform within it."""
    n = len(depart_hours)
    hour = rng.choice(len(hour_p), size=n, p=hour_p)
    within = rng.random(n)
    day_start = 24.0 * np.floor(depart_hours / 24.0)
    timed = day_start + hour + within
    timed = np.minimum(timed, np.nextafter(day_start + 24.0, 0.0))  # stay on the same day
    return np.where(np.isfinite(depart_hours), timed, np.inf)


def _shares(values: list[float]) -> np.ndarray:
    """Shares as probabilities summing to 1 to numpy's tolerance (validation allows 1e-6)."""
    p = np.asarray(values, dtype=float)
    return p / p.sum()


def _routes(
    scenario: Scenario, pop: Population, rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each household's region (index), then its crossing (index) and travel hours to it."""
    crossing_names = list(scenario.crossings)
    regions = list(pop.regions.values())
    region = rng.choice(len(regions), size=n, p=_shares([r.share for r in regions]))
    crossing = np.zeros(n, dtype=np.int64)
    travel = np.zeros(n)
    for r_index, spec in enumerate(regions):
        members = np.flatnonzero(region == r_index)
        routes = list(spec.crossings.items())
        p = _shares([r.share for _, r in routes])
        pick = rng.choice(len(routes), size=len(members), p=p)
        for k, (cname, route) in enumerate(routes):
            chosen = members[pick == k]
            crossing[chosen] = crossing_names.index(cname)
            travel[chosen] = sample(route.travel_hours, rng, len(chosen))
    return region, crossing, travel
