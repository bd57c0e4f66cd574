"""The sizing outcomes: the worst day's 95th-percentile wait, and the end-to-end wait across
all stages of a crossing (queueing plus time held at a server by a full waiting area)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.engine.records import SERVED, RawRun
from simulation.engine.run import run_model
from simulation.outputs.frames import end_to_end_waits, visit_outcomes
from simulation.outputs.summary import stage_outcomes
from tests.builders import demand_scenario, stage

TWO_STAGES = stage("desk", servers=1) + stage("cash", servers=1)


def _log(rows: list[tuple[int, float, float, float, float]]) -> dict[str, np.ndarray]:
    hh, arrive, start, end, leave = (np.array(c) for c in zip(*rows, strict=True))
    kind = np.full(len(rows), SERVED, dtype=np.int8)
    return {"hh": hh.astype(np.int64), "arrive": arrive, "start": start, "end": end,
            "leave": leave, "kind": kind}  # fmt: skip


def _hand_run() -> RawRun:
    """Two households through desk then cash, one server each.

    hh 0: desk 0 -> 1, held at the desk until 1.5 (cash full), cash 1.5 -> 2, exits at 2.
    hh 1: arrives 0.5, desk 1.5 -> 2.5, cash arrives 2.5, starts 3 -> 4, exits at 4.
    """
    scenario = demand_scenario(1, TWO_STAGES, end="2025-01-02")
    return RawRun(
        scenario=scenario, seed=0, sizes=np.array([2, 3]), group=np.array([0, 0]),
        mode=np.array([2, 2]),
        stage_logs={
            ("gate", "desk"): _log([(0, 0.0, 0.0, 1.0, 1.5), (1, 0.5, 1.5, 2.5, 2.5)]),
            ("gate", "cash"): _log([(0, 1.5, 1.5, 2.0, 2.0), (1, 2.5, 3.0, 4.0, 4.0)]),
        },
        flows={k: np.zeros(0) for k in ("time", "group", "src", "dst", "persons")},
        exits={"time": np.array([2.0, 4.0]), "hh": np.array([0, 1]),
               "crossing": np.array([0, 0], dtype=np.int8)},
        initial={}, closures={"gate": []}, events=0,
    )  # fmt: skip


def test_end_to_end_wait_by_hand() -> None:
    # hh 0: 2 - 0 - (1 + 0.5) = 0.5 (all of it held at the desk)
    # hh 1: 4 - 0.5 - (1 + 1) = 1.5 (1 h queueing at the desk, 0.5 h at cash)
    np.testing.assert_allclose(end_to_end_waits(_hand_run(), "gate"), [0.5, 1.5])
    rows = visit_outcomes(_hand_run()).set_index("outcome")["value"]
    assert rows["mean_end_to_end_wait_hours"] == pytest.approx(1.0)
    assert rows["p95_end_to_end_wait_hours"] == pytest.approx(0.5 + 0.95 * 1.0)


def test_worst_day_p95_wait_by_hand() -> None:
    daily = pd.DataFrame(
        {"replication": 0, "crossing": "gate", "stage": ["desk"] * 3 + ["cash"] * 2,
         "queue_max_persons": 0.0, "queue_mean_persons": 0.0,
         "wait_p95_hours": [1.0, 5.0, np.nan, np.nan, np.nan]}
    )  # fmt: skip
    out = stage_outcomes(daily)
    worst = out[out["outcome"] == "worst_day_p95_wait_hours"].set_index("stage")["value"]
    assert worst["desk"] == 5.0  # the worst of days 1.0 and 5.0; a day nobody started skipped
    assert worst["cash"] == 0.0  # nobody started service at all


def test_end_to_end_wait_is_the_sum_of_stage_waits_without_blocking() -> None:
    scenario = demand_scenario(40, TWO_STAGES, end="2025-01-06")
    raw = run_model(scenario, 3)
    desk, cash = raw.stage_logs[("gate", "desk")], raw.stage_logs[("gate", "cash")]
    waits = {}
    for log in (desk, cash):
        ok = log["kind"] == SERVED
        for hh, w in zip(log["hh"][ok], (log["start"] - log["arrive"])[ok], strict=True):
            waits[int(hh)] = waits.get(int(hh), 0.0) + float(w)
    expected = [waits[int(h)] for h in raw.exits["hh"]]
    assert len(expected) > 100
    np.testing.assert_allclose(end_to_end_waits(raw, "gate"), expected, atol=1e-9)


def test_end_to_end_wait_counts_time_held_by_a_full_waiting_area() -> None:
    held = stage("desk", servers=2) + stage(
        "cash", servers=1, extra="        waiting_capacity_households: 1\n"
    )
    raw = run_model(demand_scenario(60, held, end="2025-01-04"), 2)
    desk, cash = raw.stage_logs[("gate", "desk")], raw.stage_logs[("gate", "cash")]
    waits: dict[int, float] = {}
    for log, held_too in ((desk, True), (cash, False)):
        ok = log["kind"] == SERVED
        wait = log["start"][ok] - log["arrive"][ok]
        if held_too:  # a household leaves the desk only when cash has room for it
            wait = wait + log["leave"][ok] - log["end"][ok]
        for hh, w in zip(log["hh"][ok], wait, strict=True):
            waits[int(hh)] = waits.get(int(hh), 0.0) + float(w)
    expected = np.array([waits[int(h)] for h in raw.exits["hh"]])
    left = np.isfinite(desk["leave"])
    held_hours = float((desk["leave"][left] - desk["end"][left]).sum())
    assert held_hours > 10.0  # the limit binds
    np.testing.assert_allclose(end_to_end_waits(raw, "gate"), expected, atol=1e-9)
