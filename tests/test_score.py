"""``repatsim score``: observed figures of one series against simulated quantities (ARD).

Most tests score a hand-made ``returns`` frame (two replications, known persons per day)
against tiny observed files written in ``tmp_path``, so every expected number is worked out
by hand here; the command-line tests run a tiny scenario, and one a shipped scenario shrunk.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import parse_scenario
from simulation.calibration import ObservedError, ard, interval, read_observed, score
from simulation.cli.args import Parser, UsageError
from simulation.cli.score import add_score_parser, score_command
from simulation.folders import ResultsFolderError
from simulation.results import Results
from simulation.scenario import ScenarioError
from simulation.theory import t_quantile_975
from tests.conftest import ROOT, shrink_overrides

TINY = """
name: tiny
calendar: {start: 2025-03-01, end: 2025-04-30}
populations:
  acc: &group
    persons: 3000
    household_size: {values: [2, 4, 6], weights: [1, 2, 1]}
    regions:
      north:
        share: 0.5
        crossings: {torkham: {share: 1.0, travel_hours: {dist: fixed, value: 5.0}}}
      south:
        share: 0.5
        crossings: {chaman: {share: 1.0, travel_hours: {dist: fixed, value: 5.0}}}
    deadline: 2025-03-31
    voluntary:
      never_share: 0.5
      ramp: {base_per_day: 0.001, peak_per_day: 0.011, ramp_days: 10}
      after_deadline_per_day: 0.002
  undocumented: *group
crackdown:
  arrest_rate_per_day: 0.05
  arrest_capacity_persons_per_day: 300
  holding: {capacity_persons: 500, dwell_hours: {dist: fixed, value: 30.0}}
  transport:
    vehicle_capacity_persons: 50
    departures_per_day: 4
    travel_hours: {dist: fixed, value: 3.0}
crossings:
  torkham: &crossing
    stages:
      desk:
        servers: 20
        service_minutes: {per_household: {dist: exponential, mean: 5.0}}
  chaman: *crossing
"""
START = dt.date(2025, 3, 1)
DAYS = 61
HEADER = ["date_start", "date_end", "crossing", "population_group", "metric", "value", "unit",
          "source_title", "source_url", "notes"]  # fmt: skip


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def torkham_acc(day: int, rep: int) -> int:
    """Persons of group acc returning voluntarily through torkham on calendar day ``day``."""
    return 10 + day + rep


def chaman_undocumented(day: int, rep: int) -> int:
    """Persons of group undocumented deported through chaman on calendar day ``day``."""
    return 5 * (rep + 1) + (50 if day == 40 else 0)


def hand_results(replications: int = 2) -> Results:
    """A results container whose returns frame holds the two series above, every day."""
    rows = []
    for rep in range(replications):
        for day in range(DAYS):
            date = pd.Timestamp(START + dt.timedelta(days=day))
            rows.append((rep, date, "torkham", "acc", "voluntary", 1, torkham_acc(day, rep)))
            rows.append((rep, date, "chaman", "undocumented", "deported", 1,
                         chaman_undocumented(day, rep)))  # fmt: skip
    returns = pd.DataFrame(rows, columns=["replication", "date", "crossing", "group", "mode",
                                          "households", "persons"])  # fmt: skip
    empty = pd.DataFrame()
    return Results(empty, empty, returns, empty, empty, empty, empty,
                   manifest={"replications": replications})  # fmt: skip


def by_hand(first: str, last: str, series=torkham_acc) -> list[int]:
    """Persons of ``series`` from ``first`` to ``last``, per replication, summed by hand."""
    lo, hi = (d(first) - START).days, (d(last) - START).days
    return [sum(series(day, rep) for day in range(lo, hi + 1)) for rep in range(2)]


def write_observed(path: Path, rows: list[tuple]) -> Path:
    """An observed returns file: rows (start, end, crossing, group, metric, value[, series])."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for start, end, crossing, group, metric, value, *series in rows:
            tag = series[0] if series else "UN"
            out.writerow([start, end, crossing, group, metric, value, "persons",
                          f"title {start} {metric}", "https://example.org",
                          f"series={tag}; source_type=un; test row"])  # fmt: skip
    return path


@pytest.fixture(scope="module")
def tiny():
    return parse_scenario(TINY, "tiny.yaml")


def scored(tiny, tmp_path: Path, rows: list[tuple], **options):
    observed = read_observed(write_observed(tmp_path / "returns.csv", rows))
    return score(tiny, hand_results(), observed, **options).table.set_index("row_id")


# ---------------------------------------------------------------- the metric
def test_ard_is_the_absolute_difference_relative_to_the_observed_value():
    assert ard(110.0, 100.0) == pytest.approx(0.10)
    assert ard(90.0, 100.0) == pytest.approx(0.10)
    assert ard(0.0, 40.0) == pytest.approx(1.0)
    assert math.isnan(ard(5.0, 0.0))


def test_the_interval_is_student_t_over_replications():
    mean, low, high = interval([1.0, 2.0, 3.0])
    half = t_quantile_975(2) * 1.0 / math.sqrt(3)
    assert (mean, low, high) == pytest.approx((2.0, 2.0 - half, 2.0 + half))
    assert math.isnan(interval([4.0])[1])


# ---------------------------------------------------------------- matching periods
def test_a_window_total_is_the_sum_of_simulated_daily_persons_in_the_window(tiny, tmp_path):
    table = scored(tiny, tmp_path, [
        ("2025-04-01", "2025-04-10", "Torkham", "ACC", "returns_total", 1000),
        ("2025-04-01", "2025-04-10", "Torkham", "ACC", "returns_daily", 100),
        ("2025-04-01", "2025-04-10", "Chaman", "deportees", "returns_daily_peak", 40),
        ("2025-04-01", "2025-04-10", "all_Pakistan", "deportees", "deported_share", 20),
    ])  # fmt: skip
    per_rep = by_hand("2025-04-01", "2025-04-10")
    total = table.loc["returns.csv:2"]
    assert total["simulated_mean"] == pytest.approx(np.mean(per_rep))
    assert (total["ci_low"], total["ci_high"]) == pytest.approx(interval(per_rep)[1:])
    assert total["ard"] == pytest.approx(abs(np.mean(per_rep) - 1000) / 1000)
    assert table.loc["returns.csv:3", "simulated_mean"] == pytest.approx(np.mean(per_rep) / 10)
    peak = np.mean([5 * (rep + 1) + 50 for rep in range(2)])  # day 40 = 10 April
    assert table.loc["returns.csv:4", "simulated_mean"] == pytest.approx(peak)
    deported = np.array(by_hand("2025-04-01", "2025-04-10", chaman_undocumented))
    share = 100 * deported / (deported + np.array(per_rep))
    assert table.loc["returns.csv:5", "simulated_mean"] == pytest.approx(share.mean())


def test_shares_by_status_and_crossing_are_percentages_of_all_returns(tiny, tmp_path):
    table = scored(tiny, tmp_path, [
        ("2025-03-01", "2025-03-31", "all_Pakistan", "ACC", "status_share", 50),
        ("2025-03-01", "2025-03-31", "Chaman", "all", "crossing_share", 50),
        ("2025-03-01", "2025-03-31", "all_Pakistan", "PoR", "status_share", 6),
    ])  # fmt: skip
    acc = np.array(by_hand("2025-03-01", "2025-03-31"))
    undocumented = np.array(by_hand("2025-03-01", "2025-03-31", chaman_undocumented))
    expected = (100 * acc / (acc + undocumented)).mean()
    assert table.loc["returns.csv:2", "simulated_mean"] == pytest.approx(expected)
    assert table.loc["returns.csv:3", "simulated_mean"] == pytest.approx(100 - expected)
    assert table.loc["returns.csv:4", "reason"] == "the scenario has no PoR group"


# ---------------------------------------------------------------- the cumulative offset
OFFSET_ROWS = [
    ("2023-09-15", "2025-02-19", "all_Pakistan", "all", "returns_cumulative", 1000),
    ("2023-09-15", "2025-03-11", "all_Pakistan", "all", "returns_cumulative", 3000),
    ("2023-09-15", "2025-04-20", "all_Pakistan", "all", "returns_cumulative", 9000),
]


def test_a_running_count_begun_before_the_calendar_adds_the_interpolated_offset(tiny, tmp_path):
    another_count = ("2023-10-01", "2025-02-25", "all_Pakistan", "all", "returns_cumulative", 5e4)
    table = scored(tiny, tmp_path, [*OFFSET_ROWS, another_count])
    # the count at the end of 28 Feb, 9 of the 20 days from 19 Feb (1,000) to 11 Mar (3,000)
    offset = 1000 + (3000 - 1000) * 9 / 20
    for row, end in (("returns.csv:3", "2025-03-11"), ("returns.csv:4", "2025-04-20")):
        since = [a + b for a, b in zip(by_hand("2025-03-01", end),
                                       by_hand("2025-03-01", end, chaman_undocumented),
                                       strict=True)]  # fmt: skip
        assert table.loc[row, "simulated_mean"] == pytest.approx(offset + np.mean(since))
        note = table.loc[row, "adjustment"]
        assert "offset 1,900" in note and "returns.csv:2" in note and "returns.csv:3" in note
    assert table.loc["returns.csv:3", "adjustment"].count("this row itself") == 1
    assert "returns.csv:2" not in table.index  # ends before the calendar: not listed


def test_a_running_count_without_rows_on_both_sides_of_the_start_is_skipped(tiny, tmp_path):
    table = scored(tiny, tmp_path, OFFSET_ROWS[1:])
    reason = table.loc["returns.csv:2", "reason"]
    assert "no rows of this count on both sides of 2025-02-28" in reason


# ---------------------------------------------------------------- one series only
def test_rows_of_another_series_are_never_used_when_un_is_asked(tiny, tmp_path):
    rows = [*OFFSET_ROWS,
            ("2023-09-15", "2025-02-27", "all_Pakistan", "all", "returns_cumulative", 2900,
             "PK_official"),  # would move the offset if it were used
            ("2025-04-01", "2025-04-10", "Torkham", "ACC", "returns_total", 5,
             "PK_KP")]  # fmt: skip
    observed = read_observed(write_observed(tmp_path / "returns.csv", rows))
    fit = score(tiny, hand_results(), observed)
    assert set(fit.table["series"]) == {"UN"}
    assert {"returns.csv:5", "returns.csv:6"}.isdisjoint(fit.table["row_id"])
    assert "offset 1,900" in fit.table.set_index("row_id").loc["returns.csv:3", "adjustment"]
    assert fit.counts["other_series_rows"] == 2
    other = score(tiny, hand_results(), observed, series="PK_KP").table
    assert list(other["row_id"]) == ["returns.csv:6"]


# ---------------------------------------------------------------- what is skipped
def test_figures_outside_the_calendar_or_after_until_are_skipped_with_their_reason(tiny, tmp_path):
    table = scored(tiny, tmp_path, [
        ("2025-02-20", "2025-03-10", "all_Pakistan", "all", "returns_total", 100),
        ("2025-04-20", "2025-05-10", "all_Pakistan", "all", "returns_total", 100),
        ("2025-04-01", "2025-04-10", "all_Pakistan", "all", "returns_total", 100),
        ("2025-03-01", "2025-03-10", "all_Pakistan", "all", "returns_total", 100),
        ("2024-01-01", "2024-01-31", "all_Pakistan", "all", "returns_total", 100),
        ("2025-03-01", "2025-03-10", "KP_all", "all", "returns_total", 100),
        ("2025-03-01", "2025-03-10", "all_Pakistan", "all", "arrests_total", 100),
    ], until=d("2025-03-31"))  # fmt: skip
    reasons = table["reason"]
    assert reasons["returns.csv:2"] == "starts before the calendar (2025-03-01..2025-04-30)"
    assert reasons["returns.csv:3"] == "ends outside the calendar (2025-03-01..2025-04-30)"
    assert reasons["returns.csv:4"] == "ends after --until 2025-03-31"
    assert bool(table.loc["returns.csv:5", "comparable"])
    assert "returns.csv:6" not in table.index  # wholly outside the calendar
    assert reasons["returns.csv:7"].startswith("the scenario has no crossing KP_all")
    assert "do not count arrests" in reasons["returns.csv:8"]


def test_arrests_are_scored_from_the_stocks_by_status_and_all_pakistan_only(tiny, tmp_path):
    """Arrests per day from the stocks' ``arrested`` column: acc 3 + rep persons a day,
    undocumented 7; over 1-10 April that is 10 x (10 + rep) for all statuses."""
    results = hand_results()
    dates = pd.date_range(START, periods=DAYS, freq="D")
    results.stocks = pd.DataFrame([(rep, date, group, per_day + (rep if group == "acc" else 0))
                                   for rep in range(2) for date in dates
                                   for group, per_day in (("acc", 3), ("undocumented", 7))],
                                  columns=["replication", "date", "group", "arrested"])  # fmt: skip
    rows = [("2025-04-01", "2025-04-10", "all_Pakistan", "all", "arrests_total", 100),
            ("2025-04-01", "2025-04-10", "all_Pakistan", "ACC", "arrests_total", 30),
            ("2025-04-01", "2025-04-10", "Torkham", "all", "arrests_total", 30),
            ("2025-04-01", "2025-04-10", "all_Pakistan", "deportees", "arrests_total", 30),
            ]  # fmt: skip
    observed = read_observed(write_observed(tmp_path / "returns.csv", rows))
    table = score(tiny, results, observed).table.set_index("row_id")
    assert table.loc["returns.csv:2", "simulated_mean"] == pytest.approx(np.mean([100, 110]))
    assert "a status's share of returns does not adjust" in table.loc["returns.csv:2", "adjustment"]
    assert table.loc["returns.csv:3", "simulated_mean"] == pytest.approx(np.mean([30, 40]))
    assert (
        table.loc["returns.csv:4", "reason"]
        == "arrests are counted for all_Pakistan only, not by crossing"
    )
    assert (
        table.loc["returns.csv:5", "reason"] == "arrests are counted by status, not for deportees"
    )


# ---------------------------------------------------------------- a status the scenario lacks
def test_an_all_status_figure_is_reduced_by_the_share_of_a_status_the_scenario_lacks(
    tiny, tmp_path
):
    rows = [("2025-04-01", "2025-04-30", "all_Pakistan", "PoR", "status_share", 6),
            ("2025-04-01", "2025-04-10", "all_Pakistan", "all", "returns_total", 1000),
            ("2025-03-01", "2025-03-31", "all_Pakistan", "all", "returns_total", 1000)]  # fmt: skip
    table = scored(tiny, tmp_path, rows)
    adjusted = table.loc["returns.csv:3"]
    assert adjusted["observed"] == pytest.approx(940.0)
    assert "less PoR 6%" in adjusted["adjustment"] and "returns.csv:2" in adjusted["adjustment"]
    flagged = table.loc["returns.csv:4"]
    assert flagged["observed"] == 1000 and bool(flagged["comparable"])
    assert flagged["adjustment"].startswith("not adjusted: the scenario has no PoR group")
    strict = scored(tiny, tmp_path, rows, strict=True)
    assert not strict.loc["returns.csv:4", "comparable"]
    assert strict.loc["returns.csv:4", "reason"].startswith("not comparable (--strict)")


# ---------------------------------------------------------------- reading observed files
def test_a_bad_observed_row_is_one_line_naming_file_line_and_column(tmp_path):
    path = write_observed(tmp_path / "returns.csv", [
        ("2025-04-01", "2025-04-10", "all_Pakistan", "all", "returns_total", 10),
        ("2025-04-31", "2025-04-10", "all_Pakistan", "all", "returns_total", 10),
    ])  # fmt: skip
    with pytest.raises(ObservedError, match=r"returns\.csv, line 3, column date_start: must be a "
                                            r"date YYYY-MM-DD \(got '2025-04-31'\)"):  # fmt: skip
        read_observed(path)
    path.write_text(path.read_text().replace("series=UN", "grade=1"))
    with pytest.raises(ObservedError, match=r"line 2, column notes: must start with series="):
        read_observed(path)


# ---------------------------------------------------------------- the command line
def repatsim(argv: list[str]) -> int:
    """``repatsim score ARGV`` handled as ``simulation.cli.main`` handles every command."""
    parser = Parser(prog="repatsim")
    add_score_parser(parser.add_subparsers(dest="command", required=True))
    try:
        return score_command(parser.parse_args(["score", *argv]))
    except (UsageError, ScenarioError, ResultsFolderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


@pytest.mark.parametrize(("argv", "message"), [
    (["--observed", "missing.csv"], "missing.csv: cannot be read as a CSV file"),
    (["--observed", "{bad}"], "line 2, column value: must be a number >= 0"),
    (["--until", "2025-02-30"], "--until: must be a date YYYY-MM-DD (got '2025-02-30')"),
    (["--series", "Taliban"], "no rows of series 'Taliban' (series there: UN)"),
])  # fmt: skip
def test_bad_input_is_one_line_and_exit_2_before_anything_runs(
    tiny_file, tmp_path, capsys, argv, message
):
    bad = write_observed(tmp_path / "bad.csv", [("2025-04-01", "2025-04-01", "Torkham", "all",
                                                 "returns_total", "many")])  # fmt: skip
    good = write_observed(tmp_path / "good.csv", [("2025-04-01", "2025-04-01", "Torkham", "all",
                                                   "returns_total", 10)])  # fmt: skip
    argv = [str(bad) if a == "{bad}" else str(tmp_path / a) if a.endswith(".csv") else a
            for a in argv]  # fmt: skip
    if "--observed" not in argv:
        argv += ["--observed", str(good)]
    out = tmp_path / "out"
    assert repatsim([str(tiny_file), *argv, "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not out.exists()


def test_the_command_prints_the_table_and_writes_score_skipped_and_the_plot(
    tiny_file, tmp_path, capsys
):
    observed = write_observed(tmp_path / "returns.csv", [
        ("2025-03-01", "2025-04-30", "all_Pakistan", "all", "returns_total", 1000),
        ("2025-04-01", "2025-04-10", "Torkham", "ACC", "returns_total", 100),
        ("2025-02-01", "2025-03-10", "all_Pakistan", "all", "returns_total", 100),
    ])  # fmt: skip
    out = tmp_path / "score"
    status = repatsim([str(tiny_file), "--observed", str(observed), "-n", "2", "--out", str(out),
                       "-q"])  # fmt: skip
    assert status == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "Mean ARD" not in printed  # --quiet: no table
    table = pd.read_csv(out / "score.csv")
    assert list(table["comparable"]) == [True, True, False]
    skipped = pd.read_csv(out / "skipped.csv")
    assert list(skipped["row_id"]) == ["returns.csv:4"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == {"score.csv", "skipped.csv", "plots/score.png",
                                      "manifest.json"}  # fmt: skip
    assert manifest["mean_ard"] == pytest.approx(table["ard"].mean())
    assert (out / "plots" / "score.png").stat().st_size > 0
    assert repatsim([str(tiny_file), "--observed", str(observed), "-n", "2", "--out",
                     str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert f"Mean ARD {table['ard'].mean():.3f} over 2 figures" in printed
    assert "returns_total Torkham/ACC" in printed


def test_a_shipped_scenario_shrunk_is_scored_against_the_repository_data(tmp_path, capsys):
    """The April 2025 UN figures of the default scenario are compared (less the stated PoR
    share), the April arrests too (flagged: a PoR share of returns does not adjust arrests);
    KP_all and the PoR share itself are not, each with its reason."""
    path = ROOT / "scenarios" / "torkham_2025_acc.yaml"
    from simulation import load_scenario

    sets = [a for o in shrink_overrides(load_scenario(path), 4000) for a in ("--set", o)]
    out = tmp_path / "score"
    assert repatsim([str(path), *sets, "-n", "2", "--out", str(out), "-q"]) == 0
    table = pd.read_csv(out / "score.csv").set_index("row_id")
    data = pd.read_csv(ROOT / "data" / "observed" / "returns.csv")
    april = data[(data["date_start"] == "2025-04-01") & (data["date_end"] == "2025-04-30")
                 & (data["metric"] == "returns_total")]  # fmt: skip
    row = f"returns.csv:{april.index[0] + 2}"
    assert table.loc[row, "observed"] == pytest.approx(april["value"].iloc[0] * 0.94)
    assert set(table["series"]) == {"UN"}
    reasons = " ".join(table["reason"].dropna())
    assert "no crossing KP_all" in reasons and "no PoR group" in reasons
    arrests = data[(data["date_start"] == "2025-04-01") & (data["metric"] == "arrests_total")]
    arrested = table.loc[f"returns.csv:{arrests.index[0] + 2}"]
    assert bool(arrested["comparable"]) and arrested["simulated_mean"] > 0
    assert "does not adjust arrests_total" in arrested["adjustment"]


# ---------------------------------------------------------------- the plot
def test_the_plot_shows_each_observed_figure_beside_its_simulated_value(tiny, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from simulation.calibration.plots import plot_score

    rows = [*OFFSET_ROWS, ("2025-04-01", "2025-04-10", "Torkham", "ACC", "returns_total", 1000)]
    observed = read_observed(write_observed(tmp_path / "returns.csv", rows))
    fit = score(tiny, hand_results(), observed)
    figure = plot_score(fit.table, fit.daily, fit.curves)
    top, bottom = figure.axes
    points = [line for line in top.get_lines() if line.get_label().startswith("observed")]
    assert list(points[0].get_ydata()) == [3000, 9000]
    curve = next(line for line in top.get_lines() if line.get_label().startswith("simulated"))
    cumulative = fit.table.set_index("row_id").loc["returns.csv:4", "simulated_mean"]
    assert curve.get_ydata()[-11] == pytest.approx(cumulative)  # 20 April, 10 days before the end
    segments = [
        c.get_segments()[0][0][1]
        for c in bottom.collections
        if c.get_label() in ("observed figure (per day over its period)", "simulated, same figure")
    ]
    simulated = np.mean(by_hand("2025-04-01", "2025-04-10")) / 10
    assert segments == pytest.approx([100.0, simulated])
    plt.close(figure)
