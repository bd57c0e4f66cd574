"""The vectorised frame builders give exactly what the plain pandas computations give."""

from __future__ import annotations

import gc
import math

import numpy as np
import pandas as pd
import pytest

from simulation import load_scenario
from simulation.engine.records import DETAINED, IN_PAKISTAN, MODES, SERVED, UNSERVED, RawRun
from simulation.engine.run import _replicate, run_model
from simulation.outputs.analytic import add_analytic_waits, add_utilisation
from simulation.outputs.frames import (
    WHO_WAITS_KEYS,
    _first_arrivals,
    _overnight,
    _service_totals,
    stocks,
    visit_outcomes,
    who_waits,
)
from simulation.outputs.groups import KeyedValues, Waits, run_quantile, runs, text_ranks
from simulation.outputs.queues import (
    HOURLY,
    daily_busy_mean,
    daily_means_maxes,
    daily_stage,
    day_of,
    day_of_later,
    down_up_levels,
    hourly_queue,
    step_function,
)
from simulation.outputs.registry import build_frames
from tests.conftest import ROOT


def test_run_quantile_is_np_quantile_of_each_run() -> None:
    rng = np.random.default_rng(5)
    count = np.r_[1, 2, 3, 20, rng.integers(1, 400, 300)]  # small runs: every interpolation case
    key = np.repeat(np.arange(len(count)), count)
    values = rng.exponential(3.0, len(key))
    values = np.where(rng.random(len(key)) < 0.5, np.round(values, 1), values)  # ties
    values[rng.random(len(key)) < 0.3] = 0.0
    order = np.lexsort((values, key))
    first, length = runs(key[order])
    np.testing.assert_array_equal(length, count)
    for q in (0.05, 0.5, 0.95, 1.0):
        want = [np.quantile(values[key == k], q) for k in range(len(count))]
        np.testing.assert_array_equal(run_quantile(values[order], first, length, q), want)


def test_keyed_quantiles_are_numpys_and_pandas_of_each_key() -> None:
    """Mostly zeros (as waits are), some negatives, ties and keys with no values or only
    zeros: every key's quantile is np.quantile's, or pandas' groupby quantile, exactly."""
    rng = np.random.default_rng(6)
    key = rng.integers(0, 40, 5000)
    values = rng.exponential(3.0, len(key))
    values = np.where(rng.random(len(key)) < 0.5, np.round(values, 1), values)  # ties
    values[rng.random(len(key)) < 0.7] = 0.0
    values[rng.random(len(key)) < 0.05] *= -1
    key[key == 7] = 8  # key 7 holds nothing
    values[key == 9] = 0.0  # key 9 only zeros
    keyed = KeyedValues(key, values, 41)
    for q in (0.0, 0.05, 0.5, 0.95, 1.0):
        present, got = keyed.quantile(q)
        np.testing.assert_array_equal(present, np.unique(key))
        np.testing.assert_array_equal(got, [np.quantile(values[key == k], q) for k in present])
        _, got = keyed.quantile(q, how="pandas")
        want = pd.Series(values).groupby(key).quantile(q).to_numpy()
        np.testing.assert_array_equal(got, want)


def test_text_ranks_order_names_as_text() -> None:
    names = ["undocumented", "acc", "Zeta", "por", "a_b", "a"]
    ranks = text_ranks(names)
    assert [names[i] for i in np.argsort(ranks)] == sorted(names)


def plain_who_waits(raw: RawRun) -> pd.DataFrame:
    """The groupby on text columns that :func:`who_waits` replaces."""
    groups = np.array(raw.scenario.group_names)
    vulnerable = raw.vulnerable if raw.vulnerable is not None else np.zeros(len(raw.sizes), bool)
    parts = []
    for (crossing, stage), log in raw.stage_logs.items():
        ok = (log["kind"] == SERVED) & (log["start"] < raw.scenario.horizon_hours)
        hh = log["hh"][ok]
        parts.append(pd.DataFrame({
            "crossing": crossing, "stage": stage, "group": groups[raw.group[hh]],
            "mode": np.array(MODES)[raw.mode[hh]], "vulnerable": vulnerable[hh],
            "persons": raw.sizes[hh], "wait": (log["start"] - log["arrive"])[ok],
        }))  # fmt: skip
    by = pd.concat(parts, ignore_index=True).groupby(WHO_WAITS_KEYS, sort=True, observed=True)
    out = by.agg(
        households=("wait", "size"),
        persons=("persons", "sum"),
        mean_wait_hours=("wait", "mean"),
        p95_wait_hours=("wait", lambda w: float(np.quantile(w, 0.95))),
    )
    return out.reset_index()


@pytest.mark.parametrize("vulnerable", [None, 0.3])
def test_who_waits_equals_the_groupby_on_names(vulnerable: float | None) -> None:
    overrides = ["calendar.end=2025-03-31"]
    if vulnerable is not None:  # priority: the classes wait differently
        overrides += ["crossings.torkham.stages.reception.priority=[vulnerable]",
                      f"populations.acc.vulnerable_share={vulnerable}"]  # fmt: skip
    scenario = load_scenario(ROOT / "scenarios" / "torkham_2025_acc.yaml", overrides)
    raw = run_model(scenario, 7)
    fast = who_waits(raw)
    assert len(fast) > 4 and fast["households"].sum() > 1000
    pd.testing.assert_frame_equal(fast, plain_who_waits(raw), check_exact=True)


def test_down_up_levels_is_the_step_function_of_all_changes() -> None:
    rng = np.random.default_rng(8)
    down = rng.integers(0, 60, 4000).astype(float)  # whole hours: many ties
    up = rng.integers(0, 60, 5000).astype(float)
    fall, rise = rng.integers(1, 9, 4000).astype(float), rng.integers(1, 9, 5000).astype(float)
    times, (level,) = down_up_levels(down, up, [(fall, rise)], 50.0)
    want_times, want = step_function(np.r_[down, up], np.r_[-fall, rise], 50.0)
    np.testing.assert_array_equal(times, want_times)
    np.testing.assert_array_equal(level, want)


def test_hourly_queue_counts_who_waits_at_each_hour() -> None:
    """Built after daily_stage (sharing its step functions) or alone, the queue at hour h is
    the households that arrived by h and had not started service by h."""
    scenario = load_scenario(ROOT / "scenarios" / "torkham_2025_acc.yaml",
                             ["calendar.end=2025-04-10"])  # fmt: skip
    raw = run_model(scenario, 3)
    daily_stage(raw)
    shared = hourly_queue(raw)
    assert HOURLY not in raw.shared  # taken, not kept
    alone = hourly_queue(raw)
    pd.testing.assert_frame_equal(shared, alone, check_exact=True)
    hours = np.arange(0.0, scenario.horizon_hours, 1.0)
    for (crossing, stage), log in raw.stage_logs.items():
        left = log["kind"] != UNSERVED
        arrived = np.searchsorted(np.sort(log["arrive"]), hours, side="right")
        started = np.searchsorted(np.sort(log["start"][left]), hours, side="right")
        mine = alone[(alone["crossing"] == crossing) & (alone["stage"] == stage)]
        np.testing.assert_array_equal(mine["queue_households"], arrived - started)
    assert alone["queue_households"].max() > 0


def test_utilisation_is_the_day_by_day_estimate() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "torkham_2025_acc.yaml",
                             ["calendar.end=2025-04-30"])  # fmt: skip
    daily = daily_stage(run_model(scenario, 4))
    fast = add_utilisation(daily, scenario)
    plain = add_analytic_waits(daily, scenario).drop(columns="wait_mgc_hours")
    pd.testing.assert_frame_equal(fast, plain, check_exact=True)
    assert fast["utilisation"].notna().sum() > 100 and fast["utilisation"].isna().any()


def test_a_run_frees_its_own_reference_cycles() -> None:
    """The run's SimPy processes and events are reference cycles (its garbage collections are
    rare); run_model collects them as it returns, so none are left for the frames to carry."""
    scenario = load_scenario(ROOT / "scenarios" / "torkham_2025_acc.yaml",
                             ["calendar.end=2025-04-10"])  # fmt: skip
    gc.collect()
    gc.disable()  # no automatic collection may hide what the run leaves
    try:
        raw = run_model(scenario, 2)
        assert gc.collect() == 0
        build_frames(raw, 0)
        assert not raw.shared  # what builders share (hourly levels, sorted waits) is let go
        gc.collect()
        _replicate(scenario, 2, True)  # the same run without _quiet_gc
        assert gc.collect() > 0  # the run does leave some: the check above can fail
    finally:
        gc.enable()


def test_first_arrivals_take_each_households_first_visit_in_log_order() -> None:
    """A household at the first stage twice (turned back, came again) counts from its first
    visit: the first in the log, whatever the times."""
    hh = np.array([3, 1, 3, 0, 1])
    arrive = np.array([5.0, 2.0, 1.0, 7.0, 0.5])
    got = _first_arrivals(hh, arrive, 5)
    np.testing.assert_array_equal(got, [7.0, 2.0, np.nan, 5.0, np.nan])
    once = _first_arrivals(hh[:4][[0, 1, 3]], arrive[[0, 1, 3]], 5)  # nobody twice
    np.testing.assert_array_equal(once, [7.0, 2.0, np.nan, 5.0, np.nan])


def test_day_of_is_floor_division_by_24() -> None:
    """Exactly ``(hours // 24).astype(int64)``, on whole days, the floats on either side of
    them (where a rounded quotient lands on the next day), whole hours and negatives."""
    rng = np.random.default_rng(9)
    days = 24.0 * rng.integers(-3, 400, 2000)
    hours = np.concatenate([
        days, np.nextafter(days, -np.inf), np.nextafter(days, np.inf),
        np.round(rng.uniform(-50, 9000, 2000)), rng.uniform(0, 9000, 2000),
        24.0 * 2.0 ** np.arange(40) - 1e-9,
    ])  # fmt: skip
    # in order from 0 on, over fewer days than times: cut at midnights (some days empty)
    in_order = np.sort(hours[(hours >= 0) & (hours < 9000)])
    gaps = np.sort(np.r_[np.repeat(24.0 * np.array([3, 9, 40]), 20), 24.0 * 9 - 1e-9])
    for times in (hours, in_order, in_order[in_order > 500], gaps, hours[:1], hours[:0]):
        np.testing.assert_array_equal(day_of(times), (times // 24).astype(np.int64))
        assert day_of(times).dtype == np.int64


def test_daily_busy_mean_is_each_days_exact_hours_in_progress() -> None:
    """Intervals within a day, over many days, zero-length, on day bounds, running past the
    end or starting after it: each day's mean is the exactly rounded sum (math.fsum) of the
    hours each interval spends in the day, over 24, to a few ulps; and the step function's
    time-weighted mean (:func:`daily_means_maxes`, whose running area loses ~1e-12 of small
    days to cancellation) to 1e-9 absolute."""
    rng = np.random.default_rng(12)
    days = 30
    start = np.concatenate([rng.uniform(0, 24 * days, 3000), 24.0 * rng.integers(0, days, 200)])
    length = np.where(rng.random(len(start)) < 0.8, rng.exponential(3, len(start)), 0.0)
    length[::17] = rng.uniform(24, 24 * 6, len(length[::17]))
    start[::31] = 24.0 * days + rng.uniform(0, 5, len(start[::31]))  # after the end: ignored
    leave = start + length
    leave[::23] = np.round(leave[::23] / 24) * 24  # ending on a day bound
    leave = np.maximum(leave, start)
    got = daily_busy_mean(start, leave, days)
    clipped = np.minimum(leave, 24.0 * days)
    want = [
        math.fsum(np.clip(clipped, 24 * d, 24 * d + 24) - np.clip(start, 24 * d, 24 * d + 24)) / 24
        for d in range(days)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    ones = np.ones(len(start))
    times, (level,) = down_up_levels(leave, start, [(ones, ones)], 24.0 * days)
    (mean,), _ = daily_means_maxes(times, [level], days, peaks=False)
    np.testing.assert_allclose(got, mean, rtol=0, atol=1e-9)


def test_waits_quantile_is_np_quantile_of_all_values() -> None:
    """Mostly zeros, some negatives and ties, only zeros, one value, none."""
    rng = np.random.default_rng(13)
    values = np.round(rng.exponential(3.0, 3000), 1)
    values[rng.random(len(values)) < 0.6] = 0.0
    values[rng.random(len(values)) < 0.05] *= -1
    cases = [values, values[:7], np.zeros(5), np.array([2.5]), -values[values != 0]]
    for case in cases:
        for q in (0.0, 0.05, 0.5, 0.95, 1.0):
            assert Waits(case).quantile(q) == np.quantile(case, q), (len(case), q)
    assert Waits(np.zeros(0)).quantile(0.95) == 0.0


def test_daily_busy_mean_keeps_an_interval_without_end_busy_to_the_end() -> None:
    """A NaN or infinite ``leave`` never falls: busy to the end, as the step function."""
    start, leave = np.array([30.0, 40.0, 50.0]), np.array([np.nan, np.inf, 60.0])
    hours = [0.0, (48 - 30) + (48 - 40), 24 + 24 + (60 - 50)]  # days 0, 1, 2
    np.testing.assert_allclose(daily_busy_mean(start, leave, 3), np.array(hours) / 24)


def test_visit_outcomes_count_overnight_waits_over_every_visit() -> None:
    """Persons queued overnight and unserved at the end: the plain per-visit computation over
    every visit of each stage (waits to the end for those never served)."""
    scenario = load_scenario(ROOT / "scenarios" / "torkham_2025_acc.yaml",
                             ["calendar.end=2025-04-10"])  # fmt: skip
    raw = run_model(scenario, 5)
    got = visit_outcomes(raw).set_index(["outcome", "crossing", "stage"])["value"]
    horizon, checked = scenario.horizon_hours, 0
    for (crossing, stage), log in raw.stage_logs.items():
        size = raw.sizes[log["hh"]]
        end_wait = np.minimum(log["start"], horizon)
        overnight = np.floor(end_wait / 24) > np.floor(log["arrive"] / 24)
        unserved = log["kind"] == UNSERVED
        assert got["persons_queued_overnight", crossing, stage] == size[overnight].sum()
        assert got["persons_unserved_at_end", crossing, stage] == size[unserved].sum()
        checked += int(size[overnight].sum() > 0)
    assert checked > 0


def test_a_short_wait_across_a_midnight_is_overnight_and_a_long_one_within_a_day_is_not() -> None:
    """Overnight is about the calendar, not the length of the wait: 23:30 to 00:30 (1 h) is
    overnight, 01:00 to 23:00 (22 h) is not, a household served on arrival never is, and one
    still waiting at the end waited overnight if the end is on a later day."""
    arrive = np.array([23.5, 1.0, 23.9, 47.0])
    start = np.array([24.5, 23.0, 23.9, np.inf])
    end_wait = np.minimum(start, 72.0)  # a three-day calendar
    log = {"arrive": arrive, "start": start}
    np.testing.assert_array_equal(_overnight(log, end_wait), [0, 3])


def test_stocks_ignore_flows_from_the_end_on() -> None:
    """Flows at or after the end of the calendar move no stock and no arrest."""
    scenario = load_scenario(ROOT / "scenarios" / "torkham_2025_acc.yaml",
                             ["calendar.end=2025-04-10"])  # fmt: skip
    raw = run_model(scenario, 6)
    before = stocks(raw)
    f, late = raw.flows, scenario.horizon_hours + np.array([0.0, 5.0])
    arrest = {"time": late, "group": f["group"][:2], "src": np.full(2, IN_PAKISTAN, np.int8),
              "dst": np.full(2, DETAINED, np.int8), "persons": np.array([7, 9])}  # fmt: skip
    raw.flows = {name: np.concatenate([column, arrest[name].astype(column.dtype)])
                 for name, column in f.items()}  # fmt: skip
    pd.testing.assert_frame_equal(stocks(raw), before, check_exact=True)


def test_day_of_later_is_the_day_of_each_time() -> None:
    """From the earlier times' days, whether the later times share them (most), run past
    midnights, end on one exactly, or (not in a log) come before their earlier time."""
    rng = np.random.default_rng(14)
    earlier = np.sort(rng.uniform(0, 2000, 3000))
    hours = earlier + np.where(rng.random(3000) < 0.8, rng.exponential(2, 3000), 0.0)
    hours[::7] += rng.uniform(0, 100, len(hours[::7]))
    hours[::11] = np.ceil(hours[::11] / 24) * 24
    hours[::13] -= 30.0
    for e in (earlier, rng.permutation(earlier)):
        h = hours if e is earlier else e + (hours - earlier)
        np.testing.assert_array_equal(day_of_later(h, e), (h // 24).astype(np.int64))


def test_service_totals_of_households_served_twice_at_a_stage() -> None:
    """A household served twice at the second stage (and some only at later stages): the
    pandas groupby sums, which the per-stage path cannot give."""
    rng = np.random.default_rng(15)
    logs = []
    for stage in range(3):
        hh = rng.permutation(400)[:300]
        if stage == 1:
            hh[5] = hh[4]  # a repeat
        start = rng.random(300) * 100
        hours = rng.random(300) * 10.0 ** rng.integers(-8, 4, 300)
        logs.append({"hh": hh, "start": start, "end": start + hours, "kind": np.zeros(300)})
    parts = [pd.Series(log["end"] - log["start"], index=log["hh"]) for log in logs]
    expected = pd.concat(parts).groupby(level=0).sum().reindex(np.arange(450)).to_numpy()
    np.testing.assert_array_equal(_service_totals(logs, 450), expected)
