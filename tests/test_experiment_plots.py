"""The experiment figures draw what their frames hold: differences with their intervals, and the
sizing evidence against its target (small hand-made frames, no simulation)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer

from simulation.plots import plot_differences, plot_sizing


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _differences() -> pd.DataFrame:
    rows = []
    for variant, scale in [("plus15", 1.0), ("plus30", 2.0)]:
        for group, diff in [("acc", -400.0), ("undocumented", 390.0), ("all", -10.0)]:
            d = diff * scale
            keys = {"outcome": "persons_returned", "crossing": "", "stage": "", "group": group,
                    "mode": "deported", "unit": "persons"}  # fmt: skip
            rows.append({"variant": variant, **keys, "difference": d, "ci_low": d - 50 * scale,
                         "ci_high": d + 30 * scale})  # fmt: skip
    rows.append({"variant": "plus15", "outcome": "p95_wait_hours", "crossing": "torkham",
                 "stage": "reception", "group": "", "mode": "", "difference": 0.5, "ci_low": 0.1,
                 "ci_high": 0.9, "unit": "hours"})  # fmt: skip
    return pd.DataFrame(rows)


def test_differences_draw_one_errorbar_series_per_variant_with_its_intervals() -> None:
    table = _differences()
    fig = plot_differences(table)
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["acc / deported", "undocumented / deported", "all / deported"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["plus15", "plus30"]
    for bar, variant in zip(bars, ["plus15", "plus30"], strict=True):
        rows = table[(table["variant"] == variant) & (table["outcome"] == "persons_returned")]
        marker, _, (segments,) = bar.lines
        assert marker.get_xdata() == pytest.approx(rows["difference"].to_numpy())
        ends = np.array([[seg[0][0], seg[1][0]] for seg in segments.get_segments()])
        assert ends[:, 0] == pytest.approx(rows["ci_low"].to_numpy())
        assert ends[:, 1] == pytest.approx(rows["ci_high"].to_numpy())


def test_differences_have_a_zero_line_and_thousands_separators() -> None:
    ax = plot_differences(_differences()).axes[0]
    vertical = [line for line in ax.lines if list(line.get_xdata()) == [0.0, 0.0]]
    assert len(vertical) == 1
    assert ax.xaxis.get_major_formatter()(-12500.0, 0) == "-12,500"
    assert "persons" in ax.get_xlabel()


def test_differences_of_another_outcome_on_given_axes() -> None:
    fig, ax = plt.subplots()
    assert plot_differences(_differences(), ax, "p95_wait_hours") is fig
    assert [t.get_text() for t in ax.get_yticklabels()] == ["torkham / reception"]
    assert ax.xaxis.get_major_formatter()(12500.0, 0) != "12,500"  # hours are not counts
    with pytest.raises(ValueError, match="no_such_outcome"):
        plot_differences(_differences(), outcome="no_such_outcome")


def _evidence() -> pd.DataFrame:
    share = np.array([0.0, 0.4, 1.0, 1.0])
    return pd.DataFrame({
        "servers": [1, 2, 3, 4], "met": (share * 5).astype(int), "replications": 5,
        "share_met": share, "mean": [30.0, 2.5, 1.2, 0.7], "worst": [45.0, 2.9, 1.5, 0.8],
        "worst_day_p95_wait_hours": [50.0, 5.0, 2.6, 1.6], "meets_target": share >= 0.9,
    })  # fmt: skip


def test_sizing_draws_the_outcome_with_its_target_and_the_share_with_the_probability() -> None:
    evidence = _evidence()
    fig = plot_sizing(evidence, 2.0, probability=0.9, outcome="p95_wait_hours")
    outcome_ax, share_ax = fig.axes
    lines = {line.get_label(): line for line in outcome_ax.lines}
    assert set(lines) == {"mean of replications", "worst replication", "target 2"}
    assert list(lines["mean of replications"].get_ydata()) == list(evidence["mean"])
    assert list(lines["worst replication"].get_ydata()) == list(evidence["worst"])
    assert list(lines["target 2"].get_ydata()) == [2.0, 2.0]
    assert outcome_ax.get_yscale() == "log"  # 0.7 to 45 hours
    assert [t.get_text() for t in outcome_ax.texts] == ["0/5 met", "2/5 met", "5/5 met", "5/5 met"]
    heights = [p.get_height() for p in share_ax.patches]
    assert heights == list(evidence["share_met"])
    (required,) = share_ax.lines
    assert list(required.get_ydata()) == [0.9, 0.9]


def test_sizing_on_given_axes_draws_the_outcome_panel_only() -> None:
    evidence = _evidence().assign(mean=[3.0, 2.5, 1.2, 0.7], worst=[4.0, 2.9, 1.5, 0.8])
    fig, ax = plt.subplots()
    assert plot_sizing(evidence, 1.0, ax) is fig
    assert len(fig.axes) == 1
    assert ax.get_yscale() == "linear"  # within a 20-fold range
    assert len(ax.lines) == 3
