"""compare: arms on common random numbers, paired differences, any runner gives the same."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.experiments.compare import compare
from simulation.experiments.paired import paired_interval
from simulation.experiments.runners import DaskRunner, LocalRunner
from tests.conftest import ROOT

DEFAULT = ROOT / "scenarios" / "torkham_2025_acc.yaml"
SMALL = (
    "populations.acc.persons=24000",
    "populations.undocumented.persons=18000",
    "calendar.end=2025-04-30",
    "crackdown.arrest_capacity_persons_per_day=30",  # binding at this scale, as at full scale
)
PLUS30 = (
    "timeline+={event: deadline_extension, date: 2025-03-20, group: acc, new_deadline: 2025-04-30}"
)


@pytest.fixture(scope="module")
def deadline() -> pd.DataFrame:
    result = compare(DEFAULT, {"plus30": [PLUS30], "same": ["run.replications=3"]}, 6, 11,
                     common=SMALL)  # fmt: skip
    return result.differences


def _row(table: pd.DataFrame, variant: str, outcome: str, **keys: str) -> pd.Series:
    mask = (table["variant"] == variant) & (table["outcome"] == outcome)
    for key, value in keys.items():
        mask &= table[key] == value
    assert mask.sum() == 1, (variant, outcome, keys)
    return table[mask].iloc[0]


def test_an_arm_that_changes_nothing_differs_by_exactly_zero(deadline: pd.DataFrame) -> None:
    same = deadline[(deadline["variant"] == "same") & (deadline["n"] > 0)]
    assert len(same) > 50  # (n = 0: a date never reached in either arm)
    assert (same["difference"] == 0).all()  # common random numbers, for every outcome


def test_extending_acc_shifts_deportations_onto_the_others(deadline: pd.DataFrame) -> None:
    acc = _row(deadline, "plus30", "persons_returned", group="acc", mode="deported")
    und = _row(deadline, "plus30", "persons_returned", group="undocumented", mode="deported")
    assert acc["ci_high"] < 0  # fewer ACC deportations, clearly
    assert und["ci_low"] > 0  # shared arrest capacity: more undocumented deportations
    total = _row(deadline, "plus30", "persons_returned", group="all", mode="deported")
    assert abs(total["difference"]) < abs(acc["difference"])


def test_the_interval_is_the_paired_interval_of_the_arms() -> None:
    result = compare(DEFAULT, {"plus30": [PLUS30]}, 5, 3, common=SMALL)
    out = result.outcomes
    keys = {"outcome": "persons_returned", "group": "acc", "mode": "voluntary"}
    mask = np.logical_and.reduce([out[k] == v for k, v in keys.items()])
    arms = out[mask].pivot(index="replication", columns="variant", values="value")
    expected = paired_interval(arms["baseline"].to_numpy(), arms["plus30"].to_numpy())
    row = _row(result.differences, "plus30", **keys)
    assert (row["difference"], row["ci_low"], row["ci_high"]) == pytest.approx(expected)
    assert row["n"] == 5


def test_pairing_narrows_where_the_arms_are_positively_correlated(
    deadline: pd.DataFrame,
) -> None:
    plus = deadline[(deadline["variant"] == "plus30") & (deadline["n"] >= 3)]
    correlated = plus[plus["correlation"] > 0.5]
    assert len(correlated) > 10
    assert correlated["pairing_narrows"].all()
    paired = correlated["ci_high"] - correlated["ci_low"]
    unpaired = correlated["unpaired_ci_high"] - correlated["unpaired_ci_low"]
    assert (paired < unpaired).all()


def test_a_dask_cluster_gives_the_frames_of_one_process() -> None:
    variants = {"plus30": [PLUS30]}
    local = compare(DEFAULT, variants, 3, 5, runner=LocalRunner(1), common=SMALL)
    runner = DaskRunner("local", workers=2)
    try:
        remote = compare(DEFAULT, variants, 3, 5, runner=runner, common=SMALL)
    finally:
        runner.close()
    pd.testing.assert_frame_equal(local.outcomes, remote.outcomes)
    pd.testing.assert_frame_equal(local.differences, remote.differences)
