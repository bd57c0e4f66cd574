"""The command line of the experiment verbs: compare and size, end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from simulation.cli import main
from simulation.experiments.paired import DIFFERENCE_COLUMNS
from tests.conftest import ROOT

EXPERIMENT = f"""name: small_ext
scenario: {ROOT / "scenarios" / "torkham_2025_acc.yaml"}
set: [populations.acc.persons=24000, populations.undocumented.persons=18000,
      calendar.end=2025-04-30, crackdown.arrest_capacity_persons_per_day=30]
replications: 3
seed: 4
variants:
  plus30:
    timeline+: {{event: deadline_extension, date: 2025-03-20, group: acc, new_deadline: 2025-04-30}}
"""
MMC = str(ROOT / "scenarios" / "textbook_mmc.yaml")


def test_compare_writes_differences_and_prints_the_shift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(EXPERIMENT)
    out = tmp_path / "out"
    assert main(["compare", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "persons_returned[all/deported]" in printed
    assert "persons_returned[undocumented/deported]" in printed
    differences = pd.read_csv(out / "differences.csv", keep_default_na=False)
    assert list(differences.columns) == DIFFERENCE_COLUMNS
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert set(outcomes["variant"]) == {"baseline", "plus30"}
    assert sorted(outcomes["replication"].unique()) == [0, 1, 2]


def test_compare_refuses_a_bad_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(EXPERIMENT.replace("seed: 4", "sed: 4"))
    assert main(["compare", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "did you mean 'seed'?" in err
    assert not (tmp_path / "o").exists()


def test_size_answers_and_writes_its_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "size"
    args = ["size", MMC, "--stage", "gate.desk", "--target", "mean_wait_hours<=0.3", "-n", "2",
            "--set", "calendar.end=2025-01-12", "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Answer: 8 servers at gate.desk." in printed
    evidence = pd.read_csv(out / "sizing.csv")
    assert (out / "plots" / "sizing.png").stat().st_size > 1000
    assert evidence["meets_target"].tolist()[-1] and 8 in evidence["servers"].tolist()


def test_size_exits_1_when_the_target_cannot_be_met(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["size", MMC, "--stage", "gate.desk", "--target", "mean_wait_hours<=0", "-n", "2",
            "--max", "2", "--set", "calendar.end=2025-01-04", "--out", str(tmp_path / "s"),
            "--quiet"]  # fmt: skip
    assert main(args) == 1
    assert "not met with up to 2 servers" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--stage", "gate.dsk", "--target", "p95_wait_hours<=2"], "no such stage"),
        (["--stage", "gate.desk", "--target", "p95<=2"], "cannot be sized"),
        (["--stage", "gate.desk", "--target", "p95_wait_hours<=2", "--max", "0"], "--max"),
    ],
)
def test_size_arguments_are_one_line(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["size", MMC, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err


def test_a_set_that_a_dated_event_overrides_is_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = str(ROOT / "scenarios" / "torkham_2025_acc.yaml")
    assert (
        main(["validate", scenario, "--set", "crossings.torkham.stages.reception.servers=4"]) == 0
    )
    err = capsys.readouterr().err
    assert (
        "warning: --set crossings.torkham.stages.reception.servers holds only until "
        "timeline.0 sets servers=14 from 2025-04-01" in err
    )


def test_sweep_runs_an_experiment_file_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(f"""name: desks
scenario: {MMC}
set: [calendar.end=2025-01-03]
replications: 2
levers:
  crossings.gate.stages.desk.servers: [7, 9]
uncertainties:
  demand.0.schedule.0.rate_per_day: {{low: 300, high: 400}}
samples: 2
""")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "4 points x 2 replications = 8 runs (0 resumed, 8 run now)" in printed
    frame = pd.read_parquet(out / "experiments.parquet")
    assert sorted(frame["crossings.gate.stages.desk.servers"].unique()) == [7, 9]
    assert main(["sweep", str(path), "--out", str(out), "--quiet", "--resume"]) == 0
    assert "(8 resumed, 0 run now)" in capsys.readouterr().out
