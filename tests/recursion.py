"""An independent reference for one FIFO multi-server stage: the Kiefer–Wolfowitz recursion.

Given each household's arrival time and service duration (in arrival order), the start of
service of household ``n`` is the earliest time ``t >= max(arrival_n, start_{n-1})`` at which
fewer services are in progress than servers are available, where

* a service in progress occupies its server until its end, even past closing time;
* the servers available at ``t`` come from :class:`Calendar` (daily opening window, closed days,
  servers per day), written here from the test's own parameters and deliberately not from
  :func:`simulation.scenario.calendar.capacity_breakpoints`;
* nothing starts at or after the horizon (such households get ``inf``).

With a constant number of servers ``c`` open around the clock this is the textbook recursion:
the start is ``max(arrival, earliest server-free time)``, with a min-heap of server-free times.
When capacity varies, the heap holds the end times of services in progress and the candidate
start times are the arrival, the ends of services in progress and the calendar's breakpoints.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calendar:
    """Servers available at each instant: a daily window [open_hour, close_hour), closed days.

    ``servers`` holds the staffed servers of each day (its length is the number of days).
    """

    servers: tuple[int, ...]
    open_hour: float = 0.0
    close_hour: float = 24.0
    closed_days: frozenset[int] = frozenset()

    @property
    def horizon(self) -> float:
        """End of the last day (hours)."""
        return 24.0 * len(self.servers)

    def available(self, t: float) -> int:
        """Servers available at instant ``t`` (a window includes its opening instant only)."""
        day = math.floor(t / 24.0)
        if day < 0 or day >= len(self.servers) or day in self.closed_days:
            return 0
        base = 24.0 * day
        if base + self.open_hour <= t < base + self.close_hour:
            return self.servers[day]
        return 0

    def next_change(self, t: float) -> float:
        """The first instant after ``t`` at which the availability may change."""
        day = math.floor(t / 24.0)
        base = 24.0 * day
        points = (base + self.open_hour, base + self.close_hour, base + 24.0)
        return min(p for p in points if p > t)


def start_times(
    arrive: Sequence[float] | np.ndarray,
    duration: Sequence[float] | np.ndarray,
    calendar: Calendar,
) -> np.ndarray:
    """Start of service of each household (arrival order), ``inf`` if not before the horizon."""
    horizon = calendar.horizon
    in_service: list[float] = []  # end times of services begun (min-heap)
    starts = np.full(len(arrive), np.inf)
    previous = -np.inf
    for n, (a, s) in enumerate(zip(arrive, duration, strict=True)):
        t = max(float(a), previous)
        while t < horizon:
            while in_service and in_service[0] <= t:
                heapq.heappop(in_service)
            if len(in_service) < calendar.available(t):
                break
            t = calendar.next_change(t)
            if in_service:
                t = min(t, in_service[0])
        if t >= horizon:
            break  # FIFO: nobody behind starts either
        starts[n] = previous = t
        heapq.heappush(in_service, t + (float(s) if s == s else np.inf))
    return starts


def constant_servers_start_times(
    arrive: Sequence[float] | np.ndarray, duration: Sequence[float] | np.ndarray, servers: int
) -> np.ndarray:
    """The plain Kiefer–Wolfowitz recursion: ``c`` servers, always open, no horizon."""
    free = [0.0] * servers  # min-heap of the times the servers become free
    starts = np.empty(len(arrive))
    for n, (a, s) in enumerate(zip(arrive, duration, strict=True)):
        t = max(float(a), free[0])
        starts[n] = t
        heapq.heapreplace(free, t + float(s))
    return starts
