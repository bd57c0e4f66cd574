"""Scenario changes made by experiments: fixed or scaled servers, and --set targets that dated
events override."""

from __future__ import annotations

import numpy as np

from simulation import load_scenario
from simulation.scenario.calendar import servers_by_day
from simulation.scenario.transforms import (
    shadowing_events,
    with_fixed_servers,
    with_scaled_servers,
)
from tests.conftest import ROOT

DEFAULT = ROOT / "scenarios" / "torkham_2025_acc.yaml"
RECEPTION = ROOT / "scenarios" / "reception_capacity.yaml"


def test_fixed_servers_replace_every_dated_change() -> None:
    scenario = load_scenario(DEFAULT)
    before = servers_by_day(scenario, "torkham", "reception")
    assert len(set(before.tolist())) > 1  # 10 desks, 14 from 1 April
    fixed = with_fixed_servers(scenario, "torkham", "reception", 4)
    assert set(servers_by_day(fixed, "torkham", "reception").tolist()) == {4}
    # other stages and the original scenario are untouched
    np.testing.assert_array_equal(servers_by_day(scenario, "torkham", "reception"), before)
    np.testing.assert_array_equal(
        servers_by_day(fixed, "chaman", "reception"),
        servers_by_day(scenario, "chaman", "reception"),
    )


def test_scaled_servers_keep_the_schedule_in_proportion() -> None:
    scenario = load_scenario(DEFAULT)
    scaled = with_scaled_servers(scenario, "torkham", "reception", 5)  # base 10 -> 5
    by_day = servers_by_day(scaled, "torkham", "reception")
    assert set(by_day.tolist()) == {5, 7}  # 14 desks from 1 April -> 7


def test_a_set_target_overridden_by_a_dated_event_is_named() -> None:
    scenario = load_scenario(DEFAULT)
    found = shadowing_events(scenario, "crossings.torkham.stages.reception.servers")
    assert found == ["timeline.0 sets servers=14 from 2025-04-01"]
    assert shadowing_events(scenario, "crossings.chaman.stages.reception.servers") == []
    assert shadowing_events(scenario, "run.seed") == []


def test_deadline_and_crackdown_targets_are_checked_too() -> None:
    extension = (  # the whole timeline replaced: the default's own extensions would be named too
        "timeline=[{event: deadline_extension, date: 2025-03-20, group: acc,"
        " new_deadline: 2025-04-15}]"
    )
    change = "timeline=[{event: crackdown_change, date: 2025-05-01, arrest_rate_per_day: 0.01}]"
    a = load_scenario(DEFAULT, [extension])
    assert shadowing_events(a, "populations.acc.deadline") == [
        "timeline.0 moves the deadline to 2025-04-15 from 2025-03-20"
    ]
    assert shadowing_events(a, "populations.undocumented.deadline") == []
    b = load_scenario(DEFAULT, [change])
    assert shadowing_events(b, "crackdown.arrest_rate_per_day") == [
        "timeline.0 sets arrest_rate_per_day=0.01 from 2025-05-01"
    ]


def test_dated_holding_and_transport_changes_are_named() -> None:
    """The default opens Landi Kotal (holding 4,300) and starts convoys (16 a day) on 1 Apr."""
    scenario = load_scenario(DEFAULT)
    assert shadowing_events(scenario, "crackdown.holding.capacity_persons") == [
        "timeline.2 sets capacity_persons=4300 from 2025-04-01"
    ]
    assert shadowing_events(scenario, "crackdown.transport.departures_per_day") == [
        "timeline.1 sets departures_per_day=16 from 2025-04-01"
    ]
    assert shadowing_events(scenario, "crackdown.transport.vehicle_capacity_persons") == []
    assert shadowing_events(scenario, "crackdown.holding.dwell_hours") == []
