"""Hypothesis strategies for small, valid scenarios, shared by the property tests.

:func:`scenario_data` draws a scenario as Python data (what a YAML file would hold), so a
failing example prints as a readable mapping and can be pinned with ``@example``;
:func:`tests.builders.from_data` parses it. Every draw passes validation: the strategies only
combine values the schema and its cross-field rules accept.

Sizes are kept small (5-20 days, at most a few hundred persons per group, at most ~40 households
a day per demand line) so that one example runs in a fraction of a second.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.builders import START, day

Data = dict[str, Any]

# shares that add up to one exactly in floating point
SPLITS = {1: [[1.0]], 2: [[0.5, 0.5], [0.25, 0.75], [0.75, 0.25]]}
LARGEST_HOUSEHOLD = 8  # persons; every deportation vehicle takes at least this many

# Engine bugs found by the property tests, each pinned by a strict xfail in test_properties.py.
# A property a bug breaks draws with ``avoid`` naming it, so that it keeps guarding everything
# else; once the engine is fixed, stop avoiding it (and remove the xfail).
UNRANKED_BACKLOG = (
    "Model._backlog_households gives the households of a backlog outside the populations no "
    "queue rank: a priority stage they reach fails (IndexError) when one of them must queue"
)
DEMAND_ORDER = (
    "Model.direct_demand: with two demand lines, the two engines create a day's households in "
    "a different order, so household ids differ, and into one crossing their service times too"
)


def _number(low: float, high: float) -> st.SearchStrategy[float]:
    """A number in [low, high] with two decimals (readable in a printed example; drawn as an
    integer, which spreads more evenly than hypothesis's floats, drawn to edge cases)."""
    return st.integers(round(100 * low), round(100 * high)).map(lambda x: x / 100)


@st.composite
def distribution(draw: st.DrawFn, low: float, high: float) -> Data:
    """An exponential, fixed or gamma distribution with its mean in [low, high]."""
    mean = draw(_number(low, high))
    kind = draw(st.sampled_from(["exponential", "fixed", "gamma"]))
    if kind == "fixed":
        return {"dist": "fixed", "value": mean}
    if kind == "gamma":
        return {"dist": "gamma", "mean": mean, "sd": draw(_number(0.1, 2 * high))}
    return {"dist": "exponential", "mean": mean}


@st.composite
def service_minutes(draw: st.DrawFn) -> Data:
    """Per-household and/or per-person service time (minutes)."""
    per_household = draw(st.none() | distribution(2.0, 90.0))
    per_person = draw(st.none() | distribution(1.0, 20.0))
    if per_household is None and per_person is None:
        per_household = draw(distribution(2.0, 90.0))
    return {
        k: v
        for k, v in (("per_household", per_household), ("per_person", per_person))
        if v is not None
    }


@st.composite
def opening_hours(draw: st.DrawFn) -> Data:
    """A daily window [open, close) of at least two hours."""
    open_hour = draw(st.integers(0, 12))
    close_hour = draw(st.integers(open_hour + 2, 24))
    return {"open_hour": open_hour, "close_hour": close_hour}


@st.composite
def household_size(draw: st.DrawFn) -> Data:
    """Listed sizes (optionally weighted) or a mean, never above LARGEST_HOUSEHOLD."""
    if draw(st.booleans()):
        sizes = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3, unique=True))
        out: Data = {"values": sizes}
        if draw(st.booleans()):
            out["weights"] = [draw(st.integers(1, 4)) for _ in sizes]
        return out
    return {"mean": draw(_number(1.0, 4.0)), "max_persons": LARGEST_HOUSEHOLD}


@st.composite
def stage(draw: st.DrawFn, days: int, first: bool, groups: list[str]) -> Data:
    """One stage: servers (perhaps rescheduled), service, and optionally a priority order, a
    waiting limit (on a first stage, more rarely: the overflow waits on the road), its own
    opening hours and an initial backlog."""
    out: Data = {"servers": draw(st.integers(1, 4)), "service_minutes": draw(service_minutes())}
    steps = draw(st.lists(st.integers(0, days - 1), max_size=2, unique=True).map(sorted))
    if steps:
        out["servers_schedule"] = [
            {"from": day(d), "servers": draw(st.integers(0, 4))} for d in steps
        ]
    priority = draw(st.lists(st.sampled_from(["deported", "vulnerable"]), unique=True))
    if priority:
        out["priority"] = priority
    bounded = draw(st.integers(0, 3)) == 0 if first else draw(st.booleans())
    if bounded:  # on a first stage, the overflow waits on the road
        out["waiting_capacity_households"] = draw(st.integers(1, 8))
    if draw(st.integers(0, 3)) == 0:
        out["opening_hours"] = draw(opening_hours())
    if draw(st.integers(0, 3)) == 0:
        group = draw(st.sampled_from([*groups, "queue"]))
        backlog: Data = {"households": draw(st.integers(0, 20)), "group": group}
        if group not in groups:
            backlog["household_size"] = draw(household_size())
        out["initial_backlog"] = backlog
    return out


def _drop_label_backlogs_ahead_of_priority(stages: list[Data], groups: list[str]) -> None:
    """Remove the backlogs outside the populations from stages at or before a priority stage."""
    for k, spec in enumerate(stages):
        backlog = spec.get("initial_backlog")
        later_priority = any(s.get("priority") for s in stages[k:])
        if backlog is not None and backlog["group"] not in groups and later_priority:
            del spec["initial_backlog"]


@st.composite
def crossing(
    draw: st.DrawFn, days: int, others: list[str], groups: list[str], avoid: frozenset[str]
) -> Data:
    """A crossing of 1-3 stages, with optional opening hours, closures and a diversion."""
    n = draw(st.integers(1, 3))
    stages = [draw(stage(days, first=k == 0, groups=groups)) for k in range(n)]
    if UNRANKED_BACKLOG in avoid:
        _drop_label_backlogs_ahead_of_priority(stages, groups)
    out: Data = {"stages": {f"s{k}": spec for k, spec in enumerate(stages)}}
    if draw(st.booleans()):
        out["opening_hours"] = draw(opening_hours())
    diverts = bool(others) and draw(st.booleans())
    closures = []
    for _ in range(draw(st.integers(1 if diverts else 0, 2))):  # a diversion needs a closure
        a = draw(st.integers(0, days - 1))
        b = draw(st.integers(a, min(a + 4, days - 1)))
        closures.append({"start": day(a), "end": day(b)})
    if closures:
        out["closures"] = closures
    if diverts:
        out["divert"] = {
            "to": draw(st.sampled_from(others)),
            "patience_hours": draw(_number(1.0, 30.0)),
            "travel_hours": draw(distribution(0.5, 12.0)),
        }
        if draw(st.booleans()):  # only some of the households facing the closure divert
            out["divert"]["share"] = draw(_number(0.0, 1.0))
    return out


@st.composite
def rate_schedule(draw: st.DrawFn, days: int, high: float) -> list[Data]:
    """One or two dated steps of a daily rate in [0, high], in increasing date order."""
    starts = draw(st.lists(st.integers(0, days - 1), min_size=1, max_size=2, unique=True))
    return [{"from": day(d), "rate_per_day": draw(_number(0.0, high))} for d in sorted(starts)]


@st.composite
def population(draw: st.DrawFn, days: int, crossings: list[str], deadline: bool) -> Data:
    """A small group: 1-2 regions routed to the crossings, a voluntary hazard (a ramp to the
    deadline, or dated steps), and optionally a deadline."""
    regions = {}
    region_shares = draw(st.sampled_from(SPLITS[draw(st.integers(1, 2))]))
    for r, share in enumerate(region_shares):
        names = draw(st.lists(st.sampled_from(crossings), min_size=1, max_size=2, unique=True))
        routes = draw(st.sampled_from(SPLITS[len(names)]))
        regions[f"r{r}"] = {
            "share": share,
            "crossings": {
                name: {"share": s, "travel_hours": draw(distribution(0.5, 30.0))}
                for name, s in zip(names, routes, strict=True)
            },
        }
    out: Data = {
        "persons": draw(st.just(0) | st.integers(20, 300)),
        "household_size": draw(household_size()),
        "regions": regions,
        "vulnerable_share": draw(_number(0.0, 0.5)),
    }
    voluntary: Data = {"never_share": draw(_number(0.0, 0.5))}
    if deadline:
        out["deadline"] = day(draw(st.integers(0, days - 1)))
        if draw(st.booleans()):
            voluntary["ramp"] = {
                "base_per_day": draw(_number(0.0, 0.1)),
                "peak_per_day": draw(_number(0.0, 0.4)),
                "ramp_days": draw(st.integers(1, 10)),
            }
        else:
            voluntary["schedule"] = draw(rate_schedule(days, 0.3))
        if draw(st.booleans()):
            voluntary["after_deadline_per_day"] = draw(_number(0.0, 0.3))
    else:
        voluntary["schedule"] = draw(rate_schedule(days, 0.3))
    out["voluntary"] = voluntary
    return out


@st.composite
def crackdown(draw: st.DrawFn) -> Data:
    """Arrests, holding and convoys on a small scale."""
    capacity = draw(st.none() | st.integers(0, 300))
    out: Data = {
        "arrest_rate_per_day": draw(_number(0.0, 0.5)),
        "arrest_hour": draw(st.integers(0, 23)),
        "holding": {
            "capacity_persons": draw(st.integers(20, 300)),
            "dwell_hours": draw(distribution(0.5, 48.0)),
        },
        "transport": {
            "vehicle_capacity_persons": draw(st.integers(LARGEST_HOUSEHOLD, 40)),
            "departures_per_day": draw(st.integers(1, 6)),
            "travel_hours": draw(distribution(0.5, 12.0)),
        },
    }
    if capacity is not None:
        out["arrest_capacity_persons_per_day"] = capacity
    return out


@st.composite
def demand(draw: st.DrawFn, days: int, crossing: str, label: str) -> Data:
    """A line of direct demand (Poisson households or persons a day) to ``crossing``."""
    out: Data = {
        "crossing": crossing,
        "group": label,
        "unit": draw(st.sampled_from(["households", "persons"])),
        "household_size": draw(household_size()),
        "schedule": draw(rate_schedule(days, 40.0)),
        "vulnerable_share": draw(_number(0.0, 0.5)),
    }
    if draw(st.booleans()):
        out["arrival_hours"] = draw(opening_hours())
    return out


def demand_targets(crossings: list[str], avoid: frozenset[str]) -> st.SearchStrategy[list[str]]:
    """The crossings of 0-2 demand lines (at most one line while avoiding DEMAND_ORDER)."""
    return st.lists(st.sampled_from(crossings), max_size=1 if DEMAND_ORDER in avoid else 2)


@st.composite
def scenario_data(draw: st.DrawFn, avoid: frozenset[str] = frozenset()) -> Data:
    """A whole small scenario: 1-2 crossings, 0-2 population groups (a crackdown when one has
    a deadline), 0-2 lines of direct demand, over 5-20 days; ``avoid`` names known engine bugs
    not to trigger."""
    days = draw(st.integers(5, 20))
    names = [f"c{k}" for k in range(draw(st.integers(1, 2)))]
    deadlines = draw(st.lists(st.booleans(), max_size=2))
    groups = [f"g{k}" for k in range(len(deadlines))]
    data: Data = {
        "name": "drawn",
        "calendar": {"start": START, "end": day(days - 1)},
        "populations": {
            g: draw(population(days, names, deadline))
            for g, deadline in zip(groups, deadlines, strict=True)
        },
        "crossings": {
            c: draw(crossing(days, [o for o in names if o != c], groups, avoid)) for c in names
        },
        "demand": [
            draw(demand(days, target, f"d{k}"))
            for k, target in enumerate(draw(demand_targets(names, avoid)))
        ],
    }
    if any(deadlines) or (groups and draw(st.booleans())):
        data["crackdown"] = draw(crackdown())
    return data


seeds = st.integers(0, 2**32 - 1)
