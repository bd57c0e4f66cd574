"""A bounded first stage: at most ``waiting_capacity_households`` queue at it, the rest wait
on the approach road in arrival order and move in as places free up.

A household's wait at the stage counts from its arrival at the crossing (the road is part of
it); the frames show the road as a pseudo-stage ``approach`` of the crossing, and the stage's
own queue as its waiting area alone, so the two add up to the line at the crossing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from simulation import Scenario, parse_scenario, simulate
from simulation.engine.records import APPROACH, SERVED, UNSERVED
from simulation.engine.run import run_model
from tests.builders import START, day, demand_line, from_data, pop_with_divert, service
from tests.conftest import assert_same_path
from tests.test_validation import BASE, line_of, mutate, pinned, write


def bounded_gate(
    capacity: int | None,
    backlog: int = 0,
    rate_per_day: float = 0.0,
    servers: int = 1,
    minutes: float = 60.0,
    days: int = 3,
    **first: Any,
) -> Scenario:
    """A one-stage gate (``servers`` desks, fixed service of ``minutes``) whose waiting area
    holds ``capacity`` households, with a backlog of single-person households at time 0 and
    Poisson demand of ``rate_per_day`` households."""
    desk: dict[str, Any] = {"servers": servers, "service_minutes": service("fixed", value=minutes)}
    if capacity is not None:
        desk["waiting_capacity_households"] = capacity
    if backlog:
        desk["initial_backlog"] = {"households": backlog, "group": "queue",
                                   "household_size": {"values": [1]}}  # fmt: skip
    desk.update(first)
    data = {
        "name": "road",
        "calendar": {"start": START, "end": day(days - 1)},
        "crossings": {"gate": {"stages": {"desk": desk}}},
        "demand": [
            demand_line("gate", rate_per_day, unit="households", household_size={"values": [1]})
        ],
    }
    return from_data(data, filename="<road>")


def _hourly(scenario: Scenario, seed: int, stage: str) -> np.ndarray:
    queue = simulate(scenario, seed).hourly_queue
    return queue.loc[queue["stage"] == stage, "queue_households"].to_numpy()


def test_a_backlog_of_six_with_room_for_two_by_hand() -> None:
    """Six households at hour 0, one desk, one hour each, room for two. By hand: household i
    (0-5) starts at hour i, so waits i hours from reaching the crossing; one is served at once,
    two queue, three wait on the road, and the road's head moves in each hour as a service
    starts (households 3, 4, 5 at hours 1, 2, 3)."""
    scenario = bounded_gate(2, backlog=6)
    raw = run_model(scenario, 1)
    log = raw.stage_logs[("gate", "desk")]
    order = np.argsort(log["hh"])
    np.testing.assert_allclose(log["start"][order], np.arange(6.0))
    np.testing.assert_allclose((log["start"] - log["arrive"])[order], np.arange(6.0))
    road = raw.stage_logs[("gate", APPROACH)]
    first = log["hh"].min()
    np.testing.assert_array_equal(road["hh"] - first, [3, 4, 5])
    np.testing.assert_allclose(road["arrive"], 0.0)
    np.testing.assert_allclose(road["start"], [1.0, 2.0, 3.0])
    assert (road["kind"] == SERVED).all()
    # at the top of each hour: the waiting area (never above 2) and the road
    np.testing.assert_array_equal(_hourly(scenario, 1, "desk")[:7], [2, 2, 2, 2, 1, 0, 0])
    np.testing.assert_array_equal(_hourly(scenario, 1, APPROACH)[:7], [3, 2, 1, 0, 0, 0, 0])
    daily = simulate(scenario, 1).daily_stage
    first_day = daily[daily["date"] == pd.Timestamp(START)].set_index("stage")
    assert first_day.loc["desk", "queue_max_households"] == 2
    assert first_day.loc[APPROACH, "queue_max_households"] == 3
    # time-weighted mean over the day: area 2+2+2+2+1 (desk) and 3+2+1 (road) household-hours
    assert first_day.loc["desk", "queue_mean_households"] == pytest.approx(9 / 24)
    assert first_day.loc[APPROACH, "queue_mean_households"] == pytest.approx(6 / 24)
    assert first_day.loc["desk", "wait_mean_hours"] == pytest.approx(2.5)  # (0+1+...+5)/6


def test_households_still_on_the_road_at_the_end_are_unserved_in_both_logs() -> None:
    raw = run_model(bounded_gate(2, backlog=100, days=1), 1)  # 24 served, 2 queue, 74 on road
    log, road = raw.stage_logs[("gate", "desk")], raw.stage_logs[("gate", APPROACH)]
    assert int((log["kind"] == UNSERVED).sum()) == 100 - 24
    assert int((road["kind"] == UNSERVED).sum()) == 100 - 24 - 2
    # 97 went on the road at hour 0; one moved in as each later service began (hours 1-23)
    assert len(road["hh"]) == 97
    assert int((road["kind"] == SERVED).sum()) == 23


@pytest.mark.parametrize("servers", [1, 3])
def test_a_bound_on_a_fifo_first_stage_changes_no_wait(servers: int) -> None:
    """First come, first served on the road and at the desk: the order of service, so every
    start, is the unbounded stage's; the waiting area plus the road is its queue, hour by
    hour, and the waiting area never holds more than its limit."""
    kwargs = {"backlog": 40, "rate_per_day": 60.0, "servers": servers, "minutes": 25.0 * servers}
    bounded, free = bounded_gate(2, **kwargs), bounded_gate(None, **kwargs)
    a = run_model(bounded, 5).stage_logs[("gate", "desk")]
    b = run_model(free, 5).stage_logs[("gate", "desk")]
    for name in ("hh", "arrive", "start", "end", "kind"):
        np.testing.assert_array_equal(np.sort(a[name]), np.sort(b[name]), err_msg=name)
    area, road = _hourly(bounded, 5, "desk"), _hourly(bounded, 5, APPROACH)
    assert area.max() == 2 and road.max() > 0
    np.testing.assert_array_equal(area + road, _hourly(free, 5, "desk"))


def test_priority_on_the_first_stage_serves_the_road_in_arrival_order() -> None:
    """Deportees go first only once inside the waiting area: on the road, order of arrival."""
    scenario = bounded_gate(1, backlog=5, priority=["vulnerable"])
    raw = run_model(scenario, 1)
    log = raw.stage_logs[("gate", "desk")]
    np.testing.assert_allclose(np.sort(log["start"]), np.arange(5.0))
    assert_same_path(scenario, seed=1)


@pytest.mark.parametrize("priority", [False, True])
def test_both_engines_agree_with_a_road(priority: bool) -> None:
    # population journeys and convoys in batches, a closure, a diversion, a bounded first stage
    text = pop_with_divert(2, "{dist: exponential, mean: 25}")
    sets = ["crossings.gate.stages.desk.waiting_capacity_households=5",
            "crossings.gate.divert.share=0.5",
            "crossings.other.stages.desk.waiting_capacity_households=3"]  # fmt: skip
    if priority:
        sets.append("crossings.gate.stages.desk.priority=[deported, vulnerable]")
    scenario = parse_scenario(text, overrides=sets)
    assert_same_path(scenario, seed=6)
    raw = run_model(scenario, 6)
    assert len(raw.stage_logs[("gate", APPROACH)]["hh"]) > 0  # the road was used


def test_both_engines_agree_with_a_road_ahead_of_more_stages() -> None:
    minutes = service("exponential", mean=12.0)
    stages = {
        "first": {"servers": 2, "service_minutes": minutes, "waiting_capacity_households": 3,
                  "opening_hours": {"open_hour": 8, "close_hour": 18}},
        "second": {"servers": 1, "service_minutes": minutes, "waiting_capacity_households": 2},
        "third": {"servers": 2, "service_minutes": minutes},
    }  # fmt: skip
    data = {
        "name": "road3",
        "calendar": {"start": START, "end": day(5)},
        "crossings": {"gate": {"stages": stages, "closures": [{"start": day(2), "end": day(2)}]}},
        "demand": [demand_line("gate", 90.0, unit="households", household_size={"values": [2]})],
    }
    assert_same_path(from_data(data), seed=2)


def test_a_stage_named_approach_is_refused_beside_a_road(tmp_path: Path) -> None:
    text = mutate("      entry:\n", "      approach:\n", BASE)
    text = mutate("        priority: [deported]\n",
                  "        priority: [deported]\n        waiting_capacity_households: 30\n",
                  text)  # fmt: skip
    path = write(tmp_path, text)
    line = line_of(text, "      approach:")
    pinned(path, f"{path}:{line}: crossings.gate.stages.approach: names the road to a first "
           "stage with waiting_capacity_households; rename the stage (got 'approach')")  # fmt: skip
    # without a bound on the first stage there is no road, and the name is free
    text = text.replace("        waiting_capacity_households: 30\n", "", 1)
    assert "approach" in parse_scenario(text).crossings["gate"].stages
