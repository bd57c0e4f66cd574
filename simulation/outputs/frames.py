"""From one replication's raw records to tidy (long-format) pandas frames.

Queue lengths are exact step functions built from each visit's arrival and service-start times,
so daily means are time-weighted integrals, not samples (see :mod:`simulation.outputs.queues`,
whose frames and helpers are re-exported here).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from simulation.engine.records import (
    APPROACH,
    DETAINED,
    IN_PAKISTAN,
    MODES,
    SERVED,
    STATES,
    UNSERVED,
    RawRun,
)
from simulation.outputs.groups import KeyedValues, Waits, text_ranks
from simulation.outputs.queues import (  # noqa: F401  (re-exported: frames and helpers)
    WAITS,
    _dates,
    _ties_down_first,
    daily_mean_max,
    daily_stage,
    day_of,
    hourly_queue,
    level_at,
    stage_waits,
    step_function,
    text_column,
)


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
    key = day_of(ex["time"])
    for rank, n in zip(ranks, names, strict=True):
        key = key * len(n) + rank
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    households = np.diff(np.r_[first, len(key)])
    persons = np.add.reduceat(raw.sizes[hh][order], first)
    rows = order[first]
    day = day_of(ex["time"][rows])
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
            "crossing": text_column(list(raw.scenario.crossings), crossing),
            "group": text_column(raw.scenario.group_names, group),
            "mode": text_column(MODES, mode),
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
    """Persons of each population group in each state at the end of every day, and the
    persons of the group arrested that day (``arrested``).

    One pass over the flows for all groups: each flow adds its persons to a (group, day,
    state) cell, as exact integer sums in float64 (np.bincount, faster than np.add.at)."""
    days, names, n = raw.scenario.days, list(raw.scenario.populations), len(STATES)
    if not names:
        return pd.DataFrame(columns=["date", "group", *STATES, "arrested"])
    f = raw.flows
    keep = f["time"] < raw.scenario.horizon_hours
    if not keep.all():  # (usually none is later: no copies then)
        f = {name: column[keep] for name, column in f.items()}
    cell = f["group"].astype(np.int64) * days + day_of(f["time"])
    p, cells = f["persons"].astype(float), len(names) * days * n
    left = np.bincount(cell * n + f["src"], p, minlength=cells)
    came = np.bincount(cell * n + f["dst"], p, minlength=cells)
    net = (came - left).astype(np.int64).reshape(len(names), days, n)
    initial = np.array([[raw.initial[g].get(s, 0) for s in range(n)] for g in names])
    level = (initial[:, None, :] + np.cumsum(net, axis=1)).reshape(-1, n)
    frame = pd.DataFrame(level, columns=list(STATES))
    frame["arrested"] = _arrested(f, cell, len(names) * days)
    group = text_column(names, np.repeat(np.arange(len(names)), days))
    frame.insert(0, "group", pd.Series(group, index=frame.index))
    frame.insert(0, "date", _dates(raw, np.tile(np.arange(days), len(names))))
    return frame


def _arrested(f: dict[str, np.ndarray], cell: np.ndarray, cells: int) -> np.ndarray:
    """Persons arrested (moved from in Pakistan to detention) in each (group, day) ``cell``
    of the flows ``f`` (``cell`` is each flow's)."""
    arrests = (f["src"] == IN_PAKISTAN) & (f["dst"] == DETAINED)
    return np.bincount(cell[arrests], f["persons"][arrests], minlength=cells).astype(np.int64)


def visit_outcomes(raw: RawRun) -> pd.DataFrame:
    """Per-replication outcomes that need every visit: p95 wait, overnight queueing, stranding."""
    rows: list[dict[str, object]] = []
    horizon = raw.scenario.horizon_hours
    for (crossing, stage), log in raw.stage_logs.items():
        served = stage_waits(raw, (crossing, stage)).waits  # starting within the calendar
        wait, some = served.values, len(served.values) > 0
        end_wait = np.minimum(log["start"], horizon)
        rows += [
            _row("mean_wait_hours", float(wait.mean()) if some else 0.0, crossing, stage),
            _row("p95_wait_hours", served.quantile(0.95), crossing, stage),
            _row("persons_queued_overnight", _persons(raw, log, _overnight(log, end_wait)),
                 crossing, stage),
            _row("persons_unserved_at_end", _persons(raw, log, log["kind"] == UNSERVED),
                 crossing, stage),
        ]  # fmt: skip
        if stage == next(s for c, s in raw.stage_logs if c == crossing):
            stranded = np.zeros(len(end_wait), dtype=bool)
            for lo, hi in raw.closures[crossing]:
                stranded |= (log["arrive"] < hi) & (end_wait > lo)
            rows.append(
                _row("persons_stranded_by_closures", _persons(raw, log, stranded), crossing)
            )
    raw.shared.pop(WAITS, None)  # the last to use them
    for crossing in raw.scenario.crossings:
        waits = end_to_end_waits(raw, crossing)
        mean = float(waits.mean()) if len(waits) else 0.0
        p95 = float(np.quantile(waits, 0.95)) if len(waits) else 0.0
        rows += [
            _row("mean_end_to_end_wait_hours", mean, crossing),
            _row("p95_end_to_end_wait_hours", p95, crossing),
        ]
    return pd.DataFrame(rows)


def _overnight(log: dict[str, np.ndarray], end_wait: np.ndarray) -> np.ndarray:
    """The visits whose wait (to ``end_wait``) ran past a midnight. Only visits that waited
    (start != arrive) are looked at: one served on arrival ends its wait on its arrival's day
    (or at the end, on a later day than no arrival)."""
    waited = np.flatnonzero(log["start"] != log["arrive"])
    days_apart = np.floor(end_wait[waited] / 24) > np.floor(log["arrive"][waited] / 24)
    return waited[days_apart]


def _persons(raw: RawRun, log: dict[str, np.ndarray], visits: np.ndarray) -> float:
    """The persons of the households of the ``visits`` (a mask or indices) of ``log``."""
    return float(raw.sizes[log["hh"][visits]].sum())


def end_to_end_waits(raw: RawRun, crossing: str) -> np.ndarray:
    """Hours each household that crossed ``crossing`` within the calendar spent there not
    being served: from joining the first stage to leaving the last, less its service times.

    This counts queueing at every stage and time held at a server while the next stage's
    waiting area is full, so a waiting limit that moves the wait upstream does not hide it.
    """
    names = list(raw.scenario.crossings)
    out = raw.exits["crossing"] == names.index(crossing)
    exit_hh, exit_time = raw.exits["hh"][out], raw.exits["time"][out]
    logs = [log for (c, s), log in raw.stage_logs.items() if c == crossing and s != APPROACH]
    if len(exit_hh) == 0 or not logs:
        return np.zeros(0)
    first = logs[0]
    joined = first["kind"] == SERVED
    size = len(raw.sizes)
    arrive = _first_arrivals(first["hh"][joined], first["arrive"][joined], size)
    service = _service_totals(logs, size)
    total = exit_time - arrive[exit_hh]
    return np.asarray(total - service[exit_hh], dtype=float)


def _repeats(hh: np.ndarray, size: int) -> bool:
    """Whether a household (in ``range(size)``) occurs more than once in ``hh``: each writes
    its position, and a repeat finds another's (np.empty: no pass over all households)."""
    at, rows = np.empty(size, dtype=np.int64), np.arange(len(hh))
    at[hh] = rows
    return bool((at[hh] != rows).any())


def _first_arrivals(hh: np.ndarray, arrive: np.ndarray, size: int) -> np.ndarray:
    """Each household's arrival at its first visit among ``hh`` (NaN if none)."""
    first = np.full(size, np.nan)
    if _repeats(hh, size):  # some came twice: the first in log order
        order = np.argsort(hh, kind="stable")
        lead = order[np.r_[True, hh[order][1:] != hh[order][:-1]]]
        hh, arrive = hh[lead], arrive[lead]
    first[hh] = arrive
    return first


def _service_totals(logs: list[dict[str, np.ndarray]], size: int) -> np.ndarray:
    """Each household's total service hours over the stages ``logs`` (NaN if served at none):
    what ``groupby(household).sum()`` gives, the same compensated (Kahan) sums in the same
    order, one stage at a time for all households at once. At the first stage every sum
    is 0 with no compensation, so it takes the service time as it is (what the step gives).
    Each visit writes a number of its own (``visit``, counted over the stages) at its
    household: one that reads back another's was a repeat, and those never written (-1)
    were served at none."""
    total, compensation = np.zeros(size), np.zeros(size)
    visit, counted = np.full(size, -1, dtype=np.int64), 0
    for i, log in enumerate(logs):
        ok = log["kind"] == SERVED
        hh = log["hh"][ok]
        mine = np.arange(counted, counted + len(hh))
        visit[hh], counted = mine, counted + len(hh)
        if (visit[hh] != mine).any():  # served twice at a stage: the plain way
            return _service_totals_grouped(logs, size)
        if i == 0:
            total[hh] = log["end"][ok] - log["start"][ok]
            continue
        before = total[hh]
        y = (log["end"][ok] - log["start"][ok]) - compensation[hh]
        t = before + y
        compensation[hh] = (t - before) - y
        total[hh] = t
    return np.where(visit >= 0, total, np.nan)


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

    Rows are sorted by the names as text, as a groupby on them would. A stage at a time (so
    the memory is one stage's visits), each visit gets one integer key from the other names'
    ranks: grouping needs no per-row text and no Python call per group."""
    groups, modes = raw.scenario.group_names, list(MODES)
    g_rank, m_rank = text_ranks(groups), text_ranks(modes)
    vulnerable = raw.vulnerable if raw.vulnerable is not None else np.zeros(len(raw.sizes), bool)
    keys, parts = len(groups) * len(modes) * 2, []
    class_of = (g_rank[raw.group] * len(modes) + m_rank[raw.mode]) * 2 + vulnerable  # per hh
    stages = sorted(raw.stage_logs)  # tuples of text: by crossing, then stage
    for i, (crossing, stage) in enumerate(stages):
        waits = stage_waits(raw, (crossing, stage))
        hh = raw.stage_logs[(crossing, stage)]["hh"][waits.ok]
        rows = _class_waits(class_of[hh], raw.sizes[hh], waits.waits, keys)
        rows["stage"] = np.full(len(rows["key"]), i)
        parts.append(rows)
    if not parts:
        parts.append(_class_waits(np.zeros(0, np.int64), raw.sizes[:0], Waits(np.zeros(0)), keys))
        parts[0]["stage"] = np.zeros(0, np.int64)
    cols = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    key = cols.pop("key")
    group_of, mode_of = (np.argsort(text_ranks(n)) for n in (groups, modes))  # rank -> code
    which = cols.pop("stage")
    names = {"crossing": text_column([c for c, _ in stages], which),
             "stage": text_column([s for _, s in stages], which),
             "group": text_column(groups, group_of[key // 2 // len(modes)]),
             "mode": text_column(modes, mode_of[key // 2 % len(modes)]),
             "vulnerable": (key % 2).astype(bool)}  # fmt: skip
    return pd.DataFrame(names | cols)


def _class_waits(
    key: np.ndarray, persons: np.ndarray, waits: Waits, keys: int
) -> dict[str, np.ndarray]:
    """Per distinct ``key`` (ascending, in ``range(keys)``): the key, the visits, their
    persons, and the mean and 95th percentile of their waits (the mean as pandas makes it:
    compensated sums in visit order)."""
    by_class = KeyedValues(key, waits, keys)
    present, p95 = by_class.quantile(0.95)
    total = np.bincount(key, persons, minlength=keys)  # exact integer sums in float64
    return {
        "key": present,
        "households": by_class.count[present].astype(np.int64),
        "persons": total[present].astype(persons.dtype),
        "mean_wait_hours": pd.Series(waits.values).groupby(key, sort=True).mean().to_numpy(),
        "p95_wait_hours": p95,
    }
