"""The command line end to end on every shipped scenario (shrunk populations)."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from simulation.cli import main
from simulation.results import read_results
from tests.conftest import shrink_overrides

EXPECTED_COLUMNS = {
    "daily_stage.csv": {
        "replication",
        "date",
        "crossing",
        "stage",
        "arrivals_households",
        "arrivals_persons",
        "completions_households",
        "completions_persons",
        "queue_mean_households",
        "queue_max_households",
        "queue_mean_persons",
        "queue_max_persons",
        "in_service_mean_households",
        "wait_mean_hours",
        "wait_p50_hours",
        "wait_p95_hours",
    },
    "hourly_queue.csv": {
        "replication",
        "time",
        "crossing",
        "stage",
        "queue_households",
        "queue_persons",
    },
    "returns.csv": {"replication", "date", "crossing", "group", "mode", "households", "persons"},
    "stocks.csv": {
        "replication",
        "date",
        "group",
        "in_pakistan",
        "travelling",
        "detained",
        "at_crossing",
        "returned",
    },
    "summary.csv": {
        "outcome",
        "crossing",
        "stage",
        "group",
        "mode",
        "mean",
        "ci_low",
        "ci_high",
        "n",
    },
}


def test_run_writes_every_output(shipped, tmp_path, capsys):
    path, scenario = shipped
    out = tmp_path / "out"
    args = ["run", str(path), "-n", "2", "--seed", "3", "--out", str(out), "-q"]
    for assignment in shrink_overrides(scenario):
        args += ["--set", assignment]
    assert main(args) == 0
    for name, columns in EXPECTED_COLUMNS.items():
        frame = pd.read_csv(out / name)
        assert columns <= set(frame.columns), f"{name} lacks {columns - set(frame.columns)}"
        if name != "stocks.csv" or scenario.populations:
            assert (
                sorted(frame["replication"].unique()) == [0, 1] if "replication" in frame else True
            )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == 2 and manifest["master_seed"] == 3
    assert len(manifest["replication_seeds"]) == 2 and manifest["simpy_events"] > 0
    assert len(manifest["scenario_sha256"]) == 64
    assert (out / "scenario.resolved.yaml").exists()
    assert {p.name for p in (out / "plots").iterdir()} >= {"queues.png", "returns.png"}
    assert read_results(out).summary.shape[0] > 0


def test_parquet_and_reread(tmp_path):
    out = tmp_path / "pq"
    code = main(
        [
            "run",
            "scenarios/textbook_mmc.yaml",
            "-n",
            "1",
            "--out",
            str(out),
            "-q",
            "--format",
            "parquet",
            "--no-plots",
            "--set",
            "calendar.end=2025-01-05",
        ]
    )
    assert code == 0
    again = read_results(out)
    assert pd.api.types.is_datetime64_any_dtype(again.daily_stage["date"])


def test_validate_reports_ok(capsys):
    assert main(["validate", "scenarios/textbook_mmc.yaml"]) == 0
    assert "ok: scenarios/textbook_mmc.yaml" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["validate", "nowhere.yaml"], ["run", "nowhere.yaml"]])
def test_missing_file_is_one_line_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nowhere.yaml" in err and "Traceback" not in err


def _short_run(out):
    """CLI arguments for a three-day textbook run into ``out`` (no plots)."""
    return ["run", "scenarios/textbook_mmc.yaml", "-n", "1", "--out", str(out), "-q",
            "--no-plots", "--set", "calendar.end=2025-01-03"]  # fmt: skip


def test_results_folder_is_an_ordinary_folder_and_no_temporary_folders_stay(tmp_path):
    out = tmp_path / "res"
    args = _short_run(out)
    assert main(args) == 0
    assert main(args) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert (out.stat().st_mode & 0o777) == 0o777 & ~umask  # an ordinary folder, not private
    assert [p.name for p in tmp_path.iterdir()] == ["res"]  # no temporary folders left


def test_failed_run_leaves_earlier_results_untouched(tmp_path, monkeypatch, capsys):
    out = tmp_path / "res"
    args = _short_run(out)
    assert main(args) == 0
    before = (out / "summary.csv").read_bytes()

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    assert main([*args, "--format", "parquet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "disk full" in err and "Traceback" not in err
    assert (out / "summary.csv").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--seed", "-1"], ["--seed", "2**63", "'-1'"]),
        (["--seed", "abc"], ["--seed", "whole number", "'abc'"]),
        (["--seed", str(2**63)], ["--seed", "2**63"]),
        (["--workers", "0"], ["--workers", ">= 1"]),
        (["--workers", "-1"], ["--workers", ">= 1"]),
        (["--replications", "0"], ["--replications", ">= 1"]),
        (["-n", "10000000"], ["--replications", "<="]),
        (["-n", "2.5"], ["--replications", "'2.5'"]),
        (["--bogus"], ["unrecognized", "--bogus"]),
        (["--format", "xlsx"], ["--format", "xlsx"]),
    ],
)
def test_bad_arguments_are_one_line_exit_2(flags, words, tmp_path, capsys, monkeypatch):
    import simulation.experiments.replications as replications

    monkeypatch.setattr(replications, "run_replications", None)  # must not be reached
    argv = ["run", "scenarios/textbook_mmc.yaml", "--out", str(tmp_path / "r"), *flags]
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.count("\n") == 0 and err.startswith("error: "), err
    assert "Traceback" not in err and "usage:" not in err and captured.out == ""
    assert all(word in err for word in words), err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [[], ["frob"], ["validate"]])
def test_a_bad_command_is_one_line_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and "usage:" not in err


@pytest.mark.parametrize("flags", [["--seed", "0"], ["--seed", str(2**63 - 1)], ["--workers", "1"]])
def test_edge_arguments_are_accepted(flags, tmp_path):
    assert main([*_short_run(tmp_path / "r"), *flags]) == 0
