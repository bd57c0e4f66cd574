"""The real model (``run_model``) against queueing theory, exact identities, a recursion.

Statistical checks
    Independent replications (seeds from ``replication_seeds``), each started empty. Households
    arriving before day ``WARMUP_DAYS`` (72 h) are discarded. Morse's relaxation time
    ``1 / (c mu (1 - sqrt(rho))^2)`` is at most 6.4 h for every case here (M/M/1 and M/M/4 at
    rho 0.9, c mu = 60/h), so the warm-up spans more than eleven relaxation times, the start-up
    bias is of order e^-11 of the initial deficit, and no allowance is added for it.
    Households arriving on the last day are left out of the wait average so that every kept
    household is served (asserted: no censoring). Each replication gives one mean wait ``Wq``
    and one time-average queue ``Lq`` (mean of ``queue_mean_households`` over the kept days of
    the ``daily_stage`` frame, the frame :func:`simulation.simulate` returns). The check is
    ``theory in mean +- t(0.9995, n-1) * SE``: a 99.9% interval, chosen once for the whole file
    because it holds 32 such comparisons (family-wise false alarm about 3%). Each check
    also requires the interval to be narrow (half-width below ``MAX_REL_HALF_WIDTH`` of theory),
    so that a pass means something.

Exact checks
    Little's law as an identity on every stage of every shipped scenario; a closure, a backlog,
    saturated deterministic service and zero demand with known answers; and sample-path
    equality with the Kiefer–Wolfowitz recursion in :mod:`tests.recursion`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulation import Scenario, parse_scenario, simulate
from simulation.engine.records import SERVED, UNSERVED, RawRun
from simulation.engine.run import run_model
from simulation.experiments.replications import replication_seeds
from simulation.outputs.frames import daily_stage, hourly_queue
from simulation.theory import erlang_c, jackson_tandem, mg1, mmc
from tests.builders import START, backlog, build, day, service, stage_spec
from tests.conftest import shrink
from tests.recursion import Calendar, constant_servers_start_times, start_times

STAGE = ("gate", "desk")
CONFIDENCE = 0.999
MAX_REL_HALF_WIDTH = 0.12
WARMUP_DAYS = 3


# ---------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Interval:
    """Mean of independent replications and the half-width of its CONFIDENCE interval."""

    mean: float
    half_width: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.5f} +- {self.half_width:.5f} (n={self.n})"


def interval(values: Sequence[float] | np.ndarray) -> Interval:
    """Student-t interval of the mean of independent values."""
    x = np.asarray(values, dtype=float)
    t = float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(x) - 1))
    return Interval(float(x.mean()), t * float(x.std(ddof=1)) / math.sqrt(len(x)), len(x))


def assert_covers(estimate: Interval, theory: float, what: str) -> None:
    """Theory lies in the interval, and the interval is narrow enough to be informative."""
    print(f"{what}: theory {theory:.5f}, simulated {estimate}")  # shown by pytest -rP
    assert estimate.half_width < MAX_REL_HALF_WIDTH * theory, f"{what}: too imprecise {estimate}"
    assert abs(estimate.mean - theory) <= estimate.half_width, (
        f"{what}: theory {theory:.5f} outside {estimate}"
    )


def stationary_means(
    scenario: Scenario, master_seed: int, replications: int, stages: Sequence[str] = ("desk",)
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per stage, per replication: mean wait (hours) and time-average queue after warm-up."""
    out: dict[str, tuple[list[float], list[float]]] = {s: ([], []) for s in stages}
    last_day = 24.0 * (scenario.days - 1)
    for seed in replication_seeds(master_seed, replications):
        raw = run_model(scenario, seed)
        frame = daily_stage(raw)
        for name in stages:
            log = raw.stage_logs[("gate", name)]
            kept = (log["arrive"] >= 24.0 * WARMUP_DAYS) & (log["arrive"] < last_day)
            assert np.isfinite(log["start"][kept]).all(), "a kept household was not served"
            waits, queues = out[name]
            waits.append(float((log["start"] - log["arrive"])[kept].mean()))
            rows = frame[frame["stage"] == name]["queue_mean_households"].to_numpy()
            queues.append(float(rows[WARMUP_DAYS:].mean()))
    return {k: (np.array(w), np.array(q)) for k, (w, q) in out.items()}


# ---------------------------------------------------------------- the formulas themselves
def test_theory_formulas_match_textbook_closed_forms() -> None:
    """theory.py against formulas written out here (M/M/1, M/M/c by the direct sum, P-K)."""
    lam, mu = 54.0, 60.0
    rho = lam / mu
    assert mmc(lam, mu, 1).wait_hours == pytest.approx(rho / (mu - lam), rel=1e-12)
    for lam, mu, c in [(54.0, 15.0, 4), (20.0, 3.0, 8), (40.0, 5.0, 10), (48.0, 160 / 9, 3)]:
        a = lam / mu
        tail = a**c / math.factorial(c) * c / (c - a)
        p_wait = tail / (sum(a**k / math.factorial(k) for k in range(c)) + tail)
        assert erlang_c(c, a) == pytest.approx(p_wait, rel=1e-12)
        assert mmc(lam, mu, c).wait_hours == pytest.approx(p_wait / (c * mu - lam), rel=1e-12)
        assert mmc(lam, mu, c).queue_length == pytest.approx(lam * p_wait / (c * mu - lam))
    # M/D/1 waits half as long as M/M/1; P-K with the second moment of the service time
    assert mg1(54.0, 1 / 60, 0.0).wait_hours == pytest.approx(0.5 * mmc(54.0, 60.0, 1).wait_hours)
    assert mg1(30.0, 0.02, 0.03).wait_hours == pytest.approx(30 * (0.03**2 + 0.02**2) / (2 * 0.4))
    # the shipped textbook scenario: lambda 20/h, mu 3/h, c 8 (its header comment says
    # Wq ~= 0.221 h; Erlang C gives 0.133 h)
    assert mmc(20.0, 3.0, 8).wait_hours == pytest.approx(0.13317, abs=1e-5)


# ---------------------------------------------------------------- M/M/c against Erlang C
MMC_CASES = [
    # (lambda per hour, mean service minutes, servers, replications, days incl. warm-up)
    pytest.param(30.0, 1.0, 1, 16, 13, id="M/M/1-rho0.50"),
    pytest.param(54.0, 1.0, 1, 32, 23, id="M/M/1-rho0.90", marks=pytest.mark.slow),
    pytest.param(54.0, 4.0, 4, 36, 28, id="M/M/4-rho0.90", marks=pytest.mark.slow),
    pytest.param(20.0, 20.0, 8, 40, 38, id="M/M/8-rho0.83", marks=pytest.mark.slow),
    pytest.param(40.0, 12.0, 10, 30, 28, id="M/M/10-rho0.80", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("lam", "minutes", "servers", "reps", "days"), MMC_CASES)
def test_mmc_wait_and_queue_match_erlang_c(
    lam: float, minutes: float, servers: int, reps: int, days: int
) -> None:
    scenario = build(
        days, {"desk": stage_spec(servers, service("exponential", mean=minutes))}, 24.0 * lam
    )
    theory = mmc(lam, 60.0 / minutes, servers)
    waits, queues = stationary_means(scenario, 1001 + servers, reps)["desk"]
    assert_covers(interval(waits), theory.wait_hours, "Wq")
    assert_covers(interval(queues), theory.queue_length, "Lq")


# ---------------------------------------------------------------- M/D/1, M/G/1: Pollaczek–Khinchine
PK_CASES = [
    # (lambda per hour, service, mean minutes, sd minutes, replications, days)
    pytest.param(54.0, service("fixed", value=1.0), 1.0, 0.0, 20, 23, id="M/D/1-rho0.90"),
    pytest.param(
        48.0, service("lognormal", mean=1.0, sd=1.5), 1.0, 1.5, 20, 23, id="M/G/1-lognormal-rho0.80"
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("lam", "minutes", "mean", "sd", "reps", "days"), PK_CASES)
def test_single_server_general_service_matches_pollaczek_khinchine(
    lam: float, minutes: dict[str, Any], mean: float, sd: float, reps: int, days: int
) -> None:
    scenario = build(days, {"desk": stage_spec(1, minutes)}, 24.0 * lam)
    theory = mg1(lam, mean / 60.0, sd / 60.0)
    waits, queues = stationary_means(scenario, 2002, reps)["desk"]
    assert_covers(interval(waits), theory.wait_hours, "Wq")
    assert_covers(interval(queues), theory.queue_length, "Lq")


# ---------------------------------------------------------------- Jackson tandem
@pytest.mark.slow
def test_tandem_of_exponential_stages_matches_jackson() -> None:
    """lambda 48/h; stage 1: 2 servers x 2 min (rho 0.8); stage 2: 3 servers x 3 min (rho 0.8)."""
    stages = {
        "first": stage_spec(2, service("exponential", mean=2.0)),
        "second": stage_spec(3, service("exponential", mean=3.0)),
    }
    scenario = build(23, stages, 24.0 * 48.0)
    theory = jackson_tandem(48.0, [(30.0, 2), (20.0, 3)])
    means = stationary_means(scenario, 3003, 20, stages=("first", "second"))
    for name, expected in zip(("first", "second"), theory, strict=True):
        waits, queues = means[name]
        assert_covers(interval(waits), expected.wait_hours, f"{name} Wq")
        assert_covers(interval(queues), expected.queue_length, f"{name} Lq")


# ---------------------------------------------------------------- households of several persons
SIZES = {"values": [1, 2, 3, 4, 6], "weights": [3, 2, 2, 2, 1]}
SIZE_MEAN = 2.7  # persons per household
SIZE_VAR = 9.7 - 2.7**2  # E[N^2] - E[N]^2


@pytest.mark.slow
def test_per_person_service_single_server_matches_pollaczek_khinchine() -> None:
    """Service = sum of N exponential per-person draws (mean m): E S = E N m, Var S = (E N + Var
    N) m^2; households arrive as Poisson batches, each served as one customer: exact M/G/1."""
    m, lam = 0.5, 36.0  # minutes per person; households per hour (rho = 0.81)
    minutes = {"per_person": {"dist": "exponential", "mean": m}}
    scenario = build(23, {"desk": stage_spec(1, minutes)}, 24.0 * lam, household_size=SIZES)
    mean_s, sd_s = SIZE_MEAN * m / 60.0, math.sqrt((SIZE_MEAN + SIZE_VAR) * m**2) / 60.0
    theory = mg1(lam, mean_s, sd_s)
    waits, queues = stationary_means(scenario, 4004, 20)["desk"]
    assert_covers(interval(waits), theory.wait_hours, "Wq")
    assert_covers(interval(queues), theory.queue_length, "Lq")


@pytest.mark.slow
def test_per_household_service_ignores_household_size_mmc() -> None:
    """Per-household exponential service with random household sizes is plain M/M/3."""
    scenario = build(
        23,
        {"desk": stage_spec(3, service("exponential", mean=4.0))},
        24.0 * 36.0,
        household_size=SIZES,
    )
    theory = mmc(36.0, 15.0, 3)
    waits, queues = stationary_means(scenario, 5005, 20)["desk"]
    assert_covers(interval(waits), theory.wait_hours, "Wq")
    assert_covers(interval(queues), theory.queue_length, "Lq")


def test_service_time_scales_with_household_size() -> None:
    """Mean service of a household of k persons is k x the per-person mean (t interval on the
    independent draws of each size); a per-household time does not depend on the size."""
    per_person = {"per_person": {"dist": "exponential", "mean": 0.5}}
    flat = service("gamma", mean=1.5, sd=0.75)
    scenario = build(
        8,
        {"persons": stage_spec(4, per_person), "flat": stage_spec(4, flat)},
        24.0 * 100.0,
        household_size=SIZES,
    )
    raw = run_model(scenario, 6006)
    for name, expected in (("persons", lambda k: 0.5 * k), ("flat", lambda k: 1.5)):
        log = raw.stage_logs[("gate", name)]
        served = log["kind"] == SERVED
        size = raw.sizes[log["hh"][served]]
        minutes = 60.0 * (log["end"][served] - log["start"][served])
        assert set(size.tolist()) == set(SIZES["values"])
        for k in SIZES["values"]:
            estimate = interval(minutes[size == k])
            assert abs(estimate.mean - expected(k)) <= estimate.half_width, (name, k, estimate)
            assert estimate.half_width < 0.05 * expected(k), (name, k, estimate)


# ---------------------------------------------------------------- Little's law, exactly
def _censored_waits(log: dict[str, np.ndarray], horizon: float) -> np.ndarray:
    """Time each visit spent queueing inside the window [0, horizon): unserved ones to the end."""
    return np.minimum(log["start"], horizon) - log["arrive"]


def _check_littles_law(raw: RawRun, frame: pd.DataFrame) -> None:
    """L = lambda W over the window, and the same day by day, to rounding error.

    The queue of a stage is the set of visits with arrive <= t < start (start = time of leaving
    the queue: service start, or diversion). Integrating over [0, H) and counting each visit's
    time in the queue inside the window gives the same number, so with waits censored at the
    horizon (unserved and still-waiting visits counted up to H) there are no end effects:
    mean over days of queue_mean_households = (arrivals / H) x mean censored wait, exactly.
    Only floating-point rounding separates the two sides (sums of ~1e5 terms): rtol 1e-9.
    """
    horizon, days = raw.scenario.horizon_hours, raw.scenario.days
    lo = 24.0 * np.arange(days)
    for (crossing, name), log in raw.stage_logs.items():
        rows = frame[(frame["crossing"] == crossing) & (frame["stage"] == name)]
        queue = rows["queue_mean_households"].to_numpy()
        arrivals = len(log["arrive"])
        assert rows["arrivals_households"].sum() == arrivals
        assert (log["arrive"] < horizon).all()
        wait = _censored_waits(log, horizon)
        lam_w = arrivals / horizon * (wait.mean() if arrivals else 0.0)
        np.testing.assert_allclose(queue.mean(), lam_w, rtol=1e-9, atol=1e-12)
        # per day: the area under the queue equals the visits' queueing time inside the day
        end = np.minimum(log["start"], horizon)
        inside = np.clip(end[:, None], lo, lo + 24.0) - np.clip(log["arrive"][:, None], lo, lo + 24)
        np.testing.assert_allclose(24.0 * queue, inside.sum(axis=0), rtol=1e-9, atol=1e-9)


def test_littles_law_holds_exactly_on_every_shipped_scenario(shipped: Any) -> None:
    _, scenario = shipped
    small = shrink(scenario)
    results = simulate(small, seed=17)
    raw = run_model(small, seed=17)
    _check_littles_law(raw, results.daily_stage)


def test_littles_law_holds_exactly_under_congestion_diversion_and_blocking() -> None:
    """An overloaded two-crossing scenario: unserved at the end, diversions, a full waiting area."""
    text = f"""
name: congested
calendar: {{start: {START}, end: {day(9)}}}
crossings:
  north:
    opening_hours: {{open_hour: 7, close_hour: 23}}
    closures: [{{start: {day(3)}, end: {day(5)}}}]
    divert: {{to: south, patience_hours: 30, travel_hours: {{dist: fixed, value: 5}}}}
    stages:
      check: {{servers: 2, service_minutes: {{per_household: {{dist: exponential, mean: 6}}}}}}
      desk:
        servers: 1
        service_minutes: {{per_person: {{dist: gamma, mean: 1.0, sd: 0.5}}}}
        waiting_capacity_households: 3
  south:
    stages:
      desk: {{servers: 1, service_minutes: {{per_household: {{dist: lognormal, mean: 4, sd: 3}}}}}}
demand:
  - crossing: north
    household_size: {{values: [1, 2, 5]}}
    schedule: [{{from: {START}, rate_per_day: 300}}]
  - crossing: south
    schedule: [{{from: {START}, rate_per_day: 200}}]
"""
    scenario = parse_scenario(text, "<congested>")
    raw = run_model(scenario, seed=23)
    kinds = np.concatenate([log["kind"] for log in raw.stage_logs.values()])
    assert {0, 1, 2} <= set(kinds.tolist())  # served, diverted and unserved visits all occur
    _check_littles_law(raw, daily_stage(raw))


# ---------------------------------------------------------------- deterministic exact cases
def test_queue_at_reopening_equals_queue_at_closing_plus_arrivals_during_closure() -> None:
    closed_from, closed_to = 3, 5  # days 3..5 shut: hours [72, 144)
    scenario = build(
        9,
        {"desk": stage_spec(3, service("exponential", mean=10.0))},
        400.0,  # rho = 0.93: some service is almost surely running at the closing instant
        closures=[(closed_from, closed_to)],
    )
    raw = run_model(scenario, seed=31)
    log = raw.stage_logs[STAGE]
    shut, reopen = 24.0 * closed_from, 24.0 * (closed_to + 1)
    arrive, start = log["arrive"], log["start"]

    def waiting_at(t: float) -> int:  # households in the queue just before instant t
        return int(((arrive < t) & (start >= t)).sum())

    during = int(((arrive >= shut) & (arrive < reopen)).sum())
    assert during > 300
    assert not ((start >= shut) & (start < reopen)).any()  # nothing starts while closed
    assert waiting_at(reopen) == waiting_at(shut) + during
    # the frames agree: the queue peaks at the reopening instant, and arrivals add up
    frame = daily_stage(raw)
    closed_rows = frame.iloc[closed_from : closed_to + 1]
    assert closed_rows["arrivals_households"].sum() == during
    assert closed_rows["queue_max_households"].iloc[-1] == waiting_at(reopen)
    assert (closed_rows["completions_households"].iloc[1:] == 0).all()
    # three servers start at the reopening instant itself; services begun before closing ran on
    assert (start == reopen).sum() == 3
    running = (start < shut) & (log["end"] > shut)
    assert running.any() and (log["leave"][running] == log["end"][running]).all()


def test_backlog_behind_a_closure_is_served_on_a_fixed_schedule() -> None:
    """50 households wait from time 0; closed days 0-1; 2 servers x 6 min from hour 48."""
    desk = stage_spec(2, service("fixed", value=6.0), initial_backlog=backlog(50))
    scenario = build(4, {"desk": desk}, 0.0, closures=[(0, 1)])
    raw = run_model(scenario, seed=1)
    log = raw.stage_logs[STAGE]
    assert (log["kind"] == SERVED).all() and len(log["hh"]) == 50
    expected = 48.0 + 0.1 * (np.arange(50) // 2)
    np.testing.assert_allclose(np.sort(log["start"]), expected, rtol=0, atol=1e-9)
    frame = daily_stage(raw)
    assert frame["queue_mean_households"].iloc[:2].tolist() == [50.0, 50.0]
    assert frame["completions_households"].tolist() == [0, 0, 50, 0]
    assert frame["queue_mean_households"].iloc[3] == 0.0


def test_saturated_fixed_service_gives_capacity_per_day_with_opening_hours() -> None:
    """Open 8-18 with 3 desks of 7 minutes: a desk starts ceil(600 / 7) = 86 services a day (the
    86th, at 17:55, runs past closing to 18:02), so 258 a day start and 258 finish."""
    desk = stage_spec(3, service("fixed", value=7.0), initial_backlog=backlog(300))
    scenario = build(6, {"desk": desk}, 400.0, opening=(8, 18))  # demand above capacity
    raw = run_model(scenario, seed=41)
    log = raw.stage_logs[STAGE]
    served = log["kind"] == SERVED
    per_day = 3 * math.ceil(600 / 7)
    starts = np.bincount((log["start"][served] // 24).astype(int), minlength=6)
    assert starts.tolist() == [per_day] * 6
    frame = daily_stage(raw)
    assert frame["completions_households"].tolist() == [per_day] * 6
    assert (log["kind"] == UNSERVED).sum() > 0  # the queue never ran dry


def test_saturated_fixed_service_around_the_clock_counts_the_edge_at_midnight() -> None:
    """Open 24 h, 2 desks x 7 min, never idle: by the end of day d each desk has finished
    floor(1440 (d + 1) / 7) services; the one in progress at midnight finishes the next day."""
    desk = stage_spec(2, service("fixed", value=7.0), initial_backlog=backlog(3000))
    scenario = build(6, {"desk": desk}, 0.0)
    frame = daily_stage(run_model(scenario, seed=1))
    cumulative = np.cumsum(frame["completions_households"].to_numpy())
    expected = [2 * (1440 * (d + 1) // 7) for d in range(6)]
    assert cumulative.tolist() == expected
    assert frame["completions_households"].iloc[0] == 2 * 205  # 1440 / 7 = 205.7 per desk


def test_saturated_fixed_service_whole_number_per_day() -> None:
    """Open 8-18, 1 desk of 10 minutes, never idle: 600 / 10 = 60 services start each day (the
    61st would start at 18:00, when capacity is 0)."""
    desk = stage_spec(1, service("fixed", value=10.0), initial_backlog=backlog(400))
    scenario = build(5, {"desk": desk}, 0.0, opening=(8, 18))
    log = run_model(scenario, seed=1).stage_logs[STAGE]
    served = log["kind"] == SERVED
    starts = np.bincount((log["start"][served] // 24).astype(int), minlength=5)
    assert starts.tolist() == [60] * 5, f"starts per day {starts.tolist()}"


def test_zero_demand_gives_empty_queues() -> None:
    scenario = build(
        5,
        {"desk": stage_spec(2, service("exponential", mean=5.0))},
        0.0,
        opening=(8, 18),
        closures=[(2, 2)],
    )
    raw = run_model(scenario, seed=3)
    assert len(raw.stage_logs[STAGE]["hh"]) == 0 and len(raw.exits["hh"]) == 0
    frame = daily_stage(raw)
    for column in (
        "arrivals_households",
        "queue_mean_households",
        "queue_max_households",
        "completions_households",
        "in_service_mean_households",
    ):
        assert (frame[column] == 0).all(), column
    assert (hourly_queue(raw)["queue_households"] == 0).all()


# ---------------------------------------------------------------- sample-path equivalence
@dataclass(frozen=True)
class PathCase:
    """A scenario and the calendar the reference recursion should assume for it."""

    scenario: Scenario
    calendars: dict[str, Calendar]  # by stage


def _path_cases() -> dict[str, PathCase]:
    lognormal = service("lognormal", mean=5.0, sd=4.0)
    gamma = service("gamma", mean=12.0, sd=6.0)
    steps = [(3, 1), (5, 0), (6, 5)]  # (from day, servers)
    schedule = [{"from": day(d), "servers": s} for d, s in steps]
    by_day = (3, 3, 3, 1, 1, 0, 5, 5, 5, 5)
    per_person = {"per_person": {"dist": "gamma", "mean": 2.0, "sd": 1.0}}
    return {
        "24h-3-servers-rho0.9": PathCase(
            build(10, {"desk": stage_spec(3, service("exponential", mean=3.0))}, 24.0 * 54),
            {"desk": Calendar((3,) * 10)},
        ),
        "open-8-18-and-closure": PathCase(
            build(
                12, {"desk": stage_spec(2, lognormal)}, 150.0, opening=(8, 18), closures=[(4, 5)]
            ),
            {"desk": Calendar((2,) * 12, 8.0, 18.0, frozenset({4, 5}))},
        ),
        "servers-schedule": PathCase(
            build(10, {"desk": stage_spec(3, gamma, servers_schedule=schedule)}, 250.0),
            {"desk": Calendar(by_day)},
        ),
        "schedule-timeline-hours-closure-event": PathCase(
            build(
                10,
                {"desk": stage_spec(3, gamma, servers_schedule=schedule[:2])},
                250.0,
                opening=(6.5, 22.25),
                timeline=[
                    {
                        "event": "capacity_change",
                        "date": day(6),
                        "crossing": "gate",
                        "stage": "desk",
                        "servers": 5,
                    },
                    {"event": "closure", "date": day(8), "end": day(8), "crossing": "gate"},
                ],
            ),
            {"desk": Calendar(by_day, 6.5, 22.25, frozenset({8}))},
        ),
        "backlog-fixed-service-ties": PathCase(
            build(
                5,
                {"desk": stage_spec(2, service("fixed", value=30.0), initial_backlog=backlog(80))},
                30.0,
                opening=(8, 18),
            ),
            {"desk": Calendar((2,) * 5, 8.0, 18.0)},
        ),
        "per-person-service-households": PathCase(
            build(
                10,
                {"desk": stage_spec(2, per_person)},
                240.0,
                opening=(7, 23),
                household_size=SIZES,
            ),
            {"desk": Calendar((2,) * 10, 7.0, 23.0)},
        ),
        "tandem-both-stages": PathCase(
            build(
                8,
                {
                    "desk": stage_spec(2, service("exponential", mean=2.0)),
                    "next": stage_spec(3, service("exponential", mean=3.375)),
                },
                24.0 * 48,
            ),
            {"desk": Calendar((2,) * 8), "next": Calendar((3,) * 8)},
        ),
    }


PATH_CASES = _path_cases()


def _in_arrival_order(log: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    order = np.lexsort((log["hh"], log["arrive"]))  # ties (a backlog at t=0): by household id
    return {k: v[order] for k, v in log.items()}


@pytest.mark.parametrize("lookahead", [True, False], ids=["fifo-recursion", "event-driven"])
@pytest.mark.parametrize("name", list(PATH_CASES))
def test_start_times_equal_the_kiefer_wolfowitz_recursion(name: str, lookahead: bool) -> None:
    # both stage engines, each against the recursion written here independently
    case = PATH_CASES[name]
    raw = run_model(case.scenario, seed=7, lookahead=lookahead)
    for stage_name, calendar in case.calendars.items():
        log = _in_arrival_order(raw.stage_logs[("gate", stage_name)])
        served = log["kind"] == SERVED
        assert (log["kind"] != 1).all()
        assert served.sum() >= 100
        duration = np.full(len(served), np.nan)  # unserved: no service drawn
        duration[served] = log["end"][served] - log["start"][served]
        expected = start_times(log["arrive"], duration, calendar)
        np.testing.assert_allclose(log["start"], expected, rtol=0, atol=1e-9)
        if len(set(calendar.servers)) == 1 and calendar.open_hour == 0 and served.all():
            plain = constant_servers_start_times(log["arrive"], duration, calendar.servers[0])
            np.testing.assert_allclose(log["start"], plain, rtol=0, atol=1e-9)


def test_recursion_reference_on_a_hand_worked_example() -> None:
    """The reference itself, on a case worked by hand: 1 desk open 8-18, closed on day 1."""
    calendar = Calendar((1, 1, 1), 8.0, 18.0, frozenset({1}))
    arrive = [1.0, 2.0, 17.5, 17.6, 30.0, 50.0]
    duration = [1.0, 1.0, 1.0, 0.5, 0.25, 0.25]
    expected = [8.0, 9.0, 17.5, 56.0, 56.5, 56.75]  # 17.6 waits past the closed day 1
    np.testing.assert_allclose(start_times(arrive, duration, calendar), expected)
    # nobody starts at or after the horizon (72 h)
    late = start_times([71.0, 71.5], [1.0, 1.0], Calendar((1, 1, 1)))
    assert late.tolist() == [71.0, math.inf]
