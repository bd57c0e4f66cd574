"""The fast paths give exactly what the plain ones give.

The fast engine (``run_model(..., lookahead=True)``) must record the same visits, flows and
exits as the event-by-event SimPy reference even where events tie: fixed service and travel
times put service ends, arrivals, convoys and opening hours on the same instant, which is where
an engine that orders events by anything but SimPy's own key would go wrong. The vectorised
frame helpers must equal the straightforward computations they replace, bit for bit, and the
package must not load pandas or pydantic before it needs them.
"""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import simpy

from simulation import parse_scenario
from simulation.engine.households import Households
from simulation.engine.journeys import MAX_DIVERSIONS
from simulation.engine.presets import ServicePresets
from simulation.engine.records import (
    DETAINED,
    IN_PAKISTAN,
    RENEGED,
    TRAVELLING,
    VOLUNTARY,
    FlowLog,
)
from simulation.engine.run import run_model
from simulation.engine.sampling import ServiceClock, Stream, service_hours
from simulation.engine.stages import loop as loop_module
from simulation.engine.stages.loop import EventLoop, compiled_engine, new_loop
from simulation.engine.streams import Streams
from simulation.outputs import frames
from simulation.scenario.schema import Exponential
from tests.builders import demand_scenario, pop_with_divert
from tests.conftest import ROOT, engine
from tests.test_engines import assert_same_path
from tests.test_population import POP


def _tie_stage(rng: random.Random, k: int) -> str:
    """A stage with fixed service times (in whole minutes, so ends fall on one another)."""
    text = f"      s{k}:\n        servers: {rng.choice([1, 1, 2, 3])}\n"
    per_household = f"{{dist: fixed, value: {rng.choice([15, 30, 60, 90])}}}"
    if rng.random() < 0.3:
        per_person = f"{{dist: fixed, value: {rng.choice([15, 30])}}}"
        service = f"{{per_household: {per_household}, per_person: {per_person}}}"
        text += f"        service_minutes: {service}\n"
    else:
        text += f"        service_minutes: {{per_household: {per_household}}}\n"
    if rng.random() < 0.5:
        text += "        priority: [vulnerable]\n"
    if k > 0 and rng.random() < 0.4:
        text += f"        waiting_capacity_households: {rng.choice([1, 2, 3])}\n"
    if rng.random() < 0.6:
        households = rng.choice([1, 2, 4, 6])
        text += (
            f"        initial_backlog: {{households: {households}, group: walkin,"
            " household_size: {values: [1, 2, 3]}}\n"
        )
    return text


def tie_scenario(seed: int) -> str:
    """A small crossing fed by demand and backlogs, every time a whole number of minutes."""
    rng = random.Random(seed)
    stages = "".join(_tie_stage(rng, k) for k in range(rng.choice([2, 3, 3, 4])))
    hours = "    opening_hours: {open_hour: 7, close_hour: 19}\n" if rng.random() < 0.5 else ""
    return f"""
name: ties
calendar: {{start: 2025-01-01, end: 2025-01-03}}
crossings:
  gate:
{hours}    stages:
{stages}demand:
  - crossing: gate
    household_size: {{values: [1, 2, 3]}}
    vulnerable_share: 0.5
    unit: households
    schedule: [{{from: 2025-01-01, rate_per_day: {rng.choice([5, 20, 40])}}}]
"""


# the FIFO hand-off events of the previous fast path (commit 54cc1da) broke ties in 7 of the
# first 330: seeds 45, 64, 132, 162, 184, 248 and 276
QUICK_TIES = [*range(20), 45, 64, 132, 162]


@pytest.mark.parametrize("seed", QUICK_TIES)
def test_tied_events_same_path_on_both_engines(seed: int) -> None:
    assert_same_path(parse_scenario(tie_scenario(seed), "ties.yaml"), seed=seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", sorted(set(range(330)) - set(QUICK_TIES)))
def test_many_tied_event_scenarios_same_path(seed: int) -> None:
    assert_same_path(parse_scenario(tie_scenario(seed), "ties.yaml"), seed=seed)


CONVOY_TIES = POP.replace(
    "crossings:\n  gate:\n    stages:\n      desk:\n        servers: 20\n"
    "        service_minutes: {per_household: {dist: exponential, mean: 5.0}}\n",
    """crossings:
  other:
    stages:
      desk: {servers: 2, service_minutes: {per_household: {dist: fixed, value: 30}}}
  gate:
    opening_hours: {open_hour: 6, close_hour: 18}
    closures: [{start: 2025-04-05, end: 2025-04-08}]
    divert: {to: other, patience_hours: 24, travel_hours: {dist: fixed, value: 6}}
    stages:
      exit:
        servers: 3
        service_minutes: {per_household: {dist: fixed, value: 30.0}}
        priority: [deported]
      gate:
        servers: 2
        service_minutes: {per_household: {dist: fixed, value: 20.0}}
      reception:
        servers: 3
        service_minutes: {per_household: {dist: fixed, value: 60.0}}
        waiting_capacity_households: 4
        priority: [deported]
        initial_backlog: {households: 5, group: walkin, household_size: {values: [2]}}
      cash:
        servers: 2
        service_minutes: {per_household: {dist: fixed, value: 30.0}}
""",
)


def test_convoys_on_the_hour_with_fixed_times_same_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # convoys leave at 3, 9, 15 and 21 h and travel 3 h: deportees reach the crossing exactly
    # when it opens or closes, and fixed services end on the same instants
    # vehicles of 400 persons: a convoy's households reach the crossing together, in a batch
    overrides = [
        "populations.acc.persons=80000",
        "crackdown.transport.vehicle_capacity_persons=400",
    ]
    scenario = parse_scenario(CONVOY_TIES, "convoys.yaml", overrides)
    batches: list[int] = []
    batch = EventLoop.batch

    def counted(self: EventLoop, times: np.ndarray, *args: object) -> None:
        batches.append(len(times))
        batch(self, times, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(loop_module.EventLoop, "batch", counted)
    assert_same_path(scenario, seed=4)
    assert len(batches) >= 5 and sum(batches) > 300  # journeys went through sorted batches


LOOPS = [EventLoop] + ([] if compiled_engine() is None else [compiled_engine().EventLoop])


@pytest.mark.parametrize("loop_type", LOOPS, ids=lambda t: t.__module__.rsplit(".", 1)[-1])
def test_loop_events_interleave_with_simpy_events_in_scheduling_order(loop_type: type) -> None:
    env = simpy.Environment()
    loop = loop_type(env)
    seen: list[str] = []
    labels = ["loop-a", "loop-b", "loop-c"]  # the loop's handlers take (int, int)

    def note(label: int, _: int) -> None:
        seen.append(f"{labels[label]}@{env.now:g}")

    def process() -> object:
        yield env.timeout(1.0)  # scheduled when the process starts, after loop-a and loop-c
        seen.append("process@1")
        loop.at(2.0, note, 1, 0)  # scheduled at 1: after loop-c
        yield env.timeout(1.0)  # scheduled after loop-b, so processed after it
        seen.append("process@2")

    loop.at(1.0, note, 0, 0)
    env.process(process())  # starts at 0 (SimPy's urgent initialisation)
    loop.at(2.0, note, 2, 0)
    loop.run(until=3.0)
    assert seen == ["loop-a@1", "process@1", "loop-c@2", "loop-b@2", "process@2"]


def test_the_compiled_engine_is_built_and_chosen() -> None:
    # `pip install -e .` (make setup) compiles simulation/engine/stages/_cloop.pyx; without it
    # every run silently takes the pure-Python engine, several times slower
    assert compiled_engine() is not None, "run `make setup` (or pip install -e .) to build it"
    env = simpy.Environment()
    assert type(new_loop(env)) is compiled_engine().EventLoop
    with engine("python"):
        assert type(new_loop(env)) is EventLoop


def test_stream_take_gives_the_draws_of_single_calls() -> None:
    one = Stream(Exponential(dist="exponential", mean=2.0), np.random.default_rng(3))
    many = Stream(Exponential(dist="exponential", mean=2.0), np.random.default_rng(3))
    singles = [one() for _ in range(10_000)]
    taken = many.take(7) + many.take(4090) + many.take(5000) + many.take(903)  # across buffers
    assert taken == singles


def test_ties_down_first_is_lexsort() -> None:
    rng = np.random.default_rng(1)
    times = rng.integers(0, 50, 5000).astype(float)  # many ties
    sign = rng.choice([-1.0, 1.0], 5000)
    np.testing.assert_array_equal(frames._ties_down_first(times, sign), np.lexsort((sign, times)))


def test_daily_peaks_equal_maximum_at() -> None:
    rng = np.random.default_rng(2)
    times = np.sort(rng.random(3000) * 24 * 20)
    times[100:110] = 48.0  # changes exactly at midnight
    levels = rng.integers(0, 40, 3000).astype(float)
    _, peak = frames.daily_mean_max(times, levels, 20)
    bounds = 24.0 * np.arange(21)
    expected = np.concatenate([[0.0], levels])[np.searchsorted(times, bounds, "right")][:-1]
    np.maximum.at(expected, np.minimum((times // 24).astype(np.int64), 19), levels)
    np.testing.assert_array_equal(peak, expected)


def test_service_totals_equal_pandas_groupby_sums() -> None:
    # service times over many magnitudes: plain sums would differ in the last bits
    rng = np.random.default_rng(4)
    logs = []
    for _ in range(5):
        hh = rng.permutation(3000)[:2500]
        start = rng.random(2500) * 1000
        hours = rng.random(2500) * 10.0 ** rng.integers(-8, 4, 2500)
        logs.append({"hh": hh, "start": start, "end": start + hours, "kind": np.zeros(2500)})
    parts = [pd.Series(log["end"] - log["start"], index=log["hh"]) for log in logs]
    expected = pd.concat(parts).groupby(level=0).sum().reindex(np.arange(3200)).to_numpy()
    np.testing.assert_array_equal(frames._service_totals(logs, 3200), expected)


def _imported_after(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    return set(done.stdout.split())


def test_importing_the_package_or_asking_for_help_loads_nothing_heavy() -> None:
    heavy = {"pandas", "pydantic", "matplotlib", "simpy", "scipy"}
    assert not heavy & _imported_after("import simulation")
    cli = "from simulation.cli import main\n"
    assert not heavy & _imported_after(
        cli + "try:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    # validate needs the scenario layer, not the model, the outputs or the plots
    path = ROOT / "scenarios" / "textbook_mmc.yaml"
    assert not {"pandas", "matplotlib", "simpy"} & _imported_after(
        cli + f"main(['validate', r'{path}'])"
    )


def test_every_public_name_is_importable() -> None:
    import simulation

    for name in simulation.__all__:
        assert getattr(simulation, name) is not None, name
    with pytest.raises(AttributeError):
        simulation.no_such_name  # noqa: B018


def _pick_one_by_one(
    status: bytearray,
    sizes: np.ndarray,
    order: list[int],
    pointer: int,
    target: int,
    budget: int,
    shut: np.ndarray | None = None,
) -> tuple[list[int], int]:
    """The arrests of one day, one household at a time (the loop the crackdown replaced);
    households ``shut`` (crossing closed) are passed over, and the pointer stays at the first
    of them at home, so that it keeps its place."""
    taken: list[int] = []
    held = None
    while len(taken) < target and pointer < len(order):
        hh = order[pointer]
        if status[hh] != 0 or (shut is not None and shut[hh]):  # not at home, or passed over
            if status[hh] == 0 and held is None:
                held = pointer
            pointer += 1
            continue
        if sizes[hh] > budget:
            break
        pointer += 1
        taken.append(hh)
        budget -= int(sizes[hh])
    return taken, pointer if held is None else min(held, pointer)


@pytest.mark.parametrize("closed", [False, True])
@pytest.mark.parametrize("seed", range(20))
def test_a_days_arrests_picked_with_numpy_equal_one_by_one(seed: int, closed: bool) -> None:
    from simulation.engine.crackdown import Crackdown
    from simulation.engine.households import Households

    rng = np.random.default_rng(seed)
    n = 3000
    households = Households(["g"])
    crossing = (rng.random(n) < rng.random()).astype(np.int64)  # crossing 1 or 0
    households.add(rng.integers(1, 9, n), 0, 0, crossing, at_home=True)
    away = rng.random(n) < rng.random()  # from none to nearly all gone
    households.leave_home(np.flatnonzero(away).tolist())
    crackdown = Crackdown.__new__(Crackdown)  # only what _pick reads
    crackdown.hh, crackdown._sizes = households, np.asarray(households.size)
    crackdown._crossings = crossing
    order = rng.permutation(n).tolist()
    pointer = int(rng.integers(0, n))
    target, budget = int(rng.integers(1, 400)), int(rng.integers(-5, 2000))
    blocked = np.array([False, True]) if closed else None  # crossing 1 shut
    shut = crossing == 1 if closed else None
    expected = _pick_one_by_one(
        households.status, crackdown._sizes, order, pointer, target, budget, shut
    )
    assert crackdown._pick(order, pointer, target, budget, blocked) == expected


def test_service_times_drawn_later_sit_at_their_household_ids() -> None:
    # households added during the run (direct demand) get their up-front times at their own
    # ids, after a gap of NaN where other households (bound elsewhere) took ids
    scenario = demand_scenario(10.0)
    presets = ServicePresets(scenario, Streams(1), {}, {})
    crossing = next(iter(scenario.crossings))
    spec = next(iter(scenario.crossings[crossing].stages.values())).service_minutes
    sizes = np.array([1, 2, 3])
    presets.extend(crossing, 4, sizes, [np.random.default_rng(7)])
    hours = presets.column(crossing, 0).gather(np.arange(8))
    expected = service_hours(spec.per_household, spec.per_person, sizes, np.random.default_rng(7))
    assert np.isnan(hours[:4]).all() and np.isnan(hours[7])  # none drawn for ids 0-3 and 7
    np.testing.assert_array_equal(hours[4:7], expected)


def test_households_bouncing_between_closed_crossings_same_path() -> None:
    # both crossings shut over the same fortnight, each diverting to the other: households
    # give up and travel on MAX_DIVERSIONS times, then wait in line where they are
    text = pop_with_divert(2, "{dist: fixed, value: 30}").replace(
        "  other:\n",
        "  other:\n    closures: [{start: 2025-03-05, end: 2025-03-20}]\n"
        "    divert: {to: gate, patience_hours: 12, travel_hours: {dist: fixed, value: 5}}\n",
    )
    scenario = parse_scenario(text, "bounce.yaml")
    assert_same_path(scenario, seed=3)
    logs = [run_model(scenario, 3).stage_logs[crossing, "desk"] for crossing in ("gate", "other")]
    gave_up = np.concatenate([log["hh"][log["kind"] == RENEGED] for log in logs])
    assert np.bincount(gave_up).max() == MAX_DIVERSIONS  # some went the whole way round


@pytest.mark.parametrize("order", [("deported",), ("vulnerable", "deported"),
                                   ("deported", "vulnerable"), ("vulnerable",)])  # fmt: skip
def test_deporting_gives_the_ranks_computed_afresh(order: tuple[str, ...]) -> None:
    rng = np.random.default_rng(2)
    households = Households(["g"])
    vulnerable = rng.random(500) < 0.4
    households.add(np.ones(500, dtype=np.int64), 0, VOLUNTARY, np.zeros(500), vulnerable, True)
    kept = households.ranks(order)  # kept current by the registry
    deported = {*rng.choice(500, 200, replace=False).tolist()}
    households.deport(sorted(deported))
    households.deport([3, 7])
    deported |= {3, 7}
    assert list(kept) == households._ranks_of(order, 0, 500)  # from the columns, afresh
    member = {"deported": lambda h: h in deported, "vulnerable": lambda h: vulnerable[h]}
    by_hand = [  # the first class of the order each household belongs to, by definition
        next((i for i, name in enumerate(order) if member[name](h)), len(order)) for h in range(500)
    ]
    assert list(kept) == by_hand


def test_move_many_appends_what_move_would() -> None:
    one_by_one, at_once = FlowLog(), FlowLog()
    groups, persons = [0, 2, 1, 2], [6, 1, 12, 3]
    for group, size in zip(groups, persons, strict=True):
        one_by_one.move(7.25, group, DETAINED, TRAVELLING, size)
    at_once.move_many(7.25, groups, DETAINED, TRAVELLING, persons)
    for name, column in one_by_one.flows().items():
        np.testing.assert_array_equal(at_once.flows()[name], column, err_msg=name)


def test_deportees_ready_as_a_convoy_leaves_are_on_it() -> None:
    # POP: arrests at 9 h, a fixed 30 h in holding, convoys at 3, 9, 15 and 21 h: the first
    # deportees are ready at 15 h the next day, exactly when a convoy leaves, and take it
    flows = run_model(parse_scenario(POP, "pop.yaml"), 1).flows
    arrested = flows["time"][(flows["src"] == IN_PAKISTAN) & (flows["dst"] == DETAINED)]
    left = flows["time"][(flows["src"] == DETAINED) & (flows["dst"] == TRAVELLING)]
    assert (arrested.min() + 30.0) % 24 == 15.0
    assert left.min() == arrested.min() + 30.0


@pytest.mark.parametrize("parts", ["household", "person", "both"])
def test_service_clock_in_bulk_draws_what_one_by_one_draws(parts: str) -> None:
    per_household = Exponential(dist="exponential", mean=4.0) if parts != "person" else None
    per_person = Exponential(dist="exponential", mean=1.0) if parts != "household" else None
    persons = np.random.default_rng(5).integers(1, 21, 3000).tolist()  # refills on the way
    one, bulk = (ServiceClock(per_household, per_person, np.random.default_rng(9)) for _ in "ab")
    one.hours(3)  # both part-way through their buffers
    bulk.hours(3)
    expected = [one.hours(n) for n in persons]
    np.testing.assert_array_equal(bulk.hours_many(persons), expected)
    assert one.hours(4) == bulk.hours(4)  # and left where one by one leaves them
