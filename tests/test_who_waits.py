"""Who waits: waits broken down by group, mode and vulnerability; priority checked against
Cobham's formula for the non-preemptive M/M/c priority queue."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import load_scenario, run_replications
from simulation.engine.records import SERVED
from simulation.engine.run import run_model
from simulation.outputs.frames import who_waits
from simulation.theory import erlang_c, t_quantile_975
from tests.conftest import ROOT

LAMBDA, MU, C, SHARE = 20.0, 3.0, 8, 0.3  # per hour; vulnerable share of households


def cobham(arrival_rates: list[float], mu: float, servers: int) -> list[float]:
    """Mean wait in queue of each class (highest priority first), non-preemptive M/M/c:
    W_k = W0 / ((1 - s_{k-1}) (1 - s_k)), W0 = C(c, a) / (c mu), s_k = sum_{i<=k} lambda_i/(c mu).
    """
    total = sum(arrival_rates)
    w0 = erlang_c(servers, total / mu) / (servers * mu)
    waits, before = [], 0.0
    for rate in arrival_rates:
        after = before + rate / (servers * mu)
        waits.append(w0 / ((1 - before) * (1 - after)))
        before = after
    return waits


def test_cobham_by_hand() -> None:
    high, low = cobham([LAMBDA * SHARE, LAMBDA * (1 - SHARE)], MU, C)
    # the classes' waits average to Erlang C's: 0.3 W1 + 0.7 W2 = Wq(M/M/8) = 0.1332 h
    assert SHARE * high + (1 - SHARE) * low == pytest.approx(0.13317164, rel=1e-6)
    assert high < 0.04 < 0.15 < low


def test_priority_waits_match_cobham() -> None:
    scenario = load_scenario(
        ROOT / "scenarios" / "textbook_mmc.yaml",
        ["crossings.gate.stages.desk.priority=[vulnerable]",
         f"demand.0.vulnerable_share={SHARE}", "calendar.end=2025-01-31"],
    )  # fmt: skip
    results = run_replications(scenario, replications=6, seed=11)
    waits = results.who_waits.pivot(index="replication", columns="vulnerable",
                                    values="mean_wait_hours")  # fmt: skip
    expected = dict(zip((True, False), cobham([LAMBDA * SHARE, LAMBDA * (1 - SHARE)], MU, C),
                        strict=True))  # fmt: skip
    for vulnerable, theory in expected.items():
        values = waits[vulnerable].to_numpy()
        half = t_quantile_975(len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
        # 95% CI of the replication means, plus 5% for the empty-and-idle start of each run
        assert abs(values.mean() - theory) <= half + 0.05 * theory, (vulnerable, values, theory)
    assert (waits[True] < waits[False]).all()  # served first, in every replication


def test_who_waits_counts_every_served_household_once() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "torkham_2025_acc.yaml",
                             ["populations.acc.persons=4000",
                              "populations.undocumented.persons=4000"])  # fmt: skip
    raw = run_model(scenario, 2)
    table = who_waits(raw)
    assert set(table["mode"]) >= {"voluntary", "deported"}
    for (crossing, stage), log in raw.stage_logs.items():
        started = (log["kind"] == SERVED) & (log["start"] < scenario.horizon_hours)
        mine = table[(table["crossing"] == crossing) & (table["stage"] == stage)]
        assert mine["households"].sum() == started.sum()
        waits = (log["start"] - log["arrive"])[started]
        pooled = (mine["mean_wait_hours"] * mine["households"]).sum() / max(started.sum(), 1)
        assert pooled == pytest.approx(waits.mean() if started.any() else 0.0)
