"""Replications: replication ``i`` runs seed ``replication_seeds(seed, n)[i]`` whatever the number
of worker processes, so the results do not depend on ``workers``."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest

from simulation import Results, load_scenario, replication_seeds, run_replications, simulate
from tests.conftest import ROOT, shrink

REPLICATIONS, SEED = 3, 2024


@pytest.fixture(scope="module")
def scenario():
    """The default scenario, shrunk so that a replication takes a fraction of a second."""
    return shrink(load_scenario(ROOT / "scenarios" / "torkham_2025_acc.yaml"), persons=1000)


@pytest.fixture(scope="module")
def one_worker(scenario) -> Results:
    return run_replications(scenario, REPLICATIONS, SEED, workers=1)


def test_two_workers_give_the_same_results_as_one(scenario, one_worker: Results) -> None:
    two = run_replications(scenario, REPLICATIONS, SEED, workers=2)
    for name, frame in one_worker.frames().items():
        pdt.assert_frame_equal(two.frames()[name], frame, check_exact=True, obj=name)
    for key in ("replications", "replication_seeds", "master_seed"):
        assert two.manifest[key] == one_worker.manifest[key], key


def test_replication_i_is_the_run_of_the_ith_seed(scenario, one_worker: Results) -> None:
    """Each replication's frames are those of ``simulate`` with its seed; the replications
    differ from one another (so a mix-up of seeds would show)."""
    seeds = replication_seeds(SEED, REPLICATIONS)
    assert one_worker.manifest["replication_seeds"] == seeds
    for i, seed in enumerate(seeds):
        alone = simulate(scenario, seed)
        for name in ("daily_stage", "returns", "stocks"):
            mine = _replication(getattr(one_worker, name), i)
            pdt.assert_frame_equal(mine, _replication(getattr(alone, name), 0), obj=name)
    queued = one_worker.daily_stage.groupby("replication")["queue_mean_persons"].sum()
    assert queued.nunique() == REPLICATIONS


def _replication(frame: pd.DataFrame, i: int) -> pd.DataFrame:
    """Rows of replication ``i``, without the column and with a fresh index."""
    rows = frame[frame["replication"] == i].drop(columns="replication")
    return rows.reset_index(drop=True)
