"""The shipped scenarios against the observed figures they were calibrated to (data/observed).

Targets are read from the sourced CSVs, not typed in. The tolerance is the calibration
tolerance stated in the scenario headers (10%); a model change that moves these outcomes by
more than that must come with a recalibration.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from simulation import load_scenario, run_replications

ROOT = Path(__file__).resolve().parents[1]
OBSERVED = ROOT / "data" / "observed"
TOLERANCE = 0.10


def _observed(metric: str, group: str, start: str, end: str) -> float:
    rows = pd.read_csv(OBSERVED / "returns.csv")
    hit = rows[
        (rows["metric"] == metric)
        & (rows["population_group"] == group)
        & (rows["crossing"] == "all_Pakistan")
        & (rows["date_start"] == start)
        & (rows["date_end"] == end)
        & rows["notes"].str.startswith("series=UN")
    ]
    assert len(hit) == 1, f"expected one UN row for {metric} {group} {start}..{end}"
    return float(hit["value"].iloc[0])


@pytest.fixture(scope="module")
def april_2025() -> pd.DataFrame:
    scenario = load_scenario(ROOT / "scenarios" / "torkham_2025_acc.yaml")
    returns = run_replications(scenario, replications=4, seed=2025).returns
    april = returns[(returns["date"] >= "2025-04-01") & (returns["date"] <= "2025-04-30")]
    return april.groupby(["replication", "mode"])["persons"].sum().unstack(fill_value=0)


@pytest.mark.slow
def test_april_2025_returns_match_the_un_figure(april_2025):
    target = _observed("returns_total", "all", "2025-04-01", "2025-04-30")
    por_share = _observed("status_share", "PoR", "2025-04-01", "2025-04-30") / 100
    modelled = april_2025.sum(axis=1).mean()  # the scenario has no PoR holders
    assert abs(modelled / (target * (1 - por_share)) - 1) < TOLERANCE


@pytest.mark.slow
def test_april_2025_deportations_are_within_a_fifth_of_the_un_figure(april_2025):
    """Looser: every deportee must be arrested from 1 April, which caps April deportations
    below April arrests (see the scenario header)."""
    target = _observed("deported_total", "deportees", "2025-04-01", "2025-04-30")
    assert abs(april_2025["deported"].mean() / target - 1) < 2 * TOLERANCE


def test_the_repository_copy_of_the_observed_data_is_current():
    shared = ROOT.parent / "shared" / "data" / "observed"
    if not shared.exists():
        pytest.skip("../shared is not beside this checkout")
    for source in sorted(shared.glob("*.csv")):
        assert (OBSERVED / source.name).read_bytes() == source.read_bytes(), source.name


@pytest.mark.slow
@pytest.mark.parametrize("as_of", ["2023-11-18", "2023-12-16", "2024-01-15", "2024-02-29"])
def test_ifrp_2023_follows_the_un_cumulative_series(ifrp_2023, as_of):
    target = _observed("returns_cumulative", "all", "2023-09-15", as_of)
    modelled = ifrp_2023[ifrp_2023.index <= as_of].sum()
    assert abs(modelled / target - 1) < TOLERANCE


@pytest.fixture(scope="module")
def ifrp_2023() -> pd.Series:
    scenario = load_scenario(ROOT / "scenarios" / "ifrp_2023_undocumented.yaml")
    returns = run_replications(scenario, replications=3, seed=2023).returns
    daily = returns.groupby(["replication", "date"])["persons"].sum()
    return daily.groupby("date").sum() / 3
