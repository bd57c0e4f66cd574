"""What validation accepts must run, with non-negative counts (cases found by fuzzing)."""

from __future__ import annotations

from simulation import simulate
from simulation.engine.run import run_model
from tests.builders import demand_scenario, stage


def _no_negative_counts(scenario_frames: dict) -> None:  # type: ignore[type-arg]
    for name, frame in scenario_frames.items():
        numbers = frame.select_dtypes("number")
        assert (numbers.fillna(0) >= 0).all().all(), name


def test_a_backlog_of_direct_demand_at_a_priority_stage_runs() -> None:
    """Backlog households outside the population had no queue rank: IndexError at a priority
    stage, with both engines."""
    desk = stage(extra="        priority: [vulnerable]\n")
    backlog = "crossings.gate.stages.desk.initial_backlog="
    backlog += "{households: 40, group: stranded, household_size: {values: [2]}}"
    scenario = demand_scenario(20, desk, end="2025-01-05", overrides=(backlog,))
    for lookahead in (True, False):
        raw = run_model(scenario, 1, lookahead)
        log = raw.stage_logs[("gate", "desk")]
        assert len(log["hh"]) >= 40  # the backlog was queued and recorded
    _no_negative_counts(simulate(scenario, 1).frames())


def test_route_shares_off_by_less_than_the_tolerance_run() -> None:
    """Validation allows shares to sum to 1 within 1e-6; numpy's choice wants ~1e-8."""
    from simulation import load_scenario
    from tests.conftest import ROOT, shrink

    overrides = [
        "populations.acc.regions.kp_punjab_islamabad.share=0.5500005",
        "calendar.end=2025-04-05",
    ]
    scenario = shrink(load_scenario(ROOT / "scenarios" / "torkham_2025_acc.yaml", overrides), 2000)
    _no_negative_counts(simulate(scenario, 2).frames())
