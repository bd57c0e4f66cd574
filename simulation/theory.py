"""Closed-form queueing results for a quick analytic estimate beside the simulation.

Rates are per hour, times in hours. ``rho = arrival_rate / (servers * service_rate)`` must be < 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class QueueEstimate:
    """Steady-state estimates for one stage."""

    utilisation: float
    wait_hours: float  # mean wait in queue (Wq)
    queue_length: float  # mean number waiting (Lq)
    prob_wait: float  # probability that an arrival waits


def _check(arrival_rate_per_hour: float, service_rate_per_hour: float, servers: int) -> float:
    if arrival_rate_per_hour < 0:
        raise ValueError(f"arrival_rate_per_hour(={arrival_rate_per_hour}) must be >= 0.")
    if service_rate_per_hour <= 0:
        raise ValueError(f"service_rate_per_hour(={service_rate_per_hour}) must be > 0.")
    if servers < 1:
        raise ValueError(f"servers(={servers}) must be >= 1.")
    rho = arrival_rate_per_hour / (servers * service_rate_per_hour)
    if rho >= 1:
        raise ValueError(f"utilisation(={rho:.3f}) must be < 1 for a steady state.")
    return rho


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival must wait in an M/M/c queue (offered load a = lambda/mu)."""
    if offered_load <= 0:
        return 0.0
    # numerically stable recursion on the Erlang B formula
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    rho = offered_load / servers
    return b / (1.0 - rho + rho * b)


def mmc(arrival_rate_per_hour: float, service_rate_per_hour: float, servers: int) -> QueueEstimate:
    """M/M/c: exact mean wait and queue length (Erlang C)."""
    rho = _check(arrival_rate_per_hour, service_rate_per_hour, servers)
    p_wait = erlang_c(servers, arrival_rate_per_hour / service_rate_per_hour)
    wq = p_wait / (servers * service_rate_per_hour - arrival_rate_per_hour)
    return QueueEstimate(rho, wq, arrival_rate_per_hour * wq, p_wait)


def mg1(
    arrival_rate_per_hour: float, mean_service_hours: float, sd_service_hours: float
) -> QueueEstimate:
    """M/G/1: exact mean wait by the Pollaczek–Khinchine formula."""
    rho = _check(arrival_rate_per_hour, 1.0 / mean_service_hours, 1)
    second_moment = sd_service_hours**2 + mean_service_hours**2
    wq = arrival_rate_per_hour * second_moment / (2.0 * (1.0 - rho))
    return QueueEstimate(rho, wq, arrival_rate_per_hour * wq, rho)


def mgc(
    arrival_rate_per_hour: float, mean_service_hours: float, sd_service_hours: float, servers: int
) -> QueueEstimate:
    """M/G/c: the Lee–Longton approximation Wq(M/G/c) ~= (1 + cv^2)/2 * Wq(M/M/c).

    Exact for c = 1 (Pollaczek–Khinchine) and for exponential service.
    """
    base = mmc(arrival_rate_per_hour, 1.0 / mean_service_hours, servers)
    factor = (1.0 + (sd_service_hours / mean_service_hours) ** 2) / 2.0
    wq = factor * base.wait_hours
    return QueueEstimate(base.utilisation, wq, arrival_rate_per_hour * wq, base.prob_wait)


def jackson_tandem(
    arrival_rate_per_hour: float, stages: list[tuple[float, int]]
) -> list[QueueEstimate]:
    """Open tandem of M/M/c stations [(service_rate_per_hour, servers), ...]: each is M/M/c."""
    return [mmc(arrival_rate_per_hour, mu, c) for mu, c in stages]


def littles_law_l(arrival_rate: float, mean_time: float) -> float:
    """L = lambda * W (any consistent units)."""
    return arrival_rate * mean_time


def t_quantile_975(dof: int) -> float:
    """Two-sided 95% Student t critical value for ``dof`` degrees of freedom."""
    from scipy import stats

    return float(stats.t.ppf(0.975, dof)) if dof >= 1 else math.nan
