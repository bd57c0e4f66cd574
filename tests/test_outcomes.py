"""Every outcome of a replication, on a hand-built run whose answers are worked out by hand.

The run is written out below as a ``RawRun`` (no simulation), passed through the whole output
path of :func:`simulation.run_replications` (frames, M/G/c estimate, outcomes, summary), and each
outcome is compared with the value worked out in its test. Only the engine is left out.

Calendar 1-3 January 2025 (3 days, horizon H = 72 h). One crossing 'gate' with one stage 'desk'
(1 server, exponential service of mean 60 min), closed on 2 January: hours [24, 48). Group 'acc'
(90 persons) and direct demand 'direct'. A single server serving in arrival order:

    hh     size group   leaves home  reaches desk  start   end     leave   kind      exit
    0..19  2    acc     1.0          4.0           4+hh    5+hh    = end   served    = end
                                             (hh 19: service 23-24.5, runs past closing)
    20     3    acc     20.0         23.5          48.0    49.0    49.0    served    49.0
    21     4    acc     25.0         29.0          49.0    50.0    50.0    served    50.0
    22     1    direct  -            60.0          60.0    61.0    61.0    served    61.0
    23     5    acc     60.0         70.0          70.0    71.5    71.5    served    71.5
    24     6    acc     65.0         70.5          71.5    72.5    inf     served (in service at H)
    25     8    acc     68.0         71.0          inf     inf     inf     unserved
    26     16   acc     50.0         (still on the road at H)
    27     8    acc     (stays at home)

Waits (start - arrive) of the 25 served visits: 0..19 (hh 0-19), 24.5, 20, 0, 0, 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from simulation import Results, Scenario, parse_scenario, run_replications
from simulation.engine.records import (
    AT_CROSSING,
    DETAINED,
    DIRECT,
    IN_PAKISTAN,
    RETURNED,
    SERVED,
    STATES,
    TRAVELLING,
    UNSERVED,
    VOLUNTARY,
    RawRun,
)
from simulation.experiments import replications
from simulation.scenario.calendar import closure_intervals
from tests.builders import day

INF = np.inf
ACC, DIRECT_GROUP = 0, 1  # indices into scenario.group_names
# hh, size, group, mode, leaves home, reaches the desk, start, end, leave, kind
VISITS = [
    *[(k, 2, ACC, VOLUNTARY, 1.0, 4.0, 4.0 + k, 5.0 + k, 5.0 + k, SERVED) for k in range(19)],
    (19, 2, ACC, VOLUNTARY, 1.0, 4.0, 23.0, 24.5, 24.5, SERVED),
    (20, 3, ACC, VOLUNTARY, 20.0, 23.5, 48.0, 49.0, 49.0, SERVED),
    (21, 4, ACC, VOLUNTARY, 25.0, 29.0, 49.0, 50.0, 50.0, SERVED),
    (22, 1, DIRECT_GROUP, DIRECT, None, 60.0, 60.0, 61.0, 61.0, SERVED),
    (23, 5, ACC, VOLUNTARY, 60.0, 70.0, 70.0, 71.5, 71.5, SERVED),
    (24, 6, ACC, VOLUNTARY, 65.0, 70.5, 71.5, 72.5, INF, SERVED),
    (25, 8, ACC, VOLUNTARY, 68.0, 71.0, INF, INF, INF, UNSERVED),
]
ON_THE_ROAD = (26, 16, 50.0)  # hh, size, leaves home
AT_HOME = (27, 8)  # hh, size


HAND_BUILT = """
name: hand_built
calendar: {start: 2025-01-01, end: 2025-01-03}
populations:
  acc:
    persons: 90
    household_size: {values: [2]}
    regions:
      north:
        share: 1.0
        crossings: {gate: {share: 1.0, travel_hours: {dist: fixed, value: 3.0}}}
    voluntary: {schedule: [{from: 2025-01-01, rate_per_day: 0.3}]}
crossings:
  gate:
    closures: [{start: 2025-01-02, end: 2025-01-02}]
    stages:
      desk:
        servers: 1
        service_minutes: {per_household: {dist: exponential, mean: 60.0}}
demand:
  - {crossing: gate, group: direct, schedule: [{from: 2025-01-01, rate_per_day: 1.0}]}
"""


def hand_scenario() -> Scenario:
    """The scenario the hand-built run belongs to (3 days, 'gate' closed on the second)."""
    return parse_scenario(HAND_BUILT, "<hand_built>")


def _flows() -> dict[str, np.ndarray]:
    """Every move of an 'acc' household between states, as the engine records them."""
    moves: list[tuple[float, int, int, int, int]] = []
    for _, size, group, _, leaves, reaches, _, _, leave, kind in VISITS:
        if group != ACC:
            continue
        moves.append((leaves, ACC, IN_PAKISTAN, TRAVELLING, size))
        moves.append((reaches, ACC, TRAVELLING, AT_CROSSING, size))
        if kind == SERVED and leave < 72.0:
            moves.append((leave, ACC, AT_CROSSING, RETURNED, size))
    moves.append((ON_THE_ROAD[2], ACC, IN_PAKISTAN, TRAVELLING, ON_THE_ROAD[1]))
    columns = list(zip(*moves, strict=True))
    names = ("time", "group", "src", "dst", "persons")
    dtypes = (np.float64, np.int8, np.int8, np.int8, np.int64)
    return {n: np.array(c, dtype=d) for n, c, d in zip(names, columns, dtypes, strict=True)}


def hand_run(scenario: Scenario, seed: int = 0) -> RawRun:
    """The run in the module docstring, as the engine would record it."""
    hh = np.array([v[0] for v in VISITS])
    sizes = np.array([v[1] for v in VISITS] + [ON_THE_ROAD[1], AT_HOME[1]])
    log = {
        "hh": hh,
        "arrive": np.array([v[5] for v in VISITS]),
        "start": np.array([v[6] for v in VISITS]),
        "end": np.array([v[7] for v in VISITS]),
        "leave": np.array([v[8] for v in VISITS]),
        "kind": np.array([v[9] for v in VISITS], dtype=np.int8),
    }
    done = (log["kind"] == SERVED) & (log["leave"] < scenario.horizon_hours)
    return RawRun(
        scenario=scenario,
        seed=seed,
        sizes=sizes,
        group=np.array([v[2] for v in VISITS] + [ACC, ACC]),
        mode=np.array([v[3] for v in VISITS] + [VOLUNTARY, VOLUNTARY]),
        stage_logs={("gate", "desk"): log},
        flows=_flows(),
        exits={
            "time": log["leave"][done],
            "hh": hh[done],
            "crossing": np.zeros(int(done.sum()), dtype=np.int8),
        },
        initial={"acc": {IN_PAKISTAN: 90}},
        closures={"gate": closure_intervals(scenario, "gate")},
        events=0,
    )


@pytest.fixture(scope="module")
def results() -> Iterator[Results]:
    """The full output path of ``run_replications`` on the hand-built run (the engine's
    ``run_model`` replaced by it for this module)."""
    scenario = hand_scenario()
    assert sizes_add_up(scenario)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replications, "run_model", lambda s, seed: hand_run(s, seed))
        yield run_replications(scenario, replications=1, seed=1)


def sizes_add_up(scenario: Scenario) -> bool:
    """The hand-built households of 'acc' hold the group's persons, and the closure is day 1."""
    acc = sum(v[1] for v in VISITS if v[2] == ACC) + ON_THE_ROAD[1] + AT_HOME[1]
    closed = closure_intervals(scenario, "gate") == [(24.0, 48.0)]
    return acc == scenario.populations["acc"].persons and closed


def value(results: Results, outcome: str, **keys: str) -> float:
    """The one value of ``outcome`` with these keys (crossing, stage, group, mode)."""
    frame = results.outcomes
    rows = frame[frame["outcome"] == outcome]
    for key in ("crossing", "stage", "group", "mode"):
        rows = rows[rows[key] == keys.get(key, "")]
    assert len(rows) == 1, f"{outcome} {keys}: {len(rows)} rows"
    return float(rows["value"].iloc[0])


DESK = {"crossing": "gate", "stage": "desk"}


# ---------------------------------------------------------------- one test per outcome
def test_persons_returned(results: Results) -> None:
    """acc, voluntary: hh 0-18 (38 persons), hh 19 (2), hh 20, 21, 23 (3 + 4 + 5) = 52; hh 24
    ends its service after H and hh 25 is never served. direct: hh 22 = 1. Group and mode
    pairs that never occur are filled with 0."""
    assert value(results, "persons_returned", group="acc", mode="voluntary") == 52
    assert value(results, "persons_returned", group="direct", mode="direct") == 1
    assert value(results, "persons_returned", group="acc", mode="direct") == 0
    assert value(results, "persons_returned", group="direct", mode="voluntary") == 0


def test_peak_daily_crossings(results: Results) -> None:
    """Persons leaving the desk per day: day 0 hh 0-18 = 38; day 1 hh 19 (at 24.5) = 2;
    day 2 hh 20, 21, 22, 23 = 3 + 4 + 1 + 5 = 13 (groups summed). Peak 38."""
    assert value(results, "peak_daily_crossings", crossing="gate") == 38


def test_peak_queue_persons(results: Results) -> None:
    """Persons waiting (arrived, not started). Day 0: at 4.0 twenty households of 2 arrive and
    hh 0 starts: 38, then one fewer each hour; 0 at 23.0; hh 20 at 23.5: 3. Day 1: 3, and
    hh 21 at 29.0: 7. Day 2: 4 at 48, 0 at 49, then hh 24 (6) at 70.5 and hh 25 (8) at 71:
    14, and 8 from 71.5. Daily maxima 38, 7, 14: the peak is 38 (the smallest is 7)."""
    assert value(results, "peak_queue_persons", **DESK) == 38


def test_p95_wait_hours(results: Results) -> None:
    """The 25 served waits sorted: 0, 0, 0, 1, 1, 2, 3, ..., 18, 19, 20, 24.5 (index i of 5..21
    holds i - 3). numpy's linear rule: position 0.95 x 24 = 22.8, between 19 (index 22) and
    20 (index 23): 19 + 0.8 x 1 = 19.8. The median (index 12) would be 9."""
    assert value(results, "p95_wait_hours", **DESK) == pytest.approx(19.8, abs=1e-12)


def test_mean_wait_hours(results: Results) -> None:
    """(0 + 1 + ... + 19 + 24.5 + 20 + 0 + 0 + 1) / 25 = 235.5 / 25 = 9.42; the unserved hh 25
    is left out."""
    assert value(results, "mean_wait_hours", **DESK) == pytest.approx(9.42, abs=1e-12)


def test_person_hours_queueing(results: Results) -> None:
    """Each visit's persons x hours waiting inside [0, H): hh 0-19: 2 x (0 + ... + 19) = 380;
    hh 20: 3 x 24.5 = 73.5; hh 21: 4 x 20 = 80; hh 22, 23: 0; hh 24: 6 x 1 = 6; hh 25 waits
    from 71 to H: 8 x 1 = 8. Total 547.5 person-hours (the daily means x 24 h, summed)."""
    assert value(results, "person_hours_queueing", **DESK) == pytest.approx(547.5, rel=1e-12)


def test_persons_queued_overnight(results: Results) -> None:
    """Waits spanning a midnight: hh 20 (day 0 to 2) 3, hh 21 (day 1 to 2) 4, hh 25 (still
    waiting at H, the midnight ending day 2) 8: 15. hh 24 waits 70.5-71.5 on day 2."""
    assert value(results, "persons_queued_overnight", **DESK) == 15


def test_persons_unserved_at_end(results: Results) -> None:
    """Only hh 25 (8 persons) never started service; hh 24 is in service at H, so served.
    The 25 served visits hold 59 persons."""
    assert value(results, "persons_unserved_at_end", **DESK) == 8


def test_persons_stranded_by_closures(results: Results) -> None:
    """Waiting at the first stage while the gate is shut [24, 48): hh 20 (23.5-48) 3 and
    hh 21 (29-49) 4: 7. hh 0-19 started before 24; the rest arrived after 48. The visits not
    stranded hold 67 - 7 = 60 persons."""
    assert value(results, "persons_stranded_by_closures", crossing="gate") == 7


def test_days_to_50pct_left(results: Results) -> None:
    """acc (90 persons) still in Pakistan at the end of each day: day 0: 90 - 40 - 3 = 47
    (47.8% left); day 1: 47 - 4 = 43 (52.2% left, the first day at or past half)."""
    assert value(results, "days_to_50pct_left", group="acc") == 1


def test_days_to_90pct_left(results: Results) -> None:
    """Day 2: 43 - 16 - 5 - 6 - 8 = 8 still at home (91.1% left, the first day past 90%)."""
    assert value(results, "days_to_90pct_left", group="acc") == 2


def test_persons_arrested() -> None:
    """The hand-built run plus one arrest: hh 27 (8 persons, at home) detained at hour 30
    (day 1). persons_arrested counts it once; the stocks' ``arrested`` column is 0, 8, 0."""
    scenario = hand_scenario()
    run = hand_run(scenario)
    arrest = {"time": 30.0, "group": ACC, "src": IN_PAKISTAN, "dst": DETAINED, "persons": 8}
    flows = {k: np.append(v, np.array(arrest[k], dtype=v.dtype)) for k, v in run.flows.items()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replications, "run_model", lambda s, seed: replace(run, flows=flows))
        arrested = run_replications(scenario, replications=1, seed=1)
    assert value(arrested, "persons_arrested") == 8
    assert arrested.stocks["arrested"].tolist() == [0, 8, 0]


def test_every_outcome_has_a_hand_worked_value_here(results: Results) -> None:
    """A new outcome must come with a hand-worked test: here, or (the sizing outcomes, which
    need blocking and several stages) in tests/test_wait_outcomes.py."""
    from simulation.outputs.outcomes import BY_NAME

    elsewhere = {"worst_day_p95_wait_hours", "mean_end_to_end_wait_hours",
                 "p95_end_to_end_wait_hours"}  # fmt: skip
    tested = {name[len("test_") :] for name in globals() if name.startswith("test_")}
    assert set(BY_NAME) - elsewhere <= tested
    assert set(results.outcomes["outcome"]) == set(BY_NAME)


# ---------------------------------------------------------------- the frames behind them
def test_daily_waits_per_day_of_service_start(results: Results) -> None:
    """Day 0: hh 0-19 start with waits 0..19: mean = median = 9.5, p95 at position 19 x 0.95 =
    18.05 -> 18.05. Day 1: nothing starts (closed). Day 2: waits 24.5, 20, 0, 0, 1: mean 9.1,
    median 1, p95 at position 3.8: 20 + 0.8 x 4.5 = 23.6."""
    daily = results.daily_stage.set_index("date")
    p95, p50, mean = daily["wait_p95_hours"], daily["wait_p50_hours"], daily["wait_mean_hours"]
    days = pd.to_datetime([day(0), day(1), day(2)])
    np.testing.assert_allclose(p95[days], [18.05, np.nan, 23.6], rtol=1e-12)
    np.testing.assert_allclose(p50[days], [9.5, np.nan, 1.0], rtol=1e-12)
    np.testing.assert_allclose(mean[days], [9.5, np.nan, 9.1], rtol=1e-12)


def test_daily_queue_and_completions(results: Results) -> None:
    """Person-hours waiting per day: 380 + 1.5 (hh 20 from 23.5); 3 x 24 + 4 x 19 = 148;
    4 + 6 + 8 = 18; their means are these / 24 h. Completions (leave before H): 38, 2, 13."""
    daily = results.daily_stage
    np.testing.assert_allclose(24.0 * daily["queue_mean_persons"], [381.5, 148.0, 18.0])
    assert daily["queue_max_persons"].tolist() == [38, 7, 14]
    assert daily["completions_persons"].tolist() == [38, 2, 13]
    assert daily["arrivals_households"].tolist() == [21, 1, 4]


def test_stocks_at_the_end_of_each_day(results: Results) -> None:
    """acc at the end of each day (in Pakistan, travelling, at the crossing, returned):
    day 0: 47, 0, 5 (hh 19, 20), 38; day 1: 43, 0, 7 (hh 20, 21), 40;
    day 2: 8, 16 (hh 26), 14 (hh 24, 25), 52. Each row adds up to 90."""
    stocks = results.stocks
    assert list(STATES) == ["in_pakistan", "detained", "travelling", "at_crossing", "returned"]
    assert stocks[list(STATES)].to_numpy().tolist() == [
        [47, 0, 0, 5, 38],
        [43, 0, 0, 7, 40],
        [8, 0, 16, 14, 52],
    ]
