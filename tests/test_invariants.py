"""Invariants on every shipped scenario: people are conserved; a seed fixes the outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt

from simulation import simulate
from simulation.engine.records import STATES
from simulation.engine.run import run_model
from simulation.outputs.frames import returns as returns_frame
from tests.conftest import shrink


def test_persons_are_conserved_every_day(shipped):
    _, scenario = shipped
    small = shrink(scenario)
    results = simulate(small, seed=11)
    stocks = results.stocks
    for group, pop in small.populations.items():
        mine = stocks[stocks["group"] == group]
        assert len(mine) == small.days
        totals = mine[list(STATES)].sum(axis=1)
        assert (totals == pop.persons).all(), f"{group}: persons not conserved"
        assert (mine[list(STATES)] >= 0).all().all(), f"{group}: a negative stock"


def test_returned_stock_matches_border_exits(shipped):
    """Two independent records: state transitions (stocks) and exits (returns) agree."""
    _, scenario = shipped
    small = shrink(scenario)
    results = simulate(small, seed=5)
    last = results.stocks[results.stocks["date"] == results.stocks["date"].max()]
    exits = results.returns.groupby("group")["persons"].sum()
    for group in small.populations:
        returned = int(last.loc[last["group"] == group, "returned"].iloc[0])
        assert returned == int(exits.get(group, 0))


def test_at_crossing_stock_matches_stage_records(shipped):
    """Persons 'at_crossing' at the end equal those queued or in service in the stage logs."""
    _, scenario = shipped
    small = shrink(scenario)
    raw = run_model(small, seed=3)
    horizon = small.horizon_hours
    inside = 0
    for log in raw.stage_logs.values():
        pop = raw.mode[log["hh"]] != 2  # direct demand is not part of the populations
        present = (log["arrive"] <= horizon) & (log["leave"] > horizon) & (log["kind"] != 1)
        inside += int(raw.sizes[log["hh"]][present & pop].sum())
    net = {s: 0 for s in range(len(STATES))}
    for group in small.populations:
        for state, persons in raw.initial[group].items():
            net[state] += persons
    f = raw.flows
    for src, dst, p in zip(f["src"], f["dst"], f["persons"], strict=True):
        net[int(src)] -= int(p)
        net[int(dst)] += int(p)
    assert net[STATES.index("at_crossing")] == inside


def test_same_seed_same_results_other_seed_other_results(shipped):
    _, scenario = shipped
    small = shrink(scenario, persons=3000)
    a, b, c = simulate(small, 7), simulate(small, 7), simulate(small, 8)
    for name, frame in a.frames().items():
        pdt.assert_frame_equal(frame, b.frames()[name], check_exact=True, obj=name)
    assert not a.daily_stage.equals(c.daily_stage)


def test_returns_frame_is_tidy(shipped):
    _, scenario = shipped
    raw = run_model(shrink(scenario, persons=2000), seed=1)
    frame = returns_frame(raw)
    assert list(frame.columns) == ["date", "crossing", "group", "mode", "households", "persons"]
    assert not frame.duplicated(["date", "crossing", "group", "mode"]).any()
    assert (frame["persons"] >= frame["households"]).all()
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert np.isin(frame["mode"], ["voluntary", "deported", "direct"]).all()
