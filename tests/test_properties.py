"""Properties of every small valid scenario (drawn by :mod:`tests.strategies`) and seed.

* People are conserved: each day, a group's persons in all states add up to its size; the
  persons the returns frame counts equal the group's final ``returned`` stock.
* No count, queue, wait or outcome in any result frame is negative.
* Both stage engines (``lookahead=True`` and ``False``) record the same visits, flows and exits.

Examples are drawn from a fixed seed (``derandomize``); the ``_many`` variants draw more, shrink
a failing example to a small one, and are marked slow. Engine bugs the properties found are
pinned below by strict xfails, each on the example that showed it, and the properties steer
around them (``avoid``) meanwhile.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, example, given, note, settings

from simulation import Scenario, simulate
from simulation.engine.records import STATES
from tests.builders import START, day, demand_line, from_data, service, stage_spec
from tests.conftest import assert_same_path
from tests.strategies import scenario_data, seeds

# no shrinking in the quick run (a failure would take minutes to shrink): its example is shown
# as a scenario file; the slow run shrinks it to a small one
FEW = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
MANY = settings(FEW, max_examples=200, phases=list(Phase))
PINNED = settings(FEW, phases=[Phase.explicit])  # only the @example


def _scenario(data: dict[str, Any]) -> Scenario:
    note(yaml.safe_dump(data, sort_keys=False))  # a failing example, as a scenario file
    return from_data(data, filename="<drawn>")


# ---------------------------------------------------------------- conservation and signs
def check_conservation_and_signs(data: dict[str, Any], seed: int) -> None:
    scenario = _scenario(data)
    results = simulate(scenario, seed)
    stocks, returns = results.stocks, results.returns
    for group, pop in scenario.populations.items():
        mine = stocks[stocks["group"] == group]
        assert len(mine) == scenario.days, group
        assert (mine[list(STATES)].sum(axis=1) == pop.persons).all(), f"{group}: not conserved"
        exited = int(returns.loc[returns["group"] == group, "persons"].sum())
        assert int(mine["returned"].iloc[-1]) == exited, group
    out = results.outcomes
    returned = out[(out["outcome"] == "persons_returned") & (out["group"] != "all")
                   & (out["mode"] != "all")]  # fmt: skip
    assert returned["value"].sum() == returns["persons"].sum()
    for name, frame in results.frames().items():
        numbers = frame.select_dtypes("number")
        negative = numbers.columns[(numbers < 0).any()].tolist()
        assert not negative, f"{name}: negative {negative}"
    assert (returns["persons"] >= returns["households"]).all()
    assert (returns["households"] >= 1).all()


AVOID_IN_CONSERVATION: frozenset[str] = frozenset()


@FEW
@given(data=scenario_data(AVOID_IN_CONSERVATION), seed=seeds)
def test_people_are_conserved_and_no_count_is_negative(data: dict[str, Any], seed: int) -> None:
    check_conservation_and_signs(data, seed)


@pytest.mark.slow
@MANY
@given(data=scenario_data(AVOID_IN_CONSERVATION), seed=seeds)
def test_people_are_conserved_and_no_count_is_negative_many(
    data: dict[str, Any], seed: int
) -> None:
    check_conservation_and_signs(data, seed)


# ---------------------------------------------------------------- the two engines
def check_same_path(data: dict[str, Any], seed: int) -> None:
    assert_same_path(_scenario(data), seed)


AVOID_IN_ENGINES: frozenset[str] = frozenset()


@FEW
@given(data=scenario_data(AVOID_IN_ENGINES), seed=seeds)
def test_both_engines_record_the_same_path(data: dict[str, Any], seed: int) -> None:
    check_same_path(data, seed)


@pytest.mark.slow
@MANY
@given(data=scenario_data(AVOID_IN_ENGINES), seed=seeds)
def test_both_engines_record_the_same_path_many(data: dict[str, Any], seed: int) -> None:
    check_same_path(data, seed)


# ---------------------------------------------------------------- engine bugs found, pinned
def _one_stage(**extra: Any) -> dict[str, Any]:
    """A crossing of one single-server stage 's0' (exponential service of mean 2 minutes)."""
    return {"stages": {"s0": stage_spec(1, service("exponential", mean=2.0), **extra)}}


BACKLOG_AT_PRIORITY_STAGE = {
    "name": "drawn",
    "calendar": {"start": START, "end": day(4)},
    "crossings": {
        "c0": _one_stage(
            priority=["deported"],
            initial_backlog={"households": 2, "group": "queue", "household_size": {"values": [1]}},
        )
    },
}


@PINNED
@given(data=scenario_data(), seed=seeds)
@example(data=BACKLOG_AT_PRIORITY_STAGE, seed=0)
def test_backlog_outside_the_populations_at_a_priority_stage(
    data: dict[str, Any], seed: int
) -> None:
    """Two backlog households at one desk with a priority order: the second must queue."""
    check_conservation_and_signs(data, seed)


TWO_DEMAND_LINES = {
    "name": "drawn",
    "calendar": {"start": START, "end": day(4)},
    "crossings": {"c0": _one_stage()},
    "demand": [demand_line("c0", 10.0, "d0"), demand_line("c0", 10.0, "d1")],
}


@PINNED
@given(data=scenario_data(), seed=seeds)
@example(data=TWO_DEMAND_LINES, seed=0)
def test_two_demand_lines_into_one_crossing(data: dict[str, Any], seed: int) -> None:
    """Found by this property: from day 1 on, the demand lines' processes resumed at midnight in
    the order they had scheduled their wake-up, which differed between the engines, so households
    were created in a different order. Now one process draws every line's day in file order."""
    check_same_path(data, seed)
