"""The M/G/c estimate beside the simulated wait, and the plots' contract."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from simulation import load_scenario, simulate
from simulation.outputs.analytic import add_analytic_waits, service_moments_hours
from simulation.plots import plot_queues, plot_returns, plot_stocks
from simulation.scenario.schema import Exponential, Fixed, ServiceTime
from simulation.theory import mmc
from tests.builders import demand_scenario


def test_service_moments_add_per_household_and_per_person_parts():
    service = ServiceTime(
        per_household=Fixed(dist="fixed", value=6.0),
        per_person=Exponential(dist="exponential", mean=3.0),
    )
    mean, sd = service_moments_hours(service, persons=4)
    assert mean == pytest.approx((6 + 12) / 60)
    assert sd == pytest.approx(np.sqrt(4 * 9) / 60)


def test_daily_estimate_is_erlang_c_at_that_days_load():
    scenario = load_scenario("scenarios/textbook_mmc.yaml")
    daily = add_analytic_waits(simulate(scenario, seed=1).daily_stage, scenario)
    row = daily.iloc[10]
    rate = row["arrivals_households"] / 24.0
    assert row["utilisation"] == pytest.approx(rate / (8 * 3.0))
    assert row["wait_mgc_hours"] == pytest.approx(mmc(rate, 3.0, 8).wait_hours)


def test_no_estimate_when_closed_or_overloaded():
    closed = "    closures: [{start: 2025-01-03, end: 2025-01-03}]"
    scenario = demand_scenario(100.0, crossing=closed, end="2025-01-04")
    daily = add_analytic_waits(simulate(scenario, seed=2).daily_stage, scenario)
    assert np.isnan(daily.loc[2, "wait_mgc_hours"])  # closed day
    busy = demand_scenario(200.0, end="2025-01-04")
    overloaded = add_analytic_waits(simulate(busy, seed=2).daily_stage, busy)
    assert (overloaded["utilisation"] > 1).all() and overloaded["wait_mgc_hours"].isna().all()


def test_the_estimate_is_not_shown_beside_the_simulation():
    """Convoys and overnight backlogs break its assumptions: it is opt-in, not an output."""
    results = simulate(demand_scenario(100.0, end="2025-01-04"), seed=2)
    assert "utilisation" in results.daily_stage
    assert "wait_mgc_hours" not in results.daily_stage
    assert not results.summary["outcome"].str.contains("mgc").any()


@pytest.fixture(scope="module")
def small_run():
    from tests.conftest import shrink

    return simulate(shrink(load_scenario("scenarios/torkham_2025_acc.yaml"), 3000), seed=3)


def test_plots_return_figures_and_draw_on_given_axes(small_run):
    import matplotlib.pyplot as plt

    for figure in (
        plot_queues(small_run.daily_stage),
        plot_returns(small_run.returns),
        plot_stocks(small_run.stocks),
    ):
        assert isinstance(figure, Figure) and figure.axes
        plt.close(figure)
    fig, ax = plt.subplots()
    assert plot_queues(small_run.daily_stage, ax=ax) is fig
    queued = small_run.daily_stage.groupby(["crossing", "stage"])["queue_mean_persons"].max()
    assert len(ax.lines) == len(ax.get_legend().get_texts()) == int((queued > 0).sum())
    plt.close(fig)


def test_plot_returns_handles_an_empty_frame():
    empty = pd.DataFrame(columns=["replication", "date", "crossing", "group", "mode", "persons"])
    assert isinstance(plot_returns(empty), Figure)
