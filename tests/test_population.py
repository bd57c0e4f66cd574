"""Households, voluntary departures, deadlines and the crackdown."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest

from simulation import parse_scenario, simulate
from simulation.engine.population import departure_hours, split_persons
from simulation.engine.records import DETAINED, IN_PAKISTAN, STATES
from simulation.engine.run import run_model
from simulation.scenario.calendar import (
    crackdown_days,
    day_index,
    deadline_by_day,
    voluntary_hazard,
)
from tests.builders import POP, demand_scenario, pop_with_divert


def test_split_persons_is_exact():
    rng = np.random.default_rng(0)
    for persons in [1, 2, 7, 1000, 12345]:
        sizes = split_persons(rng.integers(1, 9, size=persons), persons)
        assert sizes.sum() == persons and (sizes >= 1).all()


def test_constant_hazard_gives_exponential_departures():
    rng = np.random.default_rng(1)
    n, h = 100_000, 0.05
    t = departure_hours(np.full(60, h), rng, n)
    for days in (5, 20, 59):
        p = 1 - np.exp(-h * days)
        se = np.sqrt(p * (1 - p) / n)
        assert abs(np.mean(t < 24 * days) - p) < 4 * se


def test_no_departures_where_the_hazard_is_zero():
    hazard = np.array([0.0, 0.0, 0.2, 0.0, 0.3])
    t = departure_hours(hazard, np.random.default_rng(2), 50_000)
    day = t[np.isfinite(t)] // 24
    assert set(np.unique(day)) <= {2.0, 4.0}


def test_ramp_rises_to_the_peak_on_the_deadline_then_switches():
    s = parse_scenario(POP)
    h = voluntary_hazard(s, "acc")
    deadline = 30  # 31 March is day 30
    assert h[0] == pytest.approx(0.001)
    assert h[deadline] == pytest.approx(0.011)
    assert h[deadline - 5] == pytest.approx(0.001 + 0.01 * 0.5)
    assert (h[deadline + 1 :] == 0.002).all()


def test_deadline_extension_moves_ramp_and_crackdown():
    ext = (
        "timeline=[{event: deadline_extension, date: 2025-03-25, group: acc,"
        " new_deadline: 2025-04-10}]"
    )
    s = parse_scenario(POP, overrides=[ext])
    active = crackdown_days(s, "acc")
    assert not active[:41].any() and active[41:].all()  # crackdown from 11 April (day 41)
    h = voluntary_hazard(s, "acc")
    assert h[30] < 0.011 and h[40] == pytest.approx(0.011)


def test_hazard_change_multiplies_from_its_date():
    change = "timeline=[{event: hazard_change, date: 2025-04-10, group: acc, multiplier: 3}]"
    base = voluntary_hazard(parse_scenario(POP), "acc")
    h = voluntary_hazard(parse_scenario(POP, overrides=[change]), "acc")
    assert np.allclose(h[:40], base[:40]) and np.allclose(h[40:], 3 * base[40:])


def _detained_and_arrests(raw):
    f = raw.flows
    order = np.argsort(f["time"], kind="stable")
    delta = np.where(f["dst"] == DETAINED, f["persons"], 0) - np.where(
        f["src"] == DETAINED, f["persons"], 0
    )
    detained = np.cumsum(delta[order])
    arrests = (f["src"] == IN_PAKISTAN) & (f["dst"] == DETAINED)
    per_day = np.bincount((f["time"][arrests] // 24).astype(int), f["persons"][arrests])
    return detained, arrests, per_day


def test_crackdown_respects_deadline_capacity_and_holding_space():
    s = parse_scenario(POP)
    raw = run_model(s, seed=4)
    detained, arrests, per_day = _detained_and_arrests(raw)
    assert arrests.any()
    assert raw.flows["time"][arrests].min() >= 24 * 31  # not before 1 April
    assert per_day.max() <= 300
    assert detained.max() <= 500


def test_deportees_cross_as_deported_and_persons_are_conserved():
    results = simulate(parse_scenario(POP), seed=5)
    modes = results.returns.groupby("mode")["persons"].sum()
    assert modes["deported"] > 0 and modes["voluntary"] > 0
    totals = results.stocks[list(STATES)]
    assert (totals.sum(axis=1) == 30000).all()


def test_never_share_households_stay_without_a_crackdown():
    s = parse_scenario(
        POP,
        overrides=[
            "crackdown.arrest_rate_per_day=0",
            "populations.acc.voluntary.ramp.base_per_day=0.5",
            "populations.acc.voluntary.after_deadline_per_day=0.5",
        ],
    )
    stocks = simulate(s, seed=6).stocks
    left = 1 - stocks["in_pakistan"].iloc[-1] / 30000
    # half the households never leave; by persons the share is the same in expectation
    assert abs(left - 0.5) < 0.03


def test_divert_after_patience_to_another_crossing():
    text = pop_with_divert(20, "{dist: fixed, value: 1}")
    results = simulate(parse_scenario(text), seed=7)
    other = results.returns[results.returns["crossing"] == "other"]
    assert other["persons"].sum() > 0
    arrived = other["date"].min()
    assert arrived >= np.datetime64("2025-03-06")  # arrivals of 5 March wait 24 h + travel 10 h
    gate = results.daily_stage[results.daily_stage["crossing"] == "gate"]
    assert gate["diverted_households"].sum() > 0


def test_initial_backlog_starts_at_the_crossing_and_is_served_first():
    backlog = "crossings.gate.stages.desk.initial_backlog={households: 400, group: acc}"
    s = parse_scenario(POP, overrides=[backlog])
    results = simulate(s, seed=8)
    first_day = results.stocks.iloc[0]
    assert first_day["at_crossing"] + first_day["returned"] >= 400 * 2  # smallest household is 2
    raw = run_model(s, seed=8)
    log = raw.stage_logs[("gate", "desk")]
    at_start = log["arrive"] == 0.0
    assert at_start.sum() == 400
    # with 20 servers and 5-minute services the backlog clears within the first day
    assert log["leave"][at_start].max() < 24.0
    totals = results.stocks[list(STATES)]
    assert (totals.sum(axis=1) == 30000).all()


def test_backlog_of_direct_demand_label_needs_no_population():
    s = demand_scenario(
        0.0,
        overrides=(
            "crossings.gate.stages.desk.initial_backlog="
            "{households: 50, group: waiting, household_size: {values: [3]}}",
        ),
    )
    results = simulate(s, seed=1)
    assert results.returns["persons"].sum() == 150
    assert set(results.returns["group"]) == {"waiting"}


def test_crackdown_change_by_group_and_capacity():
    text = POP + (
        "timeline:\n"
        "  - {event: crackdown_change, date: 2025-04-10, group: acc, arrest_rate_per_day: 0}\n"
        "  - {event: crackdown_change, date: 2025-04-05, arrest_capacity_persons_per_day: 50}\n"
    )
    raw = run_model(parse_scenario(text), seed=9)
    per_day = _detained_and_arrests(raw)[2]
    assert per_day[31:35].max() > 50  # 1-4 April: capacity 300
    assert per_day[35:40].max() <= 50  # from 5 April: capacity 50
    assert per_day[40:].sum() == 0  # from 10 April: no arrests of acc


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            "{event: crackdown_change, date: 2025-04-10}",
            "give arrest_rate_per_day and/or arrest_capacity_persons_per_day",
        ),
        (
            "{event: crackdown_change, date: 2025-04-10, group: acc,"
            " arrest_capacity_persons_per_day: 5}",
            "the arrest capacity is shared by all groups; give it without group",
        ),
        (
            "{event: crackdown_change, date: 2025-04-10, group: acx, arrest_rate_per_day: 0.1}",
            "timeline.0.group: unknown group; did you mean 'acc'?",
        ),
        (
            "{event: opening_hours, date: 2025-04-10, crossing: gate, stage: dsk,"
            " open_hour: 1, close_hour: 2}",
            "timeline.0.stage: unknown stage; did you mean 'desk'?",
        ),
    ],
)
def test_timeline_change_rules(event, message):
    from simulation import ScenarioError

    with pytest.raises(ScenarioError, match=re.escape(message)) as info:
        parse_scenario(POP + f"timeline:\n  - {event}\n", "pop.yaml")
    assert str(info.value).startswith("pop.yaml:")
    assert "timeline.0" in str(info.value)


def test_an_extension_never_brings_a_deadline_forward():
    """31 Mar deadline; extended on 20 Mar to 30 Apr; a second extension announced on 1 Apr to
    6 Apr changes nothing (the deadline in force is later); one on 5 Apr to 10 May moves it."""
    s = parse_scenario(POP, "pop.yaml", [
        "calendar.end=2025-05-31",
        "timeline=[{event: deadline_extension, date: 2025-03-20, group: acc,"
        " new_deadline: 2025-04-30},"
        " {event: deadline_extension, date: 2025-04-01, group: acc, new_deadline: 2025-04-06},"
        " {event: deadline_extension, date: 2025-04-05, group: acc, new_deadline: 2025-05-10}]",
    ])  # fmt: skip
    deadline = deadline_by_day(s, "acc")
    march20, april5 = day_index(s, dt.date(2025, 3, 20)), day_index(s, dt.date(2025, 4, 5))
    in_force = [day_index(s, dt.date(2025, m, d)) for m, d in ((3, 31), (4, 30), (5, 10))]
    assert set(deadline[:march20]) == {in_force[0]}
    assert set(deadline[march20:april5]) == {in_force[1]}
    assert set(deadline[april5:]) == {in_force[2]}
