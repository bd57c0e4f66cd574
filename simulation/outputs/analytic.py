"""Queueing-theory estimates beside the simulated stages, day by day.

``utilisation`` (the day's offered load over its staffed capacity: arrivals per open hour times
the mean service time, over the servers) is part of ``daily_stage``: it says which stages run
near or over capacity.

``add_analytic_waits`` also adds an M/G/c estimate of the mean wait (Lee–Longton, exact for
exponential service). repatsim no longer shows it beside the simulated waits: a steady-state
M/G/c with a day's average rate assumes Poisson arrivals of single households spread over the
open hours, while households here arrive in convoys and as an overnight backlog at opening
time, so on the shipped scenarios it gave ~0.0001 h where the simulated mean wait is hours. It
stays available for a stage where its assumptions hold (steady Poisson demand, below capacity),
as on ``scenarios/textbook_mmc.yaml``, where the tests check it against the simulation.
"""

from __future__ import annotations

import math
from typing import cast

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
    spec = scenario.crossings[crossing].stages.get(stage)
    if spec is None:  # the road to a bounded first stage: no servers, nothing to estimate
        return pd.DataFrame({"utilisation": np.nan, "wait_mgc_hours": np.nan}, index=days.index)
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


def add_utilisation(daily_stage: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """``daily_stage`` with a ``utilisation`` column (offered load over staffed capacity),
    on whole columns stage by stage: the arithmetic of :func:`_stage_estimates`, so the same
    floats, without a Python step per day."""
    util = np.full(len(daily_stage), np.nan)
    if len(daily_stage):
        day = (daily_stage["date"] - pd.Timestamp(scenario.calendar.start)).dt.days.to_numpy()
        n = daily_stage["arrivals_households"].to_numpy(dtype=float)
        persons = daily_stage["arrivals_persons"].to_numpy(dtype=float)
        stages = daily_stage.groupby(["crossing", "stage"], sort=False).indices
        for key, rows in stages.items():
            crossing, stage = (str(name) for name in cast(tuple[str, str], key))
            if stage not in scenario.crossings[crossing].stages:
                continue  # the road to a bounded first stage: no servers, stays NaN
            util[rows] = _stage_utilisation(
                scenario, crossing, stage, day[rows], n[rows], persons[rows]
            )
    out = daily_stage.drop(columns=["utilisation", "wait_mgc_hours"], errors="ignore")
    return out.assign(utilisation=util)


def _stage_utilisation(
    scenario: Scenario,
    crossing: str,
    stage: str,
    day: np.ndarray,
    households: np.ndarray,
    persons: np.ndarray,
) -> np.ndarray:
    """Each day's arrivals per open hour times the mean service hours, over the servers
    (NaN when closed, unstaffed or nobody arrived)."""
    service = scenario.crossings[crossing].stages[stage].service_minutes
    open_hours = open_hours_by_day(scenario, crossing, stage)[day]
    servers = servers_by_day(scenario, crossing, stage)[day]
    usable = (open_hours > 0) & (servers >= 1) & (households > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.zeros(len(day))
        if service.per_household is not None:
            mean = mean + mean_of(service.per_household)
        if service.per_person is not None:
            mean = mean + (persons / households) * mean_of(service.per_person)
        util = (households / open_hours) * (mean / 60.0) / servers
    return np.where(usable, util, np.nan)


def add_analytic_waits(daily_stage: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """``daily_stage`` with ``utilisation`` and ``wait_mgc_hours`` columns added (valid only
    where arrivals are steady and Poisson: see the module docstring)."""
    parts = [
        _stage_estimates(scenario, str(crossing), str(stage), rows)
        for (crossing, stage), rows in daily_stage.groupby(["crossing", "stage"], sort=False)
    ]
    extra = pd.concat(parts) if parts else pd.DataFrame(columns=["utilisation", "wait_mgc_hours"])
    return daily_stage.drop(columns=["utilisation", "wait_mgc_hours"], errors="ignore").join(extra)
