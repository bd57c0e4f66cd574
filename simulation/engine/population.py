"""Households of each legal-status group: sizes, routes, and voluntary departure times.

All of it is drawn up front with numpy (vectorised); the SimPy processes only read the arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.engine.sampling import household_sizes, sample
from simulation.scenario.calendar import voluntary_hazard
from simulation.scenario.moments import mean_household_size
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


def departure_hours(hazard_per_day: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Voluntary departure times (hours) under a hazard constant within each day.

    Inverts the cumulative hazard at an Exp(1) draw; ``inf`` when no departure in the horizon.
    """
    cumulative = np.cumsum(hazard_per_day)
    draws = rng.exponential(1.0, n)
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
) -> GroupDraw:
    """Draw every household of a group: size, region and crossing, travel, vulnerability
    (stream ``households``), and voluntary departure (stream ``departures``, so a change of
    the group's hazard leaves who its households are as it was)."""
    pop = scenario.populations[group]
    sizes = draw_sizes(pop, households)
    n = len(sizes)
    region, crossing, travel = _routes(scenario, pop, households, n)
    vulnerable = households.random(n) < pop.vulnerable_share
    depart = departure_hours(voluntary_hazard(scenario, group), departures, n)
    depart[departures.random(n) < pop.voluntary.never_share] = np.inf
    return GroupDraw(sizes, crossing, travel, depart, vulnerable, region)


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
