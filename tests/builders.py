"""Small scenario texts for concept tests (one crossing, direct demand or a population)."""

from __future__ import annotations

from simulation import Scenario, parse_scenario

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
