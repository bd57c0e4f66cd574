"""Households that differ: propensity to leave, camp closures, the hour they set off.

Each mechanism is checked against a closed form computed by hand (survival functions of the
departure time), with binomial tolerances of four standard errors on 100,000 households, and
end to end through a run.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import parse_scenario, simulate
from simulation.engine.population import leaving_hours
from simulation.engine.records import IN_PAKISTAN, STATES, TRAVELLING
from simulation.engine.run import run_model
from simulation.engine.streams import Streams
from simulation.scenario.calendar import voluntary_hazard
from simulation.scenario.schema import Scenario
from tests.builders import POP

N = 100_000  # households drawn in the statistical tests
H = 0.05  # a constant voluntary hazard per day


def _scenario(*overrides: str) -> Scenario:
    return parse_scenario(POP, "pop.yaml", overrides)


def _constant(rate_per_day: float, never_share: float = 0.0, extra: str = "") -> str:
    """``--set`` replacing the group's voluntary section with a constant hazard."""
    step = f"{{from: 2025-03-01, rate_per_day: {rate_per_day:g}}}"
    return f"populations.acc.voluntary={{never_share: {never_share:g}, schedule: [{step}]{extra}}}"


def _leave(scenario: Scenario, seed: int = 1, n: int = N) -> np.ndarray:
    departures = np.random.default_rng(seed)
    return leaving_hours(scenario, "acc", departures, Streams(seed), n)


def _close(observed: float, expected: float, n: int = N) -> None:
    """A share of ``n`` households within four binomial standard errors of ``expected``."""
    se = np.sqrt(max(expected * (1 - expected), 1e-4) / n)
    assert abs(observed - expected) < 4 * se, (observed, expected, 4 * se)


# ---------------------------------------------------------------- heterogeneous propensity
@pytest.mark.parametrize("cv", [0.0, 0.5, 1.0, 2.0])
def test_propensity_gives_the_gamma_mixture_survival(cv: float) -> None:
    t = _leave(_scenario(_constant(H, extra=f", propensity_cv: {cv}")))
    for days in (5, 20, 45):
        expected = np.exp(-H * days) if cv == 0 else (1 + H * days * cv**2) ** (-1 / cv**2)
        _close(float(np.mean(t >= 24 * days)), expected)


def test_never_share_applies_on_top_of_propensity() -> None:
    t = _leave(_scenario(_constant(H, 0.3, ", propensity_cv: 1.0")))
    days, cv = 20, 1.0
    expected = 0.3 + 0.7 * (1 + H * days * cv**2) ** (-1 / cv**2)
    _close(float(np.mean(t >= 24 * days)), expected)


def test_propensity_zero_draws_exactly_as_without_it() -> None:
    a = _leave(_scenario(_constant(H, 0.2)))
    b = _leave(_scenario(_constant(H, 0.2, ", propensity_cv: 0")))
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- deadline, ramp, changes
COMPOSED = (
    "calendar.end=2025-04-09",
    "populations.acc.deadline=2025-03-10",
    "populations.acc.voluntary={ramp: {base_per_day: 0.01, peak_per_day: 0.03, ramp_days: 4},"
    " after_deadline_per_day: 0.02, propensity_cv: 1.5}",
    "timeline=[{event: deadline_extension, date: 2025-03-05, group: acc,"
    " new_deadline: 2025-03-15}, {event: hazard_change, date: 2025-03-20, group: acc,"
    " multiplier: 2}]",
)


def test_propensity_scales_the_hazard_after_extensions_and_changes() -> None:
    """The deadline moves from day 9 to day 14 on day 4; the ramp (4 days to the deadline in
    force) rises on days 11-14; 0.02 after the deadline; doubled from day 19 (20 March)."""
    s = _scenario(*COMPOSED)
    by_hand = np.array([0.01] * 11 + [0.015, 0.02, 0.025, 0.03] + [0.02] * 4 + [0.04] * 21)
    np.testing.assert_allclose(voluntary_hazard(s, "acc"), by_hand)
    t, cv = _leave(s), 1.5
    for day in (3, 12, 16, 25, 39):
        cumulative = by_hand[: day + 1].sum()
        _close(float(np.mean(t >= 24 * (day + 1))), (1 + cv**2 * cumulative) ** (-1 / cv**2))


# ---------------------------------------------------------------- camp closures
CAMPS = "populations.acc.camps={share: 1.0}"


def test_a_closed_camp_empties_at_its_hazard_from_its_date_only() -> None:
    """No voluntary hazard, never_share 1 and a hazard multiplier of 0: only the closure moves
    households, and neither shields them from it nor scales it."""
    closure = (
        "timeline=[{event: camp_closure, date: 2025-03-11, group: acc, share: 1.0,"
        " hazard_per_day: 0.05}, {event: hazard_change, date: 2025-03-01, group: acc,"
        " multiplier: 0}]"
    )
    t = _leave(_scenario(_constant(0.01, 1.0), CAMPS, closure))
    assert (t >= 24 * 10).all()
    for days in (5, 15, 30):
        _close(float(np.mean(t >= 24 * (10 + days))), np.exp(-0.05 * days))


def test_closures_take_disjoint_slices_of_the_camps() -> None:
    closures = (
        "timeline=[{event: camp_closure, date: 2025-03-21, group: acc, share: 0.5,"
        " hazard_per_day: 1000}, {event: camp_closure, date: 2025-03-11, group: acc,"
        " share: 0.25, hazard_per_day: 1000}]"
    )
    t = _leave(_scenario(_constant(0.0), "populations.acc.camps={share: 0.4}", closures))
    day = np.full(len(t), -1.0)  # -1: never leaves
    day[np.isfinite(t)] = t[np.isfinite(t)] // 24
    _close(float(np.mean(day == 10)), 0.4 * 0.25)  # the earlier closure takes the first slice
    _close(float(np.mean(day == 20)), 0.4 * 0.5)
    _close(float(np.mean(np.isinf(t))), 1 - 0.4 * 0.75)
    assert set(np.unique(day)) == {-1.0, 10.0, 20.0}


def test_departure_is_the_earlier_of_voluntary_and_closure() -> None:
    closure = (
        "timeline=[{event: camp_closure, date: 2025-03-21, group: acc, share: 1.0,"
        " hazard_per_day: 0.1}]"
    )
    t = _leave(_scenario(_constant(H), CAMPS, closure))
    for days in (10, 30):  # survival of Exp(H) then, from day 20, of Exp(H + 0.1)
        expected = np.exp(-H * days - 0.1 * max(days - 20, 0))
        _close(float(np.mean(t >= 24 * days)), expected)


# ---------------------------------------------------------------- within-day profile
def test_hour_weights_set_the_hour_and_keep_the_day() -> None:
    weights = "[" + ", ".join("1" if h == 6 else "0" for h in range(24)) + "]"
    base = _leave(_scenario(_constant(H)))
    timed = _leave(_scenario(_constant(H, extra=f", hour_weights: {weights}")))
    finite = np.isfinite(base)
    np.testing.assert_array_equal(finite, np.isfinite(timed))
    np.testing.assert_array_equal(base[finite] // 24, timed[finite] // 24)
    hours = timed[finite] % 24
    assert hours.min() >= 6 and hours.max() < 7


def test_hour_weights_follow_their_proportions() -> None:
    weights = [0.0] * 24
    weights[2], weights[20] = 1.0, 3.0
    text = ", ".join(f"{w:g}" for w in weights)
    t = _leave(_scenario(_constant(H, extra=f", hour_weights: [{text}]")))
    hour = (t[np.isfinite(t)] % 24) // 1
    _close(float(np.mean(hour == 20)), 0.75, n=len(hour))
    assert set(np.unique(hour)) == {2.0, 20.0}


# ---------------------------------------------------------------- end to end
def test_a_run_with_every_mechanism_sets_off_at_six_and_conserves_persons() -> None:
    weights = "[" + ", ".join("1" if h == 6 else "0" for h in range(24)) + "]"
    s = _scenario(
        "populations.acc.voluntary.propensity_cv=1.0",
        f"populations.acc.voluntary.hour_weights={weights}",
        "populations.acc.camps={share: 0.3}",
        "timeline=[{event: camp_closure, date: 2025-04-05, group: acc, share: 0.6,"
        " hazard_per_day: 0.2}]",
    )
    f = run_model(s, seed=3).flows
    leaving = (f["src"] == IN_PAKISTAN) & (f["dst"] == TRAVELLING)
    assert leaving.sum() > 100
    hours = f["time"][leaving] % 24
    assert hours.min() >= 6 and hours.max() < 7
    stocks = simulate(s, seed=3).stocks
    assert (stocks[list(STATES)].sum(axis=1) == 30000).all()
