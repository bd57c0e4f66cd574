"""Queues as exact step functions, and the frames built from them: ``daily_stage`` and
``hourly_queue``.

A stage's waiting line rises at each arrival and falls at each service start (decreases first
at ties), so daily means are time-weighted integrals, not samples. Both frames read the same
step function; :func:`daily_stage` builds it once per stage and leaves the hourly levels for
:func:`hourly_queue` in ``RawRun.shared``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from simulation.engine.records import APPROACH, RENEGED, SERVED, UNSERVED, RawRun
from simulation.outputs.groups import KeyedValues, Waits

HOURLY = "hourly_queue"  # the key of the hourly levels in RawRun.shared
WAITS = "stage_waits"  # the key of each stage's sorted waits in RawRun.shared


def day_of(hours: np.ndarray) -> np.ndarray:
    """The day (int64) of each time in ``hours``: ``(hours // 24).astype(np.int64)`` exactly,
    twice as fast. The correctly rounded quotient is never below the true one's floor and
    at most rounds up onto the next whole day, which the check ``day * 24 > hours`` undoes.
    Times already in order (most logs are), from 0 on, are cut at each midnight instead."""
    few_days = len(hours) > 1 and hours[0] >= 0.0 and hours[-1] < 24.0 * len(hours)
    if few_days and bool((hours[1:] >= hours[:-1]).all()):
        return _sorted_day_of(hours)
    quotient = hours / 24.0
    np.floor(quotient, out=quotient)
    day = quotient.astype(np.int64)
    day -= day * 24.0 > hours
    return day


def day_of_later(hours: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """:func:`day_of` of ``hours`` given times ``earlier`` (one each, in order more often,
    mostly on the same day: service starts for their ends): the earlier times' days,
    corrected where a time falls outside its earlier time's day."""
    day = day_of(earlier)
    midnight = 24.0 * day
    moved = np.flatnonzero((hours >= midnight + 24.0) | (hours < midnight))
    day[moved] = day_of(hours[moved])
    return day


def _sorted_day_of(hours: np.ndarray) -> np.ndarray:
    """:func:`day_of` of ascending ``hours`` from 0 to fewer days than times: each day's times
    are the run from the first at or after its midnight (np.searchsorted), repeated as a run."""
    first, last = (int(hours[i] // 24) for i in (0, -1))
    midnights = 24.0 * np.arange(first + 1, last + 1)
    starts = np.searchsorted(hours, midnights, side="left")
    counts = np.diff(np.concatenate([[0], starts, [len(hours)]]))
    return np.repeat(np.arange(first, last + 1, dtype=np.int64), counts)


def step_function(
    times: np.ndarray, deltas: np.ndarray, horizon: float
) -> tuple[np.ndarray, np.ndarray]:
    """Sort +/- changes (decreases first at ties) into event times and the level after each."""
    keep = times < horizon
    times, deltas = times[keep], deltas[keep]
    order = _ties_down_first(times, deltas)
    return times[order], np.cumsum(deltas[order])


def _ties_down_first(times: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """``np.lexsort((sign, times))`` for signs of +/-1: by time, decreases first at ties, else
    in the given order. One stable sort of the decreases placed first does it (about twice
    as fast as sorting twice)."""
    down = sign < 0
    first = np.concatenate([np.flatnonzero(down), np.flatnonzero(~down)])
    return first[np.argsort(times[first], kind="stable")]


def down_up_levels(
    down: np.ndarray, up: np.ndarray, amounts: list[tuple[np.ndarray, np.ndarray]], horizon: float
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Step functions falling at the times ``down`` and rising at ``up`` (changes from
    ``horizon`` on dropped): the sorted change times and, for each (fall, rise) pair of
    amounts, the level after each change. As :func:`step_function` of the concatenated
    changes (decreases first at ties, else in the given order), with the decreases already
    in front, so one stable sort of the times does it."""
    falls, rises = down < horizon, up < horizon
    times = np.concatenate([down[falls], up[rises]])
    order = np.argsort(times, kind="stable")
    changes = [np.concatenate([-fall[falls], rise[rises]]) for fall, rise in amounts]
    levels = [np.cumsum(change[order]) for change in changes]
    return times[order], levels


def queue_levels(
    log: dict[str, np.ndarray], size: np.ndarray, horizon: float
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The waiting line as a step function: change times before ``horizon`` and the level after
    each, in households and in persons (one sort serves both).

    Visits served on arrival (most of them) are left out: their fall and rise at one instant
    (falls first) leave every level between two changes, each hourly level and each day's
    maximum as they were; the daily means sum the same areas in fewer terms (equal on the
    shipped scenarios; at most rounding apart in general)."""
    waited = log["start"] != log["arrive"]  # a visit served on arrival changes no level
    left = (log["kind"] != UNSERVED)[waited]
    arrive, start, size = log["arrive"][waited], log["start"][waited], size[waited]
    ones = np.ones(len(size))
    times, (households, persons) = down_up_levels(
        start[left], arrive, [(ones[left], ones), (size[left], size)], horizon
    )
    return times, {"households": households, "persons": persons}


def waiting_area(
    raw: RawRun, crossing: str, stage: str, log: dict[str, np.ndarray], size: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The visits whose :func:`queue_levels` are the stage's waiting area: ``log`` itself,
    except at a first stage with a road (an APPROACH log), whose visits count from their
    arrival at the crossing: there, each household's time on the road is taken off (its road
    visit enters with its times swapped: -1 on reaching the road, +1 on leaving it)."""
    road = raw.stage_logs.get((crossing, APPROACH))
    if road is None or stage != next(iter(raw.scenario.crossings[crossing].stages)):
        return log, size
    swapped = {
        "arrive": np.concatenate([log["arrive"], road["start"]]),
        "start": np.concatenate([log["start"], road["arrive"]]),
        "kind": np.concatenate([log["kind"], np.full(len(road["kind"]), SERVED, np.int8)]),
    }
    return swapped, np.concatenate([size, raw.sizes[road["hh"]].astype(float)])


def daily_mean_max(
    times: np.ndarray, levels: np.ndarray, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Time-weighted mean and maximum of a step function over each 24-hour day."""
    (mean,), (peak,) = daily_means_maxes(times, [levels], days)
    return mean, peak


def daily_means_maxes(
    times: np.ndarray, levels: list[np.ndarray], days: int, peaks: bool = True
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """:func:`daily_mean_max` of step functions changing at the same ``times`` (the work on
    the times done once); no maxima when ``peaks`` is false."""
    bounds = 24.0 * np.arange(days + 1)
    t = np.concatenate([[0.0], times])
    dt = np.diff(t)
    j = np.searchsorted(t, bounds, side="right") - 1
    since = bounds - t[j]
    if peaks and len(times):  # times are sorted: each day's changes are one run
        first = np.searchsorted(times, bounds[:-1], side="left")
        changed = first < np.r_[first[1:], len(times)]
    means, maxes = [], []
    for level in levels:
        lv = np.concatenate([[0.0], level])
        area = np.concatenate([[0.0], np.cumsum(lv[:-1] * dt)])
        means.append(np.diff(area[j] + lv[j] * since) / 24.0)
        if peaks:
            peak = lv[j[:-1]].astype(float)
            if len(times):  # np.maximum.reduceat: faster than np.maximum.at
                peak[changed] = np.maximum(
                    peak[changed], np.maximum.reduceat(level, first[changed])
                )
            maxes.append(peak)
    return means, maxes


def daily_busy_mean(start: np.ndarray, leave: np.ndarray, days: int) -> np.ndarray:
    """Mean number of intervals ``[start, leave)`` (hours) in progress over each 24-hour day:
    each interval's hours within each day it touches, summed per day (np.bincount), with no
    sort. As :func:`daily_means_maxes` of the step function rising at ``start`` and falling
    at ``leave`` (changes from ``24 * days`` on dropped, as are a NaN ``leave``'s), to
    rounding: the same hours summed day by day, where that function's running area over the
    whole calendar loses up to ~1e-11 h of a day's to cancellation. Most intervals end on
    the day they start: only the others' last days are looked for."""
    end_hours = 24.0 * days
    on = start < end_hours
    start, leave = start[on], np.fmin(leave[on], end_hours)
    first = day_of(start)
    midnight = 24.0 * (first + 1)
    bins = days + 1  # a leave at the end falls on day ``days``: dropped at the end
    hours = np.bincount(first, np.fmin(leave, midnight) - start, minlength=bins)
    later = np.flatnonzero(leave > midnight)  # past the first midnight
    last, first = day_of(leave[later]), first[later]
    hours += np.bincount(last, leave[later] - 24.0 * last, minlength=bins)
    whole = np.cumsum(np.bincount(first + 1, minlength=bins + 1)[:bins])
    whole -= np.cumsum(np.bincount(last, minlength=bins))  # days strictly inside
    return (hours + 24.0 * whole)[:days] / 24.0


def level_at(times: np.ndarray, levels: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Level of a step function just after each instant in ``at``."""
    lv = np.concatenate([[0.0], levels])
    return lv[np.searchsorted(times, at, side="right")]


DAILY_STAGE_COLUMNS = [
    "date", "crossing", "stage",
    "arrivals_households", "arrivals_persons", "completions_households", "completions_persons",
    "queue_mean_households", "queue_max_households", "queue_mean_persons", "queue_max_persons",
    "in_service_mean_households", "wait_mean_hours", "wait_p50_hours", "wait_p95_hours",
    "diverted_households",
]  # fmt: skip


def daily_stage(raw: RawRun) -> pd.DataFrame:
    """Per day, crossing and stage: arrivals, completions, queue, in service, waits. Leaves
    each stage's queue at the top of every hour in ``raw.shared`` for :func:`hourly_queue`."""
    days, horizon = raw.scenario.days, raw.scenario.horizon_hours
    hours = np.arange(0.0, horizon, 1.0)
    columns: dict[str, list[np.ndarray]] = {}
    hourly = {}
    for key, log in raw.stage_logs.items():
        size = raw.sizes[log["hh"]].astype(float)
        times, levels = queue_levels(*waiting_area(raw, *key, log, size), horizon)
        hourly[key] = {unit: level_at(times, lv, hours) for unit, lv in levels.items()}
        waits = stage_waits(raw, key)
        stage = _stage_daily(log, size, times, levels, days, horizon, waits)
        for name, values in stage.items():
            columns.setdefault(name, []).append(values)
    raw.shared[HOURLY] = hourly
    stages = list(raw.stage_logs)
    frame = pd.DataFrame({
        "date": _dates(raw, np.tile(np.arange(days), len(stages))),
        "crossing": text_column([c for c, _ in stages], np.repeat(np.arange(len(stages)), days)),
        "stage": text_column([s for _, s in stages], np.repeat(np.arange(len(stages)), days)),
        **{name: np.concatenate(parts) for name, parts in columns.items()},
    })  # fmt: skip
    return frame[DAILY_STAGE_COLUMNS]


def _stage_daily(
    log: dict[str, np.ndarray],
    size: np.ndarray,
    times: np.ndarray,
    levels: dict[str, np.ndarray],
    days: int,
    horizon: float,
    waits: StageWaits,
) -> dict[str, np.ndarray]:
    """One stage's daily columns from its visits, its queue's step function and its waits."""
    served = log["kind"] == SERVED
    cols: dict[str, np.ndarray] = {}
    arrive_day = day_of(log["arrive"])
    done = served & (log["leave"] < horizon)
    leave_day = day_of_later(log["leave"][done], log["start"][done])
    means, peaks = daily_means_maxes(times, [levels["households"], levels["persons"]], days)
    for unit, mean, peak in zip(("households", "persons"), means, peaks, strict=True):
        cols[f"queue_mean_{unit}"], cols[f"queue_max_{unit}"] = mean, peak
    # households: counts (exact as floats, as the sums of ones they replace)
    cols["arrivals_households"] = np.bincount(arrive_day, minlength=days)[:days].astype(float)
    cols["arrivals_persons"] = np.bincount(arrive_day, size, minlength=days)[:days]
    cols["completions_households"] = np.bincount(leave_day, minlength=days)[:days].astype(float)
    cols["completions_persons"] = np.bincount(leave_day, size[done], minlength=days)[:days]
    cols["in_service_mean_households"] = daily_busy_mean(
        log["start"][served], log["leave"][served], days
    )
    reneged = log["kind"] == RENEGED
    cols["diverted_households"] = np.bincount(day_of(log["start"][reneged]), minlength=days)[:days]
    return cols | _wait_stats(log, waits, days)


def _wait_stats(log: dict[str, np.ndarray], waits: StageWaits, days: int) -> dict[str, np.ndarray]:
    """Mean, median and 95th percentile wait (hours) of households starting service each day
    (NaN on a day when nobody did): a pandas groupby by day's values; the quantiles from the
    stage's one sort of its non-zero waits (:class:`KeyedValues`) instead of one per day."""
    wait = waits.waits.values
    day = day_of(log["start"][waits.ok])
    cols = {name: np.full(days, np.nan) for name in WAIT_COLUMNS}
    if len(wait) == 0:
        return cols
    means = pd.Series(wait).groupby(day).mean()  # compensated sums, as pandas makes them
    cols["wait_mean_hours"][means.index.to_numpy(dtype=np.int64)] = means.to_numpy(dtype=float)
    by_day = KeyedValues(day, waits.waits, days)
    for name, q in (("wait_p50_hours", 0.5), ("wait_p95_hours", 0.95)):
        on, values = by_day.quantile(q, how="pandas")
        cols[name][on] = values
    return cols


@dataclass(frozen=True)
class StageWaits:
    """A stage's visits starting service within the calendar (``ok``, a mask of its log) and
    their waits, sorted once for the daily waits and who waits."""

    ok: np.ndarray
    waits: Waits


def stage_waits(raw: RawRun, key: tuple[str, str]) -> StageWaits:
    """The stage's :class:`StageWaits`, made once and kept in ``raw.shared`` (under
    :data:`WAITS`) until ``visit_outcomes``, the last to use them, takes them."""
    made = raw.shared.setdefault(WAITS, {})
    if key not in made:
        log = raw.stage_logs[key]
        ok = (log["kind"] == SERVED) & (log["start"] < raw.scenario.horizon_hours)
        made[key] = StageWaits(ok, Waits((log["start"] - log["arrive"])[ok]))
    return made[key]


WAIT_COLUMNS = ("wait_mean_hours", "wait_p50_hours", "wait_p95_hours")


def hourly_queue(raw: RawRun) -> pd.DataFrame:
    """Queue (households and persons) at the top of every hour, per crossing and stage."""
    hours = np.arange(0.0, raw.scenario.horizon_hours, 1.0)
    hourly = raw.shared.pop(HOURLY, None)
    if hourly is None:
        hourly = {}
        for key, log in raw.stage_logs.items():
            size = raw.sizes[log["hh"]].astype(float)
            area, weights = waiting_area(raw, *key, log, size)
            times, levels = queue_levels(area, weights, raw.scenario.horizon_hours)
            hourly[key] = {unit: level_at(times, lv, hours) for unit, lv in levels.items()}
    stages = list(raw.stage_logs)
    which = np.repeat(np.arange(len(stages)), len(hours))  # each row's stage
    start = pd.Timestamp(raw.scenario.calendar.start)
    return pd.DataFrame({
        "time": np.tile(start + pd.to_timedelta(hours, unit="h"), len(stages)),
        "crossing": text_column([c for c, _ in stages], which),
        "stage": text_column([s for _, s in stages], which),
        **{f"queue_{unit}": np.concatenate([hourly[k][unit] for k in stages])
           for unit in ("households", "persons")},
    })  # fmt: skip


def text_column(names: Sequence[str], codes: np.ndarray) -> ExtensionArray:
    """The text ``names[codes]`` as a frame's string column (pandas' ``str``), made from the
    few names and taken by code, not converted row by row (7x faster)."""
    return pd.array(np.array(names, dtype=str), dtype="str").take(codes)


def _dates(raw: RawRun, days: np.ndarray) -> pd.DatetimeIndex:
    start = pd.Timestamp(raw.scenario.calendar.start)
    return start + pd.to_timedelta(days, unit="D")
