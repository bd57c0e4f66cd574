"""The stage engine: servers, FIFO and priority queues, opening hours, closures, blocking."""

from __future__ import annotations

import numpy as np
import simpy

from simulation.engine.records import SERVED, UNSERVED
from simulation.engine.run import run_model
from simulation.engine.sampling import ServiceClock
from simulation.engine.stages.events import Stage
from simulation.scenario.schema import Fixed
from tests.builders import demand_scenario, stage


def _fixed_stage(env, servers=1, minutes=60.0, capacity=None, sizes=None, rank=None, room=None):
    clock = ServiceClock(Fixed(dist="fixed", value=minutes), None, np.random.default_rng(0))
    return Stage(env, clock, capacity or [(0.0, servers)], sizes or [1] * 10, rank, room)


def _visit(env, stage, hh, at, log):
    yield env.timeout(at)
    index = yield stage.arrive(hh)
    log.append((hh, env.now))
    stage.release(index)


def test_fifo_single_server_serves_in_arrival_order():
    env = simpy.Environment()
    desk = _fixed_stage(env)
    done: list[tuple[int, float]] = []
    for hh, at in enumerate([0.0, 0.1, 0.2]):
        env.process(_visit(env, desk, hh, at, done))
    env.run()
    assert done == [(0, 1.0), (1, 2.0), (2, 3.0)]
    assert list(desk.log.to_arrays()["start"]) == [0.0, 1.0, 2.0]


def test_two_servers_share_the_work():
    env = simpy.Environment()
    desk = _fixed_stage(env, servers=2)
    done: list[tuple[int, float]] = []
    for hh in range(4):
        env.process(_visit(env, desk, hh, 0.0, done))
    env.run()
    assert [t for _, t in done] == [1.0, 1.0, 2.0, 2.0]


def test_priority_class_jumps_the_queue_but_does_not_preempt():
    env = simpy.Environment()
    rank = [1, 1, 1, 0]  # household 3 is a priority class
    desk = _fixed_stage(env, rank=rank)
    done: list[tuple[int, float]] = []
    for hh, at in enumerate([0.0, 0.1, 0.2, 0.3]):
        env.process(_visit(env, desk, hh, at, done))
    env.run()
    assert [hh for hh, _ in done] == [0, 3, 1, 2]


def test_no_service_starts_while_closed_and_started_service_finishes():
    env = simpy.Environment()
    # open 0-1.5 h, closed 1.5-5 h, open again from 5 h
    desk = _fixed_stage(env, capacity=[(0.0, 1), (1.5, 0), (5.0, 1)])
    done: list[tuple[int, float]] = []
    for hh in range(3):
        env.process(_visit(env, desk, hh, 0.0, done))
    env.run()
    # hh0 0-1; hh1 starts 1.0 (open) and finishes at 2.0 past closing; hh2 waits for 5.0
    assert done == [(0, 1.0), (1, 2.0), (2, 6.0)]


def test_full_waiting_area_blocks_the_upstream_server():
    env = simpy.Environment()
    first = _fixed_stage(env, minutes=6.0)  # 0.1 h each
    second = _fixed_stage(env, minutes=60.0, room=1)
    leave_first: dict[int, float] = {}

    def journey(hh):
        index = yield first.arrive(hh)
        if not second.has_room():
            yield second.wait_for_room()
            reserved = True
        else:
            reserved = False
        first.release(index)
        leave_first[hh] = env.now
        index2 = yield second.arrive(hh, reserved)
        second.release(index2)

    for hh in range(4):
        env.process(journey(hh))
    env.run()
    # hh0 goes straight into service at stage 2 (t=0.1); hh1 waits in its one-place area (0.2);
    # hh2 finishes at 0.3 but is blocked until hh1 enters service at 1.1
    assert leave_first[0] == 0.1 and leave_first[1] == 0.2
    assert abs(leave_first[2] - 1.1) < 1e-12
    # while blocked, hh2 holds the first server: hh3 cannot start before 1.1
    visits = first.log.to_arrays()
    starts = dict(zip(visits["hh"], visits["start"], strict=True))
    assert starts[3] >= 1.1 - 1e-12


def test_opening_hours_in_a_full_run():
    stages = stage(servers=2, dist="fixed", param="value: 10.0")
    scenario = demand_scenario(
        200, stages, end="2025-01-10", crossing="    opening_hours: {open_hour: 8, close_hour: 18}"
    )
    raw = run_model(scenario, seed=1)
    log = raw.stage_logs[("gate", "desk")]
    served = log["kind"] == SERVED
    hour = log["start"][served] % 24
    assert ((hour >= 8 - 1e-9) & (hour < 18)).all()
    # 2 servers x 10 h x 6 per hour = 120 per day < 200 arriving: a backlog builds
    assert (log["kind"] == UNSERVED).sum() > 500


def test_closure_holds_everyone_until_reopening():
    crossing = "    closures: [{start: 2025-01-03, end: 2025-01-04}]"
    scenario = demand_scenario(48, stage(servers=3), end="2025-01-08", crossing=crossing)
    log = run_model(scenario, seed=2).stage_logs[("gate", "desk")]
    start = log["start"][log["kind"] == SERVED]
    assert not ((start >= 48.0) & (start < 96.0)).any()
    assert (start == 96.0).sum() == 3  # three servers start at the reopening instant


def test_capacity_change_adds_servers_from_its_date():
    stages = stage(servers=1, dist="fixed", param="value: 30.0")
    scenario = demand_scenario(
        200,
        stages,
        end="2025-01-06",
        overrides=("crossings.gate.stages.desk.servers_schedule=[{from: 2025-01-04, servers: 4}]",),
    )
    raw = run_model(scenario, seed=3)
    log = raw.stage_logs[("gate", "desk")]
    served = log["kind"] == SERVED
    day = (log["start"][served] // 24).astype(int)
    per_day = np.bincount(day, minlength=6)
    assert per_day[1] <= 49 and per_day[4] >= 4 * 48 - 1


def test_dated_opening_hours_apply_from_their_date():
    stages = stage(servers=2, dist="fixed", param="value: 10.0")
    change = (
        "timeline=[{event: opening_hours, date: 2025-01-04, crossing: gate,"
        " open_hour: 6, close_hour: 22}]"
    )
    scenario = demand_scenario(
        400,
        stages,
        end="2025-01-06",
        crossing="    opening_hours: {open_hour: 8, close_hour: 16}",
        overrides=(change,),
    )
    log = run_model(scenario, seed=1).stage_logs[("gate", "desk")]
    start = log["start"][log["kind"] == SERVED]
    day, hour = start // 24, start % 24
    before, after = day < 3, day >= 3
    assert hour[before].min() >= 8 and hour[before].max() < 16
    assert hour[after].min() < 8 and hour[after].max() >= 16 and hour[after].max() < 22


def test_demand_arrives_only_in_its_arrival_window():
    scenario = demand_scenario(
        300,
        end="2025-01-05",
        overrides=("demand.0.arrival_hours={open_hour: 9, close_hour: 17}",),
    )
    log = run_model(scenario, seed=2).stage_logs[("gate", "desk")]
    hour = log["arrive"] % 24
    assert hour.min() >= 9 and hour.max() < 17 and len(hour) > 1000
