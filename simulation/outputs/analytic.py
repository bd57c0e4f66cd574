"""Queueing-theory estimates beside the simulated waits, day by day and stage by stage.

For each day a stage is open, the day's arrivals per open hour, the staffed servers and the
stage's service-time moments give an M/G/c estimate of the mean wait (Lee–Longton, exact for
exponential service). Per-person service uses the day's mean household size; the spread of
household sizes is left out. It is a steady-state figure: it is meaningful on days when the load is
steady and below capacity, and is left empty (NaN) when utilisation is 1 or more.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.scenario.calendar import open_hours_by_day, servers_by_day
from simulation.scenario.moments import mean_of, variance_of
from simulation.scenario.schema import Scenario, ServiceTime
from simulation.theory import mgc


def service_moments_hours(service: ServiceTime, persons: float) -> tuple[float, float]:
    """Mean and standard deviation (hours) of the service time of a household of ``persons``."""
    mean = var = 0.0
    if service.per_household is not None:
        mean += mean_of(service.per_household)
        var += variance_of(service.per_household)
    if service.per_person is not None:
        mean += persons * mean_of(service.per_person)
        var += persons * variance_of(service.per_person)
    return mean / 60.0, math.sqrt(var) / 60.0


def _stage_estimates(
    scenario: Scenario, crossing: str, stage: str, days: pd.DataFrame
) -> pd.DataFrame:
    spec = scenario.crossings[crossing].stages[stage]
    open_hours = open_hours_by_day(scenario, crossing, stage)
    servers = servers_by_day(scenario, crossing, stage)
    day = (days["date"] - pd.Timestamp(scenario.calendar.start)).dt.days.to_numpy()
    util, wait = np.full(len(days), np.nan), np.full(len(days), np.nan)
    for row, d in enumerate(day):
        n, persons = days["arrivals_households"].iloc[row], days["arrivals_persons"].iloc[row]
        if open_hours[d] <= 0 or servers[d] < 1 or n <= 0:
            continue
        mean, sd = service_moments_hours(spec.service_minutes, persons / n)
        rate = n / open_hours[d]
        util[row] = rate * mean / servers[d]
        if util[row] < 1:
            wait[row] = mgc(rate, mean, sd, int(servers[d])).wait_hours
    return pd.DataFrame({"utilisation": util, "wait_mgc_hours": wait}, index=days.index)


def add_analytic_waits(daily_stage: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """``daily_stage`` with ``utilisation`` and ``wait_mgc_hours`` columns added."""
    parts = [
        _stage_estimates(scenario, str(crossing), str(stage), rows)
        for (crossing, stage), rows in daily_stage.groupby(["crossing", "stage"], sort=False)
    ]
    extra = pd.concat(parts) if parts else pd.DataFrame(columns=["utilisation", "wait_mgc_hours"])
    return daily_stage.join(extra)
