"""From one replication's raw records to tidy (long-format) pandas frames.

Queue lengths are exact step functions built from each visit's arrival and service-start times,
so daily means are time-weighted integrals, not samples.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from simulation.engine.records import MODES, RENEGED, SERVED, STATES, UNSERVED, RawRun
from simulation.outputs.groups import run_quantile, runs, text_ranks


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


def queue_levels(
    log: dict[str, np.ndarray], size: np.ndarray, horizon: float
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The waiting line as a step function: change times before ``horizon`` and the level after
    each, in households and in persons. Both units change at the same instants with the same
    sign, so one sort (decreases first at ties) serves both."""
    left = log["kind"] != UNSERVED
    times = np.concatenate([log["arrive"], log["start"][left]])
    sign = np.concatenate([np.ones(len(size)), -np.ones(int(left.sum()))])
    persons = sign * np.concatenate([size, size[left]])
    keep = times < horizon
    times, sign, persons = times[keep], sign[keep], persons[keep]
    order = _ties_down_first(times, sign)
    levels = {"households": np.cumsum(sign[order]), "persons": np.cumsum(persons[order])}
    return times[order], levels


def daily_mean_max(
    times: np.ndarray, levels: np.ndarray, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Time-weighted mean and maximum of a step function over each 24-hour day."""
    bounds = 24.0 * np.arange(days + 1)
    t = np.concatenate([[0.0], times])
    lv = np.concatenate([[0.0], levels])
    area = np.concatenate([[0.0], np.cumsum(lv[:-1] * np.diff(t))])
    j = np.searchsorted(t, bounds, side="right") - 1
    area_at = area[j] + lv[j] * (bounds - t[j])
    mean = np.diff(area_at) / 24.0
    start_level = lv[j[:-1]]
    peak = start_level.astype(float)
    if len(times):  # times are sorted: each day's changes are one run (np.maximum.at, faster)
        first = np.searchsorted(times, bounds[:-1], side="left")
        changed = first < np.r_[first[1:], len(times)]
        peak[changed] = np.maximum(peak[changed], np.maximum.reduceat(levels, first[changed]))
    return mean, peak


def level_at(times: np.ndarray, levels: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Level of a step function just after each instant in ``at``."""
    lv = np.concatenate([[0.0], levels])
    return lv[np.searchsorted(times, at, side="right")]


def _dates(raw: RawRun, days: np.ndarray) -> pd.DatetimeIndex:
    start = pd.Timestamp(raw.scenario.calendar.start)
    return start + pd.to_timedelta(days, unit="D")


def _stage_daily(raw: RawRun, crossing: str, stage: str) -> pd.DataFrame:
    log, days, horizon = (
        raw.stage_logs[(crossing, stage)],
        raw.scenario.days,
        raw.scenario.horizon_hours,
    )
    size = raw.sizes[log["hh"]].astype(float)
    served = log["kind"] == SERVED
    cols: dict[str, np.ndarray] = {}
    times, levels = queue_levels(log, size, horizon)
    arrive_day = (log["arrive"] // 24).astype(np.int64)
    done = served & (log["leave"] < horizon)
    leave_day = (log["leave"][done] // 24).astype(np.int64)
    for unit, weight in (("households", np.ones_like(size)), ("persons", size)):
        mean, peak = daily_mean_max(times, levels[unit], days)
        cols[f"queue_mean_{unit}"], cols[f"queue_max_{unit}"] = mean, peak
        cols[f"arrivals_{unit}"] = np.bincount(arrive_day, weight, minlength=days)[:days]
        cols[f"completions_{unit}"] = np.bincount(leave_day, weight[done], minlength=days)[:days]
    t = np.concatenate([log["start"][served], log["leave"][served]])
    ones = np.ones(int(served.sum()))
    cols["in_service_mean_households"] = daily_mean_max(
        *step_function(t, np.concatenate([ones, -ones]), horizon), days
    )[0]
    reneged = log["kind"] == RENEGED
    cols["diverted_households"] = np.bincount(
        (log["start"][reneged] // 24).astype(np.int64), minlength=days
    )[:days]
    frame = pd.DataFrame({"day": np.arange(days), **cols})
    waits = _wait_stats(log, served, horizon)
    frame = frame.merge(waits, on="day", how="left")
    frame.insert(1, "crossing", crossing)
    frame.insert(2, "stage", stage)
    return frame


def _wait_stats(log: dict[str, np.ndarray], served: np.ndarray, horizon: float) -> pd.DataFrame:
    """Mean, median and 95th percentile wait (hours) of households starting service each day."""
    start = log["start"][served]
    keep = start < horizon
    wait = (start - log["arrive"][served])[keep]
    day = (start[keep] // 24).astype(np.int64)
    grouped = pd.Series(wait).groupby(day)
    return (
        pd.DataFrame(
            {
                "wait_mean_hours": grouped.mean(),
                "wait_p50_hours": grouped.quantile(0.5),
                "wait_p95_hours": grouped.quantile(0.95),
            }
        )
        .rename_axis("day")
        .reset_index()
    )


DAILY_STAGE_COLUMNS = [
    "date", "crossing", "stage",
    "arrivals_households", "arrivals_persons", "completions_households", "completions_persons",
    "queue_mean_households", "queue_max_households", "queue_mean_persons", "queue_max_persons",
    "in_service_mean_households", "wait_mean_hours", "wait_p50_hours", "wait_p95_hours",
    "diverted_households",
]  # fmt: skip


def daily_stage(raw: RawRun) -> pd.DataFrame:
    """Per day, crossing and stage: arrivals, completions, queue, in service, waits."""
    frames = [_stage_daily(raw, c, s) for (c, s) in raw.stage_logs]
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "date", _dates(raw, frame.pop("day").to_numpy()))
    return frame[DAILY_STAGE_COLUMNS]


def hourly_queue(raw: RawRun) -> pd.DataFrame:
    """Queue (households and persons) at the top of every hour, per crossing and stage."""
    hours = np.arange(0.0, raw.scenario.horizon_hours, 1.0)
    start = pd.Timestamp(raw.scenario.calendar.start)
    frames = []
    for (crossing, stage), log in raw.stage_logs.items():
        size = raw.sizes[log["hh"]].astype(float)
        times, levels = queue_levels(log, size, raw.scenario.horizon_hours)
        cols = {f"queue_{unit}": level_at(times, lv, hours) for unit, lv in levels.items()}
        frames.append(
            pd.DataFrame(
                {
                    "time": start + pd.to_timedelta(hours, unit="h"),
                    "crossing": crossing,
                    "stage": stage,
                    **cols,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def returns(raw: RawRun) -> pd.DataFrame:
    """Households and persons completing a crossing, per day, crossing, group and mode."""
    ex = raw.exits
    hh = ex["hh"]
    if len(hh) == 0:
        return _no_returns(raw)
    names = (list(raw.scenario.crossings), raw.scenario.group_names, list(MODES))
    codes = (ex["crossing"].astype(np.int64), raw.group[hh], raw.mode[hh])
    # groupby's order: by day, then by the names (sorted as text) of crossing, group and mode
    ranks = [
        np.argsort(np.argsort(np.array(n), kind="stable"))[c]
        for n, c in zip(names, codes, strict=True)
    ]
    key = (ex["time"] // 24).astype(np.int64)
    for rank, n in zip(ranks, names, strict=True):
        key = key * len(n) + rank
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    households = np.diff(np.r_[first, len(key)])
    persons = np.add.reduceat(raw.sizes[hh][order], first)
    rows = order[first]
    day = (ex["time"][rows] // 24).astype(np.int64)
    crossing, group, mode = (c[rows] for c in codes)
    return _returns_frame(raw, day, crossing, group, mode, households, persons)


def _returns_frame(
    raw: RawRun,
    day: np.ndarray,
    crossing: np.ndarray,
    group: np.ndarray,
    mode: np.ndarray,
    households: np.ndarray,
    persons: np.ndarray,
) -> pd.DataFrame:
    """The returns frame from one row per (day, crossing, group, mode), codes for the names."""
    frame = pd.DataFrame(
        {
            "day": day,
            "crossing": np.array(list(raw.scenario.crossings), dtype=str)[crossing],
            "group": np.array(raw.scenario.group_names, dtype=str)[group],
            "mode": np.array(MODES, dtype=str)[mode],
            "households": households.astype(np.int64),
            "persons": persons.astype(np.int64),
        }
    )
    frame.insert(0, "date", _dates(raw, frame.pop("day").to_numpy()))
    return frame


def _no_returns(raw: RawRun) -> pd.DataFrame:
    """The returns frame of a run in which nobody crossed (as pandas groups no rows)."""
    empty = np.array([], dtype=str)
    frame = pd.DataFrame(
        {"day": np.zeros(0, dtype=np.int64), "crossing": empty, "group": empty, "mode": empty,
         "households": 1, "persons": raw.sizes[:0]}
    )  # fmt: skip
    frame = frame.groupby(["day", "crossing", "group", "mode"], as_index=False)[
        ["households", "persons"]
    ].sum()
    frame.insert(0, "date", _dates(raw, frame.pop("day").to_numpy()))
    return frame


def stocks(raw: RawRun) -> pd.DataFrame:
    """Persons of each population group in each state at the end of every day."""
    days, names = raw.scenario.days, list(raw.scenario.populations)
    f = raw.flows
    keep = f["time"] < raw.scenario.horizon_hours
    day = (f["time"][keep] // 24).astype(np.int64)
    rows = []
    for gi, group in enumerate(names):
        net = np.zeros((days, len(STATES)), dtype=np.int64)
        mine = f["group"][keep] == gi
        p = f["persons"][keep][mine]
        cells = days * len(STATES)  # np.add.at, as exact integer sums in float64 (faster)
        left = np.bincount(day[mine] * len(STATES) + f["src"][keep][mine], p, minlength=cells)
        came = np.bincount(day[mine] * len(STATES) + f["dst"][keep][mine], p, minlength=cells)
        net += (came - left).astype(np.int64).reshape(days, len(STATES))
        initial = np.array([raw.initial[group].get(s, 0) for s in range(len(STATES))])
        level = initial + np.cumsum(net, axis=0)
        frame = pd.DataFrame(level, columns=list(STATES))
        frame.insert(0, "group", group)
        frame.insert(0, "day", np.arange(days))
        rows.append(frame)
    if not rows:
        return pd.DataFrame(columns=["date", "group", *STATES])
    out = pd.concat(rows, ignore_index=True)
    out.insert(0, "date", _dates(raw, out.pop("day").to_numpy()))
    return out


def visit_outcomes(raw: RawRun) -> pd.DataFrame:
    """Per-replication outcomes that need every visit: p95 wait, overnight queueing, stranding."""
    rows: list[dict[str, object]] = []
    horizon = raw.scenario.horizon_hours
    for (crossing, stage), log in raw.stage_logs.items():
        size = raw.sizes[log["hh"]]
        served = (log["kind"] == SERVED) & (log["start"] < horizon)
        wait = log["start"] - log["arrive"]
        p95 = float(np.quantile(wait[served], 0.95)) if served.any() else 0.0
        end_wait = np.minimum(log["start"], horizon)
        overnight = np.floor(end_wait / 24) > np.floor(log["arrive"] / 24)
        mean_wait = float(wait[served].mean()) if served.any() else 0.0
        rows += [
            _row("mean_wait_hours", mean_wait, crossing, stage),
            _row("p95_wait_hours", p95, crossing, stage),
            _row("persons_queued_overnight", float(size[overnight].sum()), crossing, stage),
            _row(
                "persons_unserved_at_end",
                float(size[log["kind"] == UNSERVED].sum()),
                crossing,
                stage,
            ),
        ]
        if stage == next(s for c, s in raw.stage_logs if c == crossing):
            stranded = np.zeros(len(size), dtype=bool)
            for lo, hi in raw.closures[crossing]:
                stranded |= (log["arrive"] < hi) & (end_wait > lo)
            rows.append(_row("persons_stranded_by_closures", float(size[stranded].sum()), crossing))
    for crossing in raw.scenario.crossings:
        waits = end_to_end_waits(raw, crossing)
        mean = float(waits.mean()) if len(waits) else 0.0
        p95 = float(np.quantile(waits, 0.95)) if len(waits) else 0.0
        rows += [
            _row("mean_end_to_end_wait_hours", mean, crossing),
            _row("p95_end_to_end_wait_hours", p95, crossing),
        ]
    return pd.DataFrame(rows)


def end_to_end_waits(raw: RawRun, crossing: str) -> np.ndarray:
    """Hours each household that crossed ``crossing`` within the calendar spent there not
    being served: from joining the first stage to leaving the last, less its service times.

    This counts queueing at every stage and time held at a server while the next stage's
    waiting area is full, so a waiting limit that moves the wait upstream does not hide it.
    """
    names = list(raw.scenario.crossings)
    out = raw.exits["crossing"] == names.index(crossing)
    exit_hh, exit_time = raw.exits["hh"][out], raw.exits["time"][out]
    logs = [log for (c, _), log in raw.stage_logs.items() if c == crossing]
    if len(exit_hh) == 0 or not logs:
        return np.zeros(0)
    first = logs[0]
    joined = first["kind"] == SERVED
    size = len(raw.sizes)
    hh = first["hh"][joined]
    order = np.argsort(hh, kind="stable")  # a household's first visit: first in its run
    lead = order[np.r_[True, hh[order][1:] != hh[order][:-1]]] if len(hh) else order
    arrive = np.full(size, np.nan)
    arrive[hh[lead]] = first["arrive"][joined][lead]
    service = _service_totals(logs, size)
    total = exit_time - arrive[exit_hh]
    return np.asarray(total - service[exit_hh], dtype=float)


def _service_totals(logs: list[dict[str, np.ndarray]], size: int) -> np.ndarray:
    """Each household's total service hours over the stages ``logs`` (NaN if served at none):
    what ``groupby(household).sum()`` gives, the same compensated (Kahan) sums in the same
    order, one stage at a time for all households at once."""
    total, compensation = np.zeros(size), np.zeros(size)
    seen = np.zeros(size, dtype=bool)
    for log in logs:
        ok = log["kind"] == SERVED
        hh = log["hh"][ok]
        if len(hh) and np.bincount(hh).max() > 1:  # served twice at a stage: the plain way
            return _service_totals_grouped(logs, size)
        y = (log["end"][ok] - log["start"][ok]) - compensation[hh]
        t = total[hh] + y
        compensation[hh] = (t - total[hh]) - y
        total[hh] = t
        seen[hh] = True
    return np.where(seen, total, np.nan)


def _service_totals_grouped(logs: list[dict[str, np.ndarray]], size: int) -> np.ndarray:
    parts = []
    for log in logs:
        ok = log["kind"] == SERVED
        parts.append(pd.Series(log["end"][ok] - log["start"][ok], index=log["hh"][ok]))
    service = pd.concat(parts).groupby(level=0).sum()
    return service.reindex(np.arange(size)).to_numpy()


def _row(outcome: str, value: float, crossing: str = "", stage: str = "") -> dict[str, object]:
    return {
        "outcome": outcome,
        "crossing": crossing,
        "stage": stage,
        "group": "",
        "mode": "",
        "value": value,
    }


def as_date(start: dt.date, days: float) -> dt.date:
    """Calendar date ``days`` after ``start`` (fractional days truncated)."""
    return start + dt.timedelta(days=int(days))


WHO_WAITS_KEYS = ["crossing", "stage", "group", "mode", "vulnerable"]


def who_waits(raw: RawRun) -> pd.DataFrame:
    """Waits by who waits: per crossing, stage, group, mode (voluntary, deported, direct) and
    vulnerability, the households and persons starting service within the calendar and their
    mean and 95th-percentile wait (hours). Priority shows here: deportees or vulnerable
    families served first wait less, and the others wait more.

    Rows are sorted by the names as text (as a groupby on them would): each visit gets one
    integer key, so grouping needs no per-row text and no Python call per group."""
    stages = list(raw.stage_logs)
    crossings = list(dict.fromkeys(c for c, _ in stages))
    stage_names = list(dict.fromkeys(s for _, s in stages))
    groups, modes = raw.scenario.group_names, list(MODES)
    vulnerable = raw.vulnerable if raw.vulnerable is not None else np.zeros(len(raw.sizes), bool)
    c_rank, s_rank = text_ranks(crossings), text_ranks(stage_names)
    g_rank, m_rank = text_ranks(groups), text_ranks(modes)
    where, hhs, waits = [], [], []
    for (crossing, stage), log in raw.stage_logs.items():
        ok = (log["kind"] == SERVED) & (log["start"] < raw.scenario.horizon_hours)
        rank = (
            c_rank[crossings.index(crossing)] * len(stage_names) + s_rank[stage_names.index(stage)]
        )
        where.append(np.full(int(ok.sum()), rank, dtype=np.int64))
        hhs.append(log["hh"][ok])
        waits.append((log["start"] - log["arrive"])[ok])
    hh, wait = np.concatenate(hhs), np.concatenate(waits)
    key = (np.concatenate(where) * len(groups) + g_rank[raw.group[hh]]) * len(modes)
    key = (key + m_rank[raw.mode[hh]]) * 2 + vulnerable[hh]
    return _who_waits_frame(raw, key, hh, wait, (crossings, stage_names, groups, modes))


def _who_waits_frame(
    raw: RawRun,
    key: np.ndarray,
    hh: np.ndarray,
    wait: np.ndarray,
    names: tuple[list[str], list[str], list[str], list[str]],
) -> pd.DataFrame:
    """The who-waits rows from each served visit's sort ``key`` (ranks of crossing, stage,
    group, mode as text, then vulnerability), household and wait."""
    order = np.lexsort((wait, key))  # by key, waits ascending within each (for quantiles)
    first, count = runs(key[order])
    rows = order[first]
    persons = np.add.reduceat(raw.sizes[hh][order], first) if len(first) else raw.sizes[:0]
    # the mean as pandas makes it (compensated sums in visit order), on one integer key
    mean = pd.Series(wait).groupby(key, sort=True).mean().to_numpy()
    labels = []
    for values, rank in zip(names, (text_ranks(n) for n in names), strict=True):
        labels.append(np.array(values, dtype=str)[np.argsort(rank)])
    k = key[rows] // 2
    mode, k = k % len(names[3]), k // len(names[3])
    group, k = k % len(names[2]), k // len(names[2])
    stage, crossing = k % len(names[1]), k // len(names[1])
    frame = pd.DataFrame({
        "crossing": labels[0][crossing], "stage": labels[1][stage], "group": labels[2][group],
        "mode": labels[3][mode], "vulnerable": (key[rows] % 2).astype(bool),
        "households": count.astype(np.int64), "persons": persons,
        "mean_wait_hours": mean, "p95_wait_hours": run_quantile(wait[order], first, count, 0.95),
    })  # fmt: skip
    return frame
