"""The vectorised frame builders give exactly what the plain pandas computations give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation import load_scenario
from simulation.engine.records import MODES, SERVED, RawRun
from simulation.engine.run import run_model
from simulation.outputs.frames import WHO_WAITS_KEYS, who_waits
from simulation.outputs.groups import run_quantile, runs, text_ranks
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
