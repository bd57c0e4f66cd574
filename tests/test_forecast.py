"""The forecast: monthly tables on hand-built frames, the variance split against its closed form,
the UN offset, and ``repatsim forecast`` end to end with its one-line errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.calibration import default_observed, read_observed
from simulation.calibration.forecast import (
    Window,
    monthly_arrests,
    parameter_share,
    run_table,
    summarise,
    un_offset,
)
from simulation.cli import main
from tests.conftest import ROOT

D = dt.date
WINDOW = Window(D(2025, 3, 15), D(2025, 4, 30))


def _returns() -> pd.DataFrame:
    """Ten rows of a returns frame (one run):

    ========== ===== ============ ======== =======
    date       cross group        mode     persons
    ========== ===== ============ ======== =======
    2025-03-01 gate  acc          voluntary    100   before the window (cumulative only)
    2025-03-15 gate  acc          voluntary     10   March
    2025-03-31 gate  undocumented voluntary     20   March
    2025-03-31 other undocumented deported       5   March
    2025-04-01 gate  acc          deported      30   April
    2025-04-10 gate  acc          voluntary     50   April
    2025-04-10 other acc          voluntary      7   April
    2025-04-20 gate  undocumented deported      40   April
    2025-04-30 gate  walk_in      direct         3   April
    2025-05-01 gate  acc          voluntary   1000   after the window
    ========== ===== ============ ======== =======

    March: acc 10, undocumented 25 (5 deported), all 35, deported 5 (14.29%).
    April: acc 87 (30 deported: 34.48%), undocumented 40 (all deported: 100%), walk_in 3
    (direct), all 130, deported 70 (53.85%), direct 3.
    """
    rows = [
        ("2025-03-01", "gate", "acc", "voluntary", 100),
        ("2025-03-15", "gate", "acc", "voluntary", 10),
        ("2025-03-31", "gate", "undocumented", "voluntary", 20),
        ("2025-03-31", "other", "undocumented", "deported", 5),
        ("2025-04-01", "gate", "acc", "deported", 30),
        ("2025-04-10", "gate", "acc", "voluntary", 50),
        ("2025-04-10", "other", "acc", "voluntary", 7),
        ("2025-04-20", "gate", "undocumented", "deported", 40),
        ("2025-04-30", "gate", "walk_in", "direct", 3),
        ("2025-05-01", "gate", "acc", "voluntary", 1000),
    ]
    frame = pd.DataFrame(rows, columns=["date", "crossing", "group", "mode", "persons"])
    return frame.assign(date=pd.to_datetime(frame["date"]), households=1)


GROUPS = ["acc", "undocumented", "walk_in"]


def _value(table: pd.DataFrame, month: str, quantity: str, group: str, mode: str) -> float:
    row = table[(table["month"] == month) & (table["quantity"] == quantity)
                & (table["group"] == group) & (table["mode"] == mode)]  # fmt: skip
    assert len(row) == 1, (month, quantity, group, mode)
    return float(row["value"].iloc[0])


def test_monthly_returns_by_group_and_mode_match_the_hand_count() -> None:
    table = run_table(_returns(), None, D(2025, 3, 1), WINDOW, GROUPS, None)
    expected = {
        ("2025-03", "acc", "all"): 10, ("2025-03", "undocumented", "all"): 25,
        ("2025-03", "undocumented", "deported"): 5, ("2025-03", "all", "all"): 35,
        ("2025-03", "all", "deported"): 5, ("2025-04", "acc", "all"): 87,
        ("2025-04", "acc", "deported"): 30, ("2025-04", "acc", "voluntary"): 57,
        ("2025-04", "undocumented", "all"): 40, ("2025-04", "walk_in", "direct"): 3,
        ("2025-04", "all", "all"): 130, ("2025-04", "all", "deported"): 70,
        ("2025-04", "all", "direct"): 3, ("2025-04", "walk_in", "voluntary"): 0,
    }  # fmt: skip
    for (month, group, mode), persons in expected.items():
        assert _value(table, month, "returns", group, mode) == persons, (month, group, mode)
    days = table.drop_duplicates("month").set_index("month")["days"]
    assert days.to_dict() == {"2025-03": 17, "2025-04": 30}  # 15-31 March, all April
    assert "un_cumulative" not in set(table["quantity"]) and "arrests" not in set(table["quantity"])


def test_deported_share_is_deported_over_all_returns_of_the_group() -> None:
    table = run_table(_returns(), None, D(2025, 3, 1), WINDOW, GROUPS, None)
    assert _value(table, "2025-03", "deported_share", "all", "deported") == pytest.approx(
        100 * 5 / 35
    )
    assert _value(table, "2025-04", "deported_share", "acc", "deported") == pytest.approx(
        100 * 30 / 87
    )
    assert _value(table, "2025-04", "deported_share", "undocumented", "deported") == 100.0
    assert np.isnan(_value(table, "2025-03", "deported_share", "walk_in", "deported"))


def test_un_cumulative_adds_the_offset_to_returns_since_the_calendar_start() -> None:
    table = run_table(_returns(), None, D(2025, 3, 1), WINDOW, GROUPS, 1_000.0)
    # end of March: offset 1,000 + 100 (1 March, before the window) + 35 = 1,135
    assert _value(table, "2025-03", "un_cumulative", "all", "all") == 1_135
    # end of April: + 130 = 1,265; the 1,000 persons of 1 May come after the window
    assert _value(table, "2025-04", "un_cumulative", "all", "all") == 1_265


def test_monthly_arrests_by_group() -> None:
    arrests = pd.DataFrame({
        "date": pd.to_datetime(["2025-03-14", "2025-03-20", "2025-04-02", "2025-04-02"]),
        "group": ["acc", "acc", "acc", "undocumented"], "persons": [9.0, 6.0, 4.0, 12.0],
    })  # fmt: skip
    table = monthly_arrests(arrests, WINDOW, ["acc", "undocumented"])
    assert _value(table, "2025-03", "arrests", "acc", "all") == 6  # 14 March is before the window
    assert _value(table, "2025-04", "arrests", "all", "all") == 16
    assert _value(table, "2025-03", "arrests", "undocumented", "all") == 0


def test_percentiles_pool_every_run_and_impossible_cells_are_dropped() -> None:
    base = run_table(_returns(), None, D(2025, 3, 1), WINDOW, GROUPS, 0.0)
    runs = []
    for point in range(2):
        for replication in range(20):
            run = base.assign(point=point, replication=replication)
            run["value"] = run["value"] * (1 + point + replication)  # 40 scaled copies
            runs.append(run)
    table = summarise(pd.concat(runs, ignore_index=True))
    row = table[(table["month"] == "2025-04") & (table["quantity"] == "returns")
                & (table["group"] == "all") & (table["mode"] == "all")].iloc[0]  # fmt: skip
    factors = np.array([1 + p + r for p in range(2) for r in range(20)], dtype=float)
    assert row["mean"] == pytest.approx(130 * factors.mean())
    assert row["p2_5"] == pytest.approx(130 * np.percentile(factors, 2.5))
    assert row["p97_5"] == pytest.approx(130 * np.percentile(factors, 97.5))
    assert row["n"] == 40 and row["unit"] == "persons"
    cells = set(zip(table["group"], table["mode"], strict=True))
    assert ("acc", "direct") not in cells and ("walk_in", "direct") in cells
    assert ("acc", "all") in cells  # totals stay even where a month has none


def test_parameter_share_recovers_the_variance_components() -> None:
    """Values = point effect (sd 3) + replication noise (sd 1): the share of the variance due to
    the parameters is 9 / (9 + 1) = 0.9; with 400 points x 20 replications the estimate's
    standard error is about 0.005 (delta method), so 0.9 +- 0.02 holds at well over 3 se."""
    rng = np.random.default_rng(11)
    points, reps = 400, 20
    effect = rng.normal(0, 3, points)
    value = (effect[:, None] + rng.normal(0, 1, (points, reps))).ravel()
    share, sd = parameter_share(np.repeat(np.arange(points), reps), value)
    assert share == pytest.approx(0.9, abs=0.02)
    assert sd == pytest.approx(1.0, abs=0.03)
    # no point effect, 2 replications: the point means still vary (variance 1/2), which alone
    # would read as a share of 1/3; corrected, the estimate is 0 +- about 0.05 (se)
    flat, _ = parameter_share(np.repeat(np.arange(points), 2), rng.normal(0, 1, points * 2))
    assert flat < 0.15
    assert np.isnan(parameter_share(np.zeros(5, dtype=int), np.arange(5.0))[0])  # one point


def test_un_offset_interpolates_the_un_count_at_the_calendar_start() -> None:
    """Rows 102 (761,200 on 2024-11-08) and 108 (861,763 on 2025-04-05) of the UN count since
    2023-09-15: at the end of 2025-01-31, 84 of their 148 days on, 761,200 + 100,563 x 84 / 148
    = 818,276.3 persons."""
    count = un_offset(read_observed(default_observed()), D(2025, 2, 1))
    assert count.persons == pytest.approx(761_200 + 100_563 * 84 / 148)
    assert count.since == D(2023, 9, 15)
    assert "returns.csv:102" in count.words and "returns.csv:108" in count.words
    none = un_offset(read_observed(default_observed()), D(2020, 1, 1))
    assert none.persons is None and "no UN cumulative" in none.words


EXPERIMENT = f"""name: tiny_forecast
scenario: {ROOT / "scenarios" / "torkham_2025_acc.yaml"}
set: [populations.acc.persons=6000, populations.undocumented.persons=4000,
      crackdown.arrest_capacity_persons_per_day=20]
replications: 2
seed: 3
uncertainties:
  populations.undocumented.voluntary.after_deadline_per_day: {{low: 0.01, high: 0.04}}
samples: 2
forecast: {{from: 2025-02-01, until: 2025-05-31}}
"""


def test_forecast_command_writes_runs_table_figure_and_prints_months(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fc.yaml"
    path.write_text(EXPERIMENT)
    out = tmp_path / "out"
    assert main(["forecast", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| 2025-02 |" in printed and "| 2025-05 |" in printed and "2025-06" not in printed
    assert "returns.csv:102" in printed  # the offset's source rows are stated
    runs = pd.read_csv(out / "runs.csv")
    assert sorted(set(zip(runs["point"], runs["replication"], strict=True))) == [
        (0, 0), (0, 1), (1, 0), (1, 1)]  # fmt: skip
    assert {"returns", "deported_share", "arrests", "un_cumulative"} <= set(runs["quantity"])
    points = pd.read_csv(out / "points.csv")
    assert len(points) == 2
    table = pd.read_csv(out / "forecast.csv")
    for row in table.dropna(subset=["mean"]).itertuples():
        assert row.p2_5 <= row.mean <= row.p97_5
    # the run table adds up: all groups = sum over groups, per run and month
    ret = runs[(runs["quantity"] == "returns") & (runs["mode"] == "all")]
    parts = ret[ret["group"] != "all"].groupby(["point", "replication", "month"])["value"].sum()
    total = ret[ret["group"] == "all"].set_index(["point", "replication", "month"])["value"]
    assert (parts.sort_index() == total.sort_index()).all()
    # arrests: at most the arrest capacity (20 persons a day), and (the window starting with
    # the calendar, before any arrest) at least every deportee returned by the end of each month
    arrested = runs[(runs["quantity"] == "arrests") & (runs["group"] == "all")]
    assert (arrested["value"] <= 20 * arrested["days"]).all()
    deported = runs[(runs["quantity"] == "returns") & (runs["group"] == "all")
                    & (runs["mode"] == "deported")]  # fmt: skip
    keys = ["point", "replication", "month"]
    running = [f.sort_values(keys).groupby(keys[:2])["value"].cumsum().to_numpy()
               for f in (arrested, deported)]  # fmt: skip
    assert (running[0] >= running[1]).all() and running[1].max() > 0
    assert (out / "plots" / "forecast.png").stat().st_size > 0
    assert (out / "manifest.json").is_file()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("seed: 3", "sed: 3"), "did you mean 'seed'?"),
        (("until: 2025-05-31", "until: 2025-12-31"),
         "forecast.until: 2025-12-31 is outside the scenario's calendar"),
        (("from: 2025-02-01", "from: 2025-06-01"), "forecast: expected from <= until"),
        (("forecast: {", "forecast: {unti: 2025-05-01, "), "unknown key 'unti'"),
    ],
)  # fmt: skip
def test_a_bad_forecast_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: tuple[str, str], expected: str
) -> None:
    path = tmp_path / "fc.yaml"
    path.write_text(EXPERIMENT.replace(*change))
    assert main(["forecast", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and expected in err and f"{path}:" in err
    assert not (tmp_path / "o").exists()
