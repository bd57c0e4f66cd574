"""Named random streams: randomness keyed by name, so inert changes leave every draw in place.

A change that should not matter (a divert rule that never fires, the order of groups or
crossings in the file, a timeline event after the horizon) must leave every frame identical,
row for row; a change to one group's deadline must leave another group's departures identical
up to that group's own deadline. These hold only because each source draws from its own
stream; with one generator handed out in call order (as before), each of them fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from simulation import Scenario, parse_scenario, run_replications, simulate
from simulation.engine.records import IN_PAKISTAN, TRAVELLING
from simulation.engine.run import run_model
from simulation.engine.streams import Streams, spawn_key
from tests.conftest import ROOT

DEFAULT = ROOT / "scenarios" / "torkham_2025_acc.yaml"
SMALL = (
    "populations.acc.persons=20000",
    "populations.undocumented.persons=15000",
    "calendar.end=2025-04-20",
)
KEYS = {
    "daily_stage": ["replication", "date", "crossing", "stage"],
    "hourly_queue": ["replication", "time", "crossing", "stage"],
    "returns": ["replication", "date", "crossing", "group", "mode"],
    "stocks": ["replication", "date", "group"],
    "who_waits": ["replication", "crossing", "stage", "group", "mode", "vulnerable"],
    "outcomes": ["replication", "outcome", "crossing", "stage", "group", "mode"],
    "summary": ["outcome", "crossing", "stage", "group", "mode"],
}


def _raw(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _scenario(data: dict[str, Any], overrides: tuple[str, ...] = SMALL) -> Scenario:
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), "variant.yaml", overrides)


def _frames(scenario: Scenario, seed: int = 3) -> dict[str, pd.DataFrame]:
    """Every frame of one replication, rows in a canonical order (file order aside)."""
    results = simulate(scenario, seed)
    return {
        name: frame.sort_values(KEYS[name], kind="stable").reset_index(drop=True)
        for name, frame in results.frames().items()
    }


def assert_same_frames(a: Scenario, b: Scenario) -> None:
    fa, fb = _frames(a), _frames(b)
    for name in fa:
        pd.testing.assert_frame_equal(fa[name], fb[name], check_exact=True, obj=name)


@pytest.fixture(scope="module")
def base() -> Scenario:
    return _scenario(_raw(DEFAULT))


def test_a_divert_rule_that_never_fires_changes_nothing(base: Scenario) -> None:
    data = _raw(DEFAULT)
    assert "closures" not in data["crossings"]["chaman"]  # chaman never closes
    data["crossings"]["chaman"]["divert"] = {
        "to": "torkham",
        "patience_hours": 12,
        "travel_hours": {"dist": "fixed", "value": 20.0},
    }
    assert_same_frames(base, _scenario(data))


def test_a_divert_rule_that_never_fires_leaves_direct_demand_alone() -> None:
    """The finding of the issue: direct demand at one crossing moved when a divert rule was
    added to another crossing that never closes."""
    path = ROOT / "scenarios" / "reception_capacity.yaml"
    data = _raw(path)
    crossing = next(iter(data["crossings"]))
    desk = {"servers": 2, "service_minutes": {"per_household": {"dist": "fixed", "value": 5}}}
    travel = {"dist": "fixed", "value": 1}
    data["crossings"]["elsewhere"] = {
        "stages": {"desk": desk},
        "divert": {"to": crossing, "patience_hours": 1, "travel_hours": travel},
    }
    end = (
        "calendar.end="
        + str(_raw(path)["calendar"]["start"] + pd.Timedelta(days=9).to_pytimedelta()),
    )
    before, after = _frames(_scenario(_raw(path), end)), _frames(_scenario(data, end))
    mine = after["daily_stage"]["crossing"] != "elsewhere"
    pd.testing.assert_frame_equal(
        before["daily_stage"], after["daily_stage"][mine].reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(before["returns"], after["returns"])


def test_reordering_groups_changes_nothing(base: Scenario) -> None:
    data = _raw(DEFAULT)
    data["populations"] = dict(reversed(list(data["populations"].items())))
    reordered = _scenario(data)
    assert list(reordered.populations) != list(base.populations)
    assert_same_frames(base, reordered)


def test_reordering_crossings_changes_nothing(base: Scenario) -> None:
    data = _raw(DEFAULT)
    data["crossings"] = dict(reversed(list(data["crossings"].items())))
    reordered = _scenario(data)
    assert list(reordered.crossings) != list(base.crossings)
    assert_same_frames(base, reordered)


def test_a_timeline_event_after_the_horizon_changes_nothing(base: Scenario) -> None:
    data = _raw(DEFAULT)
    data["timeline"].append(
        {"event": "capacity_change", "date": "2025-06-15", "crossing": "chaman",
         "stage": "gate", "servers": 1}
    )  # fmt: skip
    later = _scenario(data)  # SMALL ends the calendar on 2025-04-20
    assert later.timeline[-1].date > later.calendar.end
    assert_same_frames(base, later)


def test_households_alike_and_camps_never_closed_change_nothing() -> None:
    """propensity_cv 0, camps without a closure, and a closure after the horizon draw nothing
    that moves: every frame is identical."""
    data = _raw(DEFAULT)
    data["populations"]["acc"]["voluntary"].pop("propensity_cv", None)  # homogeneous: the default
    alike = _scenario(data)
    data["populations"]["acc"]["voluntary"]["propensity_cv"] = 0
    data["populations"]["acc"]["camps"] = {"share": 0.3}
    data["populations"]["undocumented"]["camps"] = {"share": 0.5}
    data["timeline"].append(
        {"event": "camp_closure", "date": "2025-06-15", "group": "undocumented",
         "share": 1.0, "hazard_per_day": 0.5}
    )  # fmt: skip
    variant = _scenario(data)  # SMALL ends the calendar on 2025-04-20
    assert variant.populations["acc"].camps is not None
    assert_same_frames(alike, variant)


def test_extending_one_deadline_leaves_the_other_groups_departures(base: Scenario) -> None:
    extended = _scenario(_raw(DEFAULT), (*SMALL, "populations.acc.deadline=2025-04-15"))
    deadline = base.populations["undocumented"].deadline
    assert deadline is not None
    until = 24.0 * ((deadline - base.calendar.start).days + 1)
    gi = base.group_names.index("undocumented")

    def departures(scenario: Scenario) -> np.ndarray:
        f = run_model(scenario, 11).flows
        mine = (f["group"] == gi) & (f["src"] == IN_PAKISTAN) & (f["dst"] == TRAVELLING)
        leaving = mine & (f["time"] < until)
        return np.sort(np.stack([f["time"][leaving], f["persons"][leaving]]), axis=1)

    a, b = departures(base), departures(extended)
    assert a.shape[1] > 100
    np.testing.assert_array_equal(a, b)
    # and the change is real: the extended group's own departures moved
    ai = base.group_names.index("acc")
    fa, fb = run_model(base, 11).flows, run_model(extended, 11).flows
    assert not np.array_equal(fa["time"][fa["group"] == ai], fb["time"][fb["group"] == ai])


def test_streams_are_keyed_by_name_not_by_order() -> None:
    first, second = Streams(5), Streams(5)
    a = first.rng("service", "torkham", "gate").random(4)
    first.rng("population", "acc", "households")
    second.rng("population", "acc", "households")
    second.rng("something", "else")
    b = second.rng("service", "torkham", "gate").random(4)
    np.testing.assert_array_equal(a, b)
    c = Streams(6).rng("service", "torkham", "gate").random(4)
    assert not np.array_equal(a, c)
    d = Streams(5).rng("service", "torkham", "reception").random(4)
    assert not np.array_equal(a, d)


def test_a_name_is_not_split_ambiguously() -> None:
    assert spawn_key(("ab", "c")) != spawn_key(("a", "bc"))


def test_a_stream_name_is_issued_once_per_run() -> None:
    streams = Streams(1)
    streams.rng("convoy", "torkham")
    with pytest.raises(ValueError, match="already issued"):
        streams.rng("convoy", "torkham")


def test_a_replication_is_reproduced_from_its_manifest_seed(base: Scenario) -> None:
    many = run_replications(base, replications=3, seed=99)
    seed = many.manifest["replication_seeds"][2]
    alone = simulate(base, seed)
    # the manifests say which seed is which: simulate() spawns nothing
    assert many.manifest["master_seed"] == 99 and seed != 99
    assert alone.manifest["master_seed"] is None
    assert alone.manifest["replication_seeds"] == [seed]
    for name in ("daily_stage", "returns", "stocks", "outcomes"):
        theirs = getattr(many, name)
        theirs = theirs[theirs["replication"] == 2].drop(columns="replication")
        mine = getattr(alone, name).drop(columns="replication")
        pd.testing.assert_frame_equal(
            theirs.reset_index(drop=True), mine.reset_index(drop=True), obj=name
        )
