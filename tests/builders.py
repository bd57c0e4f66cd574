"""Small scenarios for concept tests, shared by the test modules (never copied into them).

Three ways to build one:

* :func:`demand_scenario`: one crossing 'gate' fed by Poisson demand, from a YAML text template
  whose stages come from :func:`stage`;
* :func:`build`: the same from Python data (``stage_spec``, ``service``, ``backlog``), for
  scenarios that vary several fields at once; :func:`from_data` parses any such mapping;
* :data:`POP`: a population with a deadline and a crackdown, and :func:`pop_with_divert`, the
  same with its gate closed for a fortnight and diverting to a second crossing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from simulation import Scenario, parse_scenario

START = dt.date(2025, 1, 1)

# ---------------------------------------------------------------- from a YAML text template
BASE = """
name: concept
calendar: {{start: 2025-01-01, end: {end}}}
crossings:
  gate:
{crossing}
    stages:
{stages}
demand:
  - crossing: gate
    household_size: {size}
    unit: households
    schedule: [{{from: 2025-01-01, rate_per_day: {rate}}}]
"""

STAGE = """      {name}:
        servers: {servers}
        service_minutes: {{per_household: {{dist: {dist}, {param}}}}}
{extra}"""


def stage(
    name: str = "desk",
    servers: int = 1,
    dist: str = "exponential",
    param: str = "mean: 30.0",
    extra: str = "",
) -> str:
    """YAML of one stage (indentation fits BASE)."""
    return STAGE.format(name=name, servers=servers, dist=dist, param=param, extra=extra)


def demand_scenario(
    rate_per_day: float,
    stages: str | None = None,
    end: str = "2025-01-31",
    crossing: str = "",
    size: str = "{values: [1]}",
    overrides: tuple[str, ...] = (),
) -> Scenario:
    """A one-crossing scenario fed by Poisson demand."""
    text = BASE.format(
        end=end, crossing=crossing, stages=stages or stage(), rate=rate_per_day, size=size
    )
    return parse_scenario(text, "concept.yaml", overrides)


# ---------------------------------------------------------------- from Python data
def day(offset: int) -> dt.date:
    """The calendar date ``offset`` days after START."""
    return START + dt.timedelta(days=offset)


def from_data(data: Mapping[str, Any], filename: str = "<test>") -> Scenario:
    """Parse a scenario given as Python data, through its YAML text (as a file would be)."""
    return parse_scenario(yaml.safe_dump(dict(data), sort_keys=False), filename=filename)


def service(dist: str, **params: float) -> dict[str, Any]:
    """A per-household service-time distribution (minutes)."""
    return {"per_household": {"dist": dist, **params}}


def stage_spec(servers: int, minutes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One stage: ``servers`` desks and the given ``service_minutes``."""
    return {"servers": servers, "service_minutes": minutes, **extra}


def demand_line(
    crossing: str, rate_per_day: float, group: str = "direct", **extra: Any
) -> dict[str, Any]:
    """Poisson demand of ``rate_per_day`` households a day to ``crossing`` from START on."""
    schedule = [{"from": START, "rate_per_day": rate_per_day}]
    return {"crossing": crossing, "group": group, "schedule": schedule, **extra}


def backlog(households: int) -> dict[str, Any]:
    """An initial backlog of single-person households waiting at time zero."""
    return {"households": households, "group": "queue", "household_size": {"values": [1]}}


def build(
    days: int,
    stages: dict[str, dict[str, Any]],
    rate_per_day: float,
    *,
    opening: tuple[float, float] | None = None,
    closures: Sequence[tuple[int, int]] = (),
    household_size: dict[str, Any] | None = None,
    timeline: Sequence[dict[str, Any]] = (),
) -> Scenario:
    """A one-crossing scenario ('gate') fed by Poisson demand; closures are (first, last) day
    offsets."""
    crossing: dict[str, Any] = {"stages": stages}
    if opening is not None:
        crossing["opening_hours"] = {"open_hour": opening[0], "close_hour": opening[1]}
    if closures:
        crossing["closures"] = [{"start": day(a), "end": day(b)} for a, b in closures]
    data = {
        "name": "theory",
        "calendar": {"start": START, "end": day(days - 1)},
        "crossings": {"gate": crossing},
        "demand": [
            demand_line(
                "gate",
                rate_per_day,
                unit="households",
                household_size=household_size or {"values": [1]},
            )
        ],
        "timeline": list(timeline),
    }
    return from_data(data, filename="<test_theory>")


# ---------------------------------------------------------------- a population
POP = """
name: pop
calendar: {start: 2025-03-01, end: 2025-04-30}
populations:
  acc:
    persons: 30000
    household_size: {values: [2, 4, 6], weights: [1, 2, 1]}
    regions:
      north:
        share: 1.0
        crossings: {gate: {share: 1.0, travel_hours: {dist: fixed, value: 5.0}}}
    deadline: 2025-03-31
    voluntary:
      never_share: 0.5
      ramp: {base_per_day: 0.001, peak_per_day: 0.011, ramp_days: 10}
      after_deadline_per_day: 0.002
crackdown:
  arrest_rate_per_day: 0.05
  arrest_capacity_persons_per_day: 300
  holding: {capacity_persons: 500, dwell_hours: {dist: fixed, value: 30.0}}
  transport:
    vehicle_capacity_persons: 50
    departures_per_day: 4
    travel_hours: {dist: fixed, value: 3.0}
crossings:
  gate:
    stages:
      desk:
        servers: 20
        service_minutes: {per_household: {dist: exponential, mean: 5.0}}
"""


def pop_with_divert(servers: int, service_minutes: str) -> str:
    """POP with a second crossing 'other' (one stage of ``servers`` desks and per-household
    ``service_minutes``, a YAML flow mapping), and the gate closed 5-20 March: households
    that find it closed divert after 24 h and travel 10 h to 'other'."""
    desk = f"{{servers: {servers}, service_minutes: {{per_household: {service_minutes}}}}}"
    return POP.replace(
        "crossings:\n  gate:\n",
        f"crossings:\n  other:\n    stages:\n      desk: {desk}\n"
        "  gate:\n    closures: [{start: 2025-03-05, end: 2025-03-20}]\n"
        "    divert: {to: other, patience_hours: 24, travel_hours: {dist: fixed, value: 10}}\n",
    )
