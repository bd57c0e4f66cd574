"""The two stage engines give the same sample path.

The FIFO tail of a crossing (first-come-first-served stages with no waiting limit, after the
last one that is not) is served by ``FifoStage``, which fixes the starts when the run ends;
every other stage by ``LoopStage``, event by event in SimPy's order without SimPy events.
``run_model(..., lookahead=False)`` serves every stage with SimPy events (``Stage``), so the
two runs of one (scenario, seed) must record the same visits, flows and exits.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation import Scenario, parse_scenario
from simulation.engine.stages.choice import stage_engines
from simulation.engine.stages.fifo import FifoStage
from tests.builders import demand_scenario, pop_with_divert, stage
from tests.conftest import assert_same_path, shrink


def _fifo_stages(scenario: Scenario) -> int:
    """How many stages ``lookahead=True`` serves with FifoStage."""
    return sum(e is FifoStage for c in scenario.crossings for e in stage_engines(scenario, c))


def _first_come_last(scenario: Scenario) -> Scenario:
    """The scenario with each crossing's last stage serving first come, first served with no
    waiting limit: FifoStage then serves it (the FIFO tail), the loop engine the others."""
    crossings = {}
    for name, crossing in scenario.crossings.items():
        last = list(crossing.stages)[-1]
        stages = {
            s: spec.model_copy(update={"priority": [], "waiting_capacity_households": None})
            if s == last
            else spec
            for s, spec in crossing.stages.items()
        }
        crossings[name] = crossing.model_copy(update={"stages": stages})
    return scenario.model_copy(update={"crossings": crossings})


def test_shipped_scenarios_give_the_same_path_with_both_engines(
    shipped: tuple[Path, Scenario],
) -> None:
    _, scenario = shipped
    small = shrink(scenario, persons=3000)
    if not _fifo_stages(small):
        # the last stage has a priority order or a waiting limit: no FIFO tail, so compare on
        # the same scenario with those lifted at the last stage
        small = _first_come_last(small)
    assert _fifo_stages(small), "the comparison must cover FifoStage"
    assert_same_path(small, seed=5)


CALENDARS = {
    "opening hours": "    opening_hours: {open_hour: 7, close_hour: 19}",
    "closure": "    closures: [{start: 2025-01-03, end: 2025-01-04}]",
    "both": (
        "    opening_hours: {open_hour: 6, close_hour: 22}\n"
        "    closures: [{start: 2025-01-05, end: 2025-01-05}]"
    ),
}


@pytest.mark.parametrize("calendar", sorted(CALENDARS))
@pytest.mark.parametrize("dist", ["exponential", "fixed"])
def test_one_stage_same_path_across_calendars_and_staffing(calendar: str, dist: str) -> None:
    # fixed service puts ends exactly on arrivals, openings and one another: ties everywhere
    param = "mean: 20.0" if dist == "exponential" else "value: 20.0"  # 1/3 h: sums drift
    staffing = "crossings.gate.stages.desk.servers_schedule=" + (
        "[{from: 2025-01-02, servers: 1}, {from: 2025-01-06, servers: 5}]"
    )
    scenario = demand_scenario(
        150,
        stage(servers=3, dist=dist, param=param),
        end="2025-01-09",
        crossing=CALENDARS[calendar],
        size="{values: [1, 2, 5], weights: [0.5, 0.3, 0.2]}",
        overrides=(staffing,),
    )
    assert_same_path(scenario, seed=11)


TANDEM = """      first:
        servers: 2
        service_minutes: {per_household: {dist: exponential, mean: 10.0}}
      second:
        servers: 2
        service_minutes:
          per_household: {dist: fixed, value: 2.0}
          per_person: {dist: gamma, mean: 4.0, sd: 2.0}
"""


def test_tandem_with_per_person_service_same_path() -> None:
    scenario = demand_scenario(
        200,
        TANDEM,
        end="2025-01-06",
        crossing="    opening_hours: {open_hour: 8, close_hour: 20}",
        size="{values: [1, 3, 6]}",
    )
    assert_same_path(scenario, seed=3)


def test_population_with_crackdown_diversion_and_backlog_same_path() -> None:
    # all-FIFO crossings: journeys, convoys and diversions are handed over ahead of time
    text = pop_with_divert(3, "{dist: exponential, mean: 20}")
    backlog = "crossings.gate.stages.desk.initial_backlog={households: 300, group: acc}"
    scenario = parse_scenario(text, overrides=[backlog])
    engines = [e for c in scenario.crossings for e in stage_engines(scenario, c)]
    assert all(e is FifoStage for e in engines)  # every crossing takes arrivals ahead of time
    assert_same_path(scenario, seed=4)


FIFO_THEN_PRIORITY = """      screening:
        servers: 2
        service_minutes: {per_household: {dist: exponential, mean: 9.0}}
      triage:
        servers: 2
        service_minutes: {per_household: {dist: gamma, mean: 10.0, sd: 5.0}}
      registration:
        servers: 3
        service_minutes: {per_household: {dist: exponential, mean: 12.0}}
        priority: [vulnerable]
      cash:
        servers: 2
        service_minutes: {per_household: {dist: fixed, value: 7.0}}
"""


def test_fifo_stages_ahead_of_an_event_driven_stage_same_path() -> None:
    # screening and triage serve first come, first served ahead of a priority stage, so they
    # are served event by event (LoopStage, their ends interleaved with registration's);
    # cash is the FIFO tail
    scenario = demand_scenario(
        220,
        FIFO_THEN_PRIORITY,
        end="2025-01-08",
        crossing="    closures: [{start: 2025-01-03, end: 2025-01-03}]",
        overrides=("demand.0.vulnerable_share=0.3",),
    )
    kinds = [e.__name__ for e in stage_engines(scenario, "gate")]
    assert kinds == ["LoopStage", "LoopStage", "LoopStage", "FifoStage"]
    assert_same_path(scenario, seed=8)
