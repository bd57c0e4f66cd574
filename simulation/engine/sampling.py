"""Sampling from the scenario's distribution specs, vectorised and buffered."""

from __future__ import annotations

import numpy as np

from simulation.scenario.schema import (
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    HouseholdSize,
    LogNormal,
)

BUFFER = 4096


def sample(dist: Distribution, rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` values of a distribution (float64, in the unit of the owning key)."""
    if isinstance(dist, Exponential):
        return rng.exponential(dist.mean, n)
    if isinstance(dist, Gamma):
        shape = (dist.mean / dist.sd) ** 2
        return rng.gamma(shape, dist.mean / shape, n)
    if isinstance(dist, LogNormal):
        sigma2 = np.log1p((dist.sd / dist.mean) ** 2)
        return rng.lognormal(np.log(dist.mean) - sigma2 / 2, np.sqrt(sigma2), n)
    if isinstance(dist, Fixed):
        return np.full(n, float(dist.value))
    if isinstance(dist, Empirical):
        values = np.asarray(dist.values, dtype=float)
        p = None if dist.weights is None else np.asarray(dist.weights) / sum(dist.weights)
        return rng.choice(values, size=n, p=p)
    raise TypeError(f"unknown distribution {dist!r}")


def household_sizes(spec: HouseholdSize, rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` household sizes (persons, >= 1)."""
    if spec.values is not None:
        values = np.asarray(spec.values, dtype=np.int64)
        p = None if spec.weights is None else np.asarray(spec.weights) / sum(spec.weights)
        return rng.choice(values, size=n, p=p)
    assert spec.mean is not None
    sizes = 1 + rng.poisson(spec.mean - 1.0, n)
    return np.minimum(sizes, spec.max_persons).astype(np.int64)


class Stream:
    """Draws one value at a time from a pre-sampled buffer (fast in SimPy processes)."""

    __slots__ = ("_buffer", "_dist", "_i", "_rng")

    def __init__(self, dist: Distribution, rng: np.random.Generator) -> None:
        self._dist = dist
        self._rng = rng
        self._buffer: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        i = self._i
        try:
            value = self._buffer[i]
        except IndexError:
            self._buffer = sample(self._dist, self._rng, BUFFER).tolist()
            value, i = self._buffer[0], 0
        self._i = i + 1
        return value

    def take(self, n: int) -> list[float]:
        """The next ``n`` draws (the same draws, in order, as ``n`` calls)."""
        i, buffer = self._i, self._buffer
        if i + n <= len(buffer):
            self._i = i + n
            return buffer[i : i + n]
        return [self() for _ in range(n)]

    def total(self, n: int) -> float:
        """Sum of ``n`` independent draws (the same draws, in order, as ``n`` calls)."""
        i, buffer = self._i, self._buffer
        if i + n <= len(buffer):
            self._i = i + n
            return sum(buffer[i : i + n])
        return sum(self() for _ in range(n))


class ServiceClock:
    """Service time in hours for a household of a given size: per household + per person."""

    __slots__ = ("_per_hh", "_per_person")

    def __init__(
        self,
        per_household: Distribution | None,
        per_person: Distribution | None,
        rng: np.random.Generator,
    ) -> None:
        self._per_hh = Stream(per_household, rng) if per_household is not None else None
        self._per_person = Stream(per_person, rng) if per_person is not None else None

    def hours(self, persons: int) -> float:
        """Draw the service time (hours) of a household of ``persons`` persons."""
        per_hh, per_person = self._per_hh, self._per_person
        if per_person is None:
            return per_hh() / 60.0  # type: ignore[misc]
        minutes = 0.0 if per_hh is None else per_hh()
        return (minutes + per_person.total(persons)) / 60.0

    def hours_many(self, persons: list[int]) -> np.ndarray:
        """:meth:`hours` for households of ``persons`` persons, one after the other: the
        same draws in the same order, with numpy wherever the buffers last (a household
        whose draws would refill a buffer is drawn by :meth:`hours`)."""
        out, sizes, k = np.empty(len(persons)), np.asarray(persons, dtype=np.int64), 0
        while k < len(persons):
            m = self._lasting(sizes[k:])
            if m == 0:
                out[k] = self.hours(persons[k])
                k += 1
            else:
                out[k : k + m] = self._from_buffers(sizes[k : k + m])
                k += m
        return out

    def _lasting(self, sizes: np.ndarray) -> int:
        """How many of the households of ``sizes`` the buffers serve as they are."""
        m = len(sizes)
        if self._per_hh is not None:
            m = min(m, len(self._per_hh._buffer) - self._per_hh._i)
        if self._per_person is not None:
            left = len(self._per_person._buffer) - self._per_person._i
            m = min(m, int(np.searchsorted(np.cumsum(sizes[:m]), left, side="right")))
        return m

    def _from_buffers(self, sizes: np.ndarray) -> np.ndarray:
        """:meth:`hours` for households (of at least one person) the buffers serve: each
        per-person total summed left to right as ``sum`` does, a person at a time."""
        per_hh, n = self._per_hh, len(sizes)
        minutes = np.zeros(n) if per_hh is None else np.array(per_hh.take(n))  # 0.0 + x is x
        if self._per_person is None:
            return minutes / 60.0
        draws = np.array(self._per_person.take(int(sizes.sum())))
        starts = np.cumsum(sizes) - sizes
        total = draws[starts]
        for j in range(1, int(sizes.max())):
            longer = sizes > j
            total[longer] += draws[starts[longer] + j]
        return (minutes + total) / 60.0


def service_hours(
    per_household: Distribution | None,
    per_person: Distribution | None,
    sizes: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Vectorised service times (hours) for households of the given sizes."""
    minutes = np.zeros(len(sizes))
    if per_household is not None:
        minutes += sample(per_household, rng, len(sizes))
    if per_person is not None and len(sizes):
        draws = sample(per_person, rng, int(sizes.sum()))
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        minutes += np.add.reduceat(draws, starts)
    return minutes / 60.0
