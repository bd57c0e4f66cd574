"""What households do at a closed crossing: the share that diverts, and the ones that wait.

* ``divert.share``: of the households reaching a crossing closed for longer than their
  patience, each diverts with probability ``share`` (its own coin, drawn from the stream
  ``divert/<crossing>/who`` by household id); the others wait in line until it reopens.
* Households that wait do so in the first stage's queue: none is served while the crossing is
  shut, and each waits the reopening time minus its arrival, plus the service of those ahead.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulation import Scenario, parse_scenario, simulate
from simulation.engine import journeys
from simulation.engine.records import RENEGED, SERVED
from simulation.engine.run import run_model
from tests.builders import START, day, demand_line, from_data, pop_with_divert, service
from tests.conftest import assert_same_path
from tests.test_streams import DEFAULT, _raw, _scenario, assert_same_frames
from tests.test_validation import BASE, line_of, mutate, pinned, write

SERVICE_HOURS = 0.5
CLOSED = (48.0, 120.0)  # days 2-4 shut: hours 48 to 120


def closed_gate(share: float, rate_per_day: float = 8.0, days: int = 8) -> Scenario:
    """One-desk gate (fixed 30-minute service) shut on days 2-4, diverting ``share`` of the
    households that find it shut (patience 1 h) to 'other'; Poisson demand at the gate."""
    desk = {"servers": 1, "service_minutes": service("fixed", value=60 * SERVICE_HOURS)}
    data: dict[str, Any] = {
        "name": "closed",
        "calendar": {"start": START, "end": day(days - 1)},
        "crossings": {
            "gate": {
                "closures": [{"start": day(2), "end": day(4)}],
                "divert": {
                    "to": "other",
                    "patience_hours": 1.0,
                    "travel_hours": {"dist": "fixed", "value": 3.0},
                    "share": share,
                },
                "stages": {"desk": desk},
            },
            "other": {"stages": {"desk": desk}},
        },
        "demand": [
            demand_line("gate", rate_per_day, unit="households", household_size={"values": [1]})
        ],
    }
    return from_data(data, filename="<closed>")


# ---------------------------------------------------------------- who diverts
def test_share_of_households_diverting_is_binomial() -> None:
    share, seed = 0.3, 2
    raw = run_model(closed_gate(share, rate_per_day=200.0), seed)
    log = raw.stage_logs[("gate", "desk")]
    lo, hi = CLOSED
    facing = (log["arrive"] >= lo) & (log["arrive"] < hi - 1.0)  # closed longer than patience
    n = int(facing.sum())
    diverted = int((log["kind"][facing] == RENEGED).sum())
    assert n > 300
    # Binomial(n, share): 4 standard deviations either side
    assert abs(diverted - share * n) <= 4 * math.sqrt(n * share * (1 - share)), (diverted, n)
    # each diverting household gives up after its patience; the others are served on reopening
    gave_up = facing & (log["kind"] == RENEGED)
    np.testing.assert_allclose(log["start"][gave_up] - log["arrive"][gave_up], 1.0)
    stayed = facing & (log["kind"] != RENEGED)  # served on reopening, or still in line
    assert (log["start"][stayed] >= hi).all()
    assert int(stayed.sum()) + diverted == n


def test_share_zero_diverts_nobody_and_share_one_everybody() -> None:
    for share, expected in ((0.0, 0), (1.0, None)):
        log = run_model(closed_gate(share, rate_per_day=100.0), 4).stage_logs[("gate", "desk")]
        lo, hi = CLOSED
        facing = (log["arrive"] >= lo) & (log["arrive"] < hi - 1.0)
        diverted = int((log["kind"][facing] == RENEGED).sum())
        assert diverted == (int(facing.sum()) if expected is None else expected), share


def test_share_just_below_one_moves_no_other_draw() -> None:
    """The coins come from a stream of their own: a share so close to 1 that every household
    still diverts leaves every frame of the default scenario identical."""
    data = _raw(DEFAULT)
    data["crossings"]["torkham"]["divert"]["share"] = 1 - 1e-12
    assert_same_frames(_scenario(_raw(DEFAULT)), _scenario(data))


@pytest.mark.parametrize("priority", [False, True])
def test_both_engines_agree_on_who_diverts(priority: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # population journeys and convoys arrive in batches on the fast path (_arrival_codes;
    # every day's journeys, however few, with BATCH_MIN 1); with a priority at the gate its
    # arrivals are loop events, else handed over ahead of time
    monkeypatch.setattr(journeys, "BATCH_MIN", 1)
    text = pop_with_divert(3, "{dist: exponential, mean: 20}")
    text = text.replace("travel_hours: {dist: fixed, value: 10}}", "travel_hours: "
                        "{dist: fixed, value: 10}, share: 0.4}")  # fmt: skip
    sets = ["crossings.gate.stages.desk.priority=[deported]"] if priority else []
    scenario = parse_scenario(text, overrides=sets)
    assert scenario.crossings["gate"].divert is not None
    assert scenario.crossings["gate"].divert.share == 0.4
    assert_same_path(scenario, seed=4)
    log = run_model(scenario, 4).stage_logs[("gate", "desk")]
    kinds = set(log["kind"].tolist())
    assert RENEGED in kinds and SERVED in kinds  # some diverted, some stayed


def test_share_outside_zero_to_one_is_one_line(tmp_path: Path) -> None:
    text = mutate("travel_hours: {dist: fixed, value: 10.0}\n", "travel_hours: {dist: fixed, "
                  "value: 10.0}\n      share: 1.5\n", BASE)  # fmt: skip
    path = write(tmp_path, text)
    line = line_of(text, "share: 1.5")
    pinned(path, f"{path}:{line}: crossings.gate.divert.share: must be <= 1 (got 1.5)")
    text = text.replace("share: 1.5", "share: -0.1")
    pinned(write(tmp_path, text), f"{path}:{line}: crossings.gate.divert.share: must be >= 0 "
           "(got -0.1)")  # fmt: skip


# ---------------------------------------------------------------- those who stay
def test_households_staying_at_a_closed_crossing_wait_for_the_reopening() -> None:
    """Hand computation: 1 desk, fixed 30-minute service, shut from hour 48 to 120, nobody
    diverts. Households arriving while it is shut are served in arrival order from hour 120:
    the i-th of them (from 0) starts at 120 + 0.5 i, so waits 120 - arrival + 0.5 i."""
    scenario = closed_gate(0.0)
    raw = run_model(scenario, 7)
    log = raw.stage_logs[("gate", "desk")]
    lo, hi = CLOSED
    before = log["arrive"] < lo
    assert (log["end"][before] <= lo).all(), "the queue is empty when the gate shuts"
    during = (log["arrive"] >= lo) & (log["arrive"] < hi)
    order = np.argsort(log["arrive"][during], kind="stable")
    arrive = log["arrive"][during][order]
    n = len(arrive)
    assert n >= 10
    assert (log["kind"][during] == SERVED).all()
    expected_start = hi + SERVICE_HOURS * np.arange(n)
    np.testing.assert_allclose(log["start"][during][order], expected_start, atol=1e-9)
    np.testing.assert_allclose(
        log["start"][during][order] - arrive, hi - arrive + SERVICE_HOURS * np.arange(n), atol=1e-9
    )
    # nobody crosses while it is shut
    exits = raw.exits["time"][raw.exits["crossing"] == 0]
    assert not ((exits >= lo) & (exits < hi)).any()
    # the hourly queue during the closure is every household arrived since it shut
    results = simulate(scenario, 7)
    queue = results.hourly_queue
    gate = queue[queue["crossing"] == "gate"]
    hours = (gate["time"] - gate["time"].iloc[0]).dt.total_seconds().to_numpy() / 3600
    shut = (hours >= lo) & (hours < hi)
    counted = np.searchsorted(arrive, hours[shut], side="right")
    np.testing.assert_array_equal(gate["queue_households"].to_numpy()[shut], counted)
    assert_same_path(scenario, seed=7)
