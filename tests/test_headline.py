"""The headline: a dozen labelled rows of the summary, the same numbers, in reading order."""

from __future__ import annotations

import pandas as pd
import pytest

from simulation.cli import main
from simulation.outputs.headline import format_headline, headline


def _summary() -> pd.DataFrame:
    rows = [
        ("persons_returned", "", "", "all", "all", 1000.0),
        ("persons_returned", "", "", "acc", "all", 400.0),
        ("persons_returned", "", "", "und", "all", 600.0),
        ("persons_returned", "", "", "all", "deported", 300.0),
        ("persons_returned", "", "", "acc", "deported", 100.0),
        ("peak_daily_crossings", "a", "", "", "", 50.0),
        ("p95_wait_hours", "a", "desk", "", "", 2.0),
        ("p95_wait_hours", "a", "gate", "", "", 7.5),
        ("worst_day_p95_wait_hours", "a", "gate", "", "", 30.0),
        ("persons_stranded_by_closures", "a", "", "", "", 0.0),
        ("persons_queued_overnight", "a", "desk", "", "", 12.0),
    ]
    frame = pd.DataFrame(rows, columns=["outcome", "crossing", "stage", "group", "mode", "mean"])
    return frame.assign(ci_low=frame["mean"] * 0.9, ci_high=frame["mean"] * 1.1,
                        unit=["persons"] * 5 + ["persons/day", "hours", "hours", "hours",
                                                "persons", "persons"], n=5)  # fmt: skip


def test_headline_picks_rows_of_the_summary_in_reading_order() -> None:
    table = headline(_summary())
    assert table["label"].tolist() == [
        "returned, all groups",
        "returned, acc",
        "returned, und",
        "deported, all groups",
        "peak day at a",
        "worst 95th-percentile wait (a/gate)",  # the larger of the two stages
        "worst day's 95th-percentile wait (a/gate)",
        "most queued overnight (a/desk)",  # nobody stranded: no line for it
    ]
    assert table["mean"].tolist() == [1000.0, 400.0, 600.0, 300.0, 50.0, 7.5, 30.0, 12.0]


def test_headline_lines_have_thousands_separators() -> None:
    lines = format_headline(headline(_summary()))
    assert "1,000 [900, 1,100] persons" in lines[0]
    assert len(lines) <= 15


def test_run_prints_at_most_about_15_lines(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import ROOT

    scenario = str(ROOT / "scenarios" / "torkham_2025_acc.yaml")
    small = [
        "--set",
        "populations.acc.persons=3000",
        "--set",
        "populations.undocumented.persons=3000",
    ]
    args = ["run", scenario, "-n", "2", "--no-plots", "--out", str(tmp_path / "r"), *small]
    assert main(args) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) <= 17 and "summary.csv" in printed[-2]
    assert main([*args, "--verbose"]) == 0
    assert len(capsys.readouterr().out.splitlines()) > 60
