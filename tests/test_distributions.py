"""Sampling: each distribution's draws match its stated mean and variance; streams are exact."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulation.engine.sampling import (
    ServiceClock,
    Stream,
    household_sizes,
    sample,
    service_hours,
)
from simulation.scenario.moments import mean_household_size, mean_of, variance_of
from simulation.scenario.schema import (
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    HouseholdSize,
    LogNormal,
)

N = 200_000
SPECS = [
    Exponential(dist="exponential", mean=4.0),
    Gamma(dist="gamma", mean=8.0, sd=3.0),
    LogNormal(dist="lognormal", mean=10.0, sd=6.0),
    Fixed(dist="fixed", value=2.5),
    Empirical(dist="empirical", values=[1.0, 2.0, 7.0], weights=[1.0, 2.0, 1.0]),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.dist)
def test_sample_mean_and_variance_match_the_spec(spec):
    x = sample(spec, np.random.default_rng(1), N)
    mean, var = mean_of(spec), variance_of(spec)
    z = stats.norm.ppf(0.9995)  # 99.9% intervals
    assert abs(x.mean() - mean) <= z * np.sqrt(var / N) + 1e-12
    if var > 0:
        # relative SE of a sample variance is sqrt((excess kurtosis + 2) / N); the heaviest
        # tail here is the lognormal (sd/mean 0.6, excess kurtosis ~8)
        excess = stats.kurtosis(x)
        assert abs(x.var() / var - 1) <= z * np.sqrt((excess + 2) / N)


def test_household_sizes_are_positive_and_capped():
    spec = HouseholdSize(mean=6.0, max_persons=12)
    sizes = household_sizes(spec, np.random.default_rng(2), N)
    assert sizes.min() >= 1 and sizes.max() <= 12
    assert abs(sizes.mean() - mean_household_size(spec)) < 0.05


def test_stream_total_equals_the_sum_of_single_draws():
    spec = Gamma(dist="gamma", mean=2.0, sd=1.0)
    a, b = Stream(spec, np.random.default_rng(3)), Stream(spec, np.random.default_rng(3))
    for n in [1, 5, 4000, 300, 7]:  # crosses buffer refills
        assert a.total(n) == pytest.approx(sum(b() for _ in range(n)), rel=0, abs=1e-9)


def test_service_clock_and_vectorised_service_agree_in_distribution():
    per_hh, per_person = Fixed(dist="fixed", value=3.0), Exponential(dist="exponential", mean=1.5)
    sizes = np.full(50_000, 4)
    hours = service_hours(per_hh, per_person, sizes, np.random.default_rng(4))
    clock = ServiceClock(per_hh, per_person, np.random.default_rng(5))
    one_by_one = np.array([clock.hours(4) for _ in range(50_000)])
    expected = (3.0 + 4 * 1.5) / 60
    for draws in (hours, one_by_one):
        assert abs(draws.mean() - expected) < 4 * np.sqrt(4 * 1.5**2 / 60**2 / 50_000)
