"""Sweeps: grids and Latin hypercubes of scenario variants, on common random numbers, resumable."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from builders import demand_scenario

import simulation.experiments.sweep as module
from simulation import LocalRunner, ScenarioError, replication_seeds, sweep
from simulation.cli import main
from simulation.experiments.design import Range
from simulation.folders import ResultsFolderError, check_destination
from simulation.scenario import scenario_to_yaml

ROOT = Path(__file__).resolve().parents[1]
SERVERS = "crossings.gate.stages.desk.servers"
RATE = "demand.0.schedule.0.rate_per_day"
WAIT = "p95_wait_hours[gate/desk]"
RETURNED = "persons_returned[all/all]"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A four-day, one-desk scenario file fed by 20 households a day."""
    path = tmp_path_factory.mktemp("scenario") / "tiny.yaml"
    path.write_text(scenario_to_yaml(demand_scenario(20.0, end="2025-01-05")))
    return path


@pytest.fixture
def executed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the runs simulated in this process (a spy around one run's outcomes)."""
    calls: list[str] = []
    real = module.arm_outcomes

    def spy(task: Any) -> pd.DataFrame:
        calls.append(task[0])
        return real(task)

    monkeypatch.setattr(module, "arm_outcomes", spy)
    return calls


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _outcomes(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if "[" in c]


# ---------------------------------------------------------------- designs
def test_a_grid_runs_every_point_on_every_replication(scenario, executed):
    frame = sweep(scenario, {SERVERS: [1, 3]}, {RATE: [10.0, 40.0]}, replications=2)
    assert len(frame) == 8 and len(executed) == 8
    assert list(frame.columns[:6]) == ["run", "point", SERVERS, RATE, "replication", "seed"]
    points = frame.groupby("point")[[SERVERS, RATE]].first()
    assert [tuple(p) for p in points.to_numpy()] == list(itertools.product([1, 3], [10.0, 40.0]))
    assert frame.groupby("point")["replication"].apply(list).tolist() == [[0, 1]] * 4
    assert frame["run"].is_unique and WAIT in frame and RETURNED in frame
    heavy = frame[frame[RATE] == 40.0].set_index(["replication", SERVERS])[WAIT].unstack()
    assert (heavy[1] > heavy[3]).all()  # the lever reached the model: one desk queues more
    light = frame[frame[RATE] == 10.0].groupby(SERVERS)[RETURNED].sum()
    assert (light < frame[frame[RATE] == 40.0].groupby(SERVERS)[RETURNED].sum()).all()


def test_a_latin_hypercube_puts_one_point_in_each_stratum_reproducibly(scenario):
    design = {"uncertainties": {RATE: Range(10.0, 30.0)}, "samples": 4, "seed": 3}
    frame = sweep(scenario, **design)
    rates = frame[RATE].tolist()
    assert sorted(int((r - 10.0) // 5.0) for r in rates) == list(range(4))
    assert frame[RETURNED].corr(frame[RATE]) > 0  # each point ran on its own rate
    again = module.plan_sweep(scenario, {}, design["uncertainties"], 4, 1, 3).manifest["points"]
    assert again == [[f"{RATE}={r!r}"] for r in rates]
    other = module.plan_sweep(scenario, {}, design["uncertainties"], 4, 1, 4).manifest["points"]
    assert other != again


def test_every_point_runs_on_the_same_seeds(scenario):
    frame = sweep(scenario, {SERVERS: [6, 7]}, replications=3, seed=5)  # never six busy
    one, two = (frame[frame["point"] == p].reset_index(drop=True) for p in (0, 1))
    assert one["seed"].tolist() == two["seed"].tolist() == replication_seeds(5, 3)
    simulated = [c for c in _outcomes(one) if not c.startswith("wait_mgc_hours")]  # analytic
    pd.testing.assert_frame_equal(one[simulated], two[simulated])
    assert one[RETURNED].nunique() > 1  # yet the replications differ from one another


def test_a_point_that_breaks_the_scenario_is_named_in_one_line(scenario, tmp_path, executed):
    with pytest.raises(ScenarioError) as caught:
        sweep(scenario, {SERVERS: [1, 0]}, out_dir=tmp_path / "out")
    message = str(caught.value)
    assert "\n" not in message and "design point 1" in message and f"{SERVERS}=0" in message
    assert executed == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("design", "words"),
    [
        ({"uncertainties": {RATE: Range(1.0, 2.0)}}, "needs samples"),
        ({"levers": {SERVERS: [1]}, "samples": 4}, "is for ranges"),
        ({"levers": {SERVERS: []}}, "non-empty list"),
        ({"levers": {SERVERS: [1]}, "uncertainties": {SERVERS: [2]}}, "given twice"),
        ({"levers": {SERVERS: [1]}, "replications": 0}, "replications"),
    ],
)
def test_an_unusable_design_is_refused_in_one_line(scenario, design, words, executed):
    with pytest.raises(ScenarioError, match=words) as caught:
        sweep(scenario, **design)
    assert "\n" not in str(caught.value) and executed == []


def test_two_worker_processes_give_the_same_frame_as_one(scenario, tmp_path):
    design = {"levers": {SERVERS: [1, 2]}, "uncertainties": {RATE: Range(10.0, 30.0)}}
    one = sweep(scenario, **design, samples=1, replications=2, runner=LocalRunner(1))
    out = tmp_path / "two"
    two = sweep(scenario, **design, samples=1, replications=2, runner=LocalRunner(2), out_dir=out)
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_frame_equal(one, pd.read_parquet(out / "experiments.parquet"))


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_frame(scenario):
    from simulation import DaskRunner

    runner = DaskRunner("local", workers=2)
    try:
        dask = sweep(scenario, {SERVERS: [1, 2]}, replications=2, runner=runner)
    finally:
        runner.close()
    pd.testing.assert_frame_equal(dask, sweep(scenario, {SERVERS: [1, 2]}, replications=2))


# ---------------------------------------------------------------- the folder, run by run
def test_the_folder_holds_one_file_per_run_and_the_experiments(scenario, tmp_path):
    out = tmp_path / "out"
    frame = sweep(scenario, {SERVERS: [1, 2]}, replications=2, out_dir=out)
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert runs == ["p0000-r000.parquet", "p0000-r001.parquet", "p0001-r000.parquet",
                    "p0001-r001.parquet"]  # fmt: skip
    row = pd.read_parquet(out / "runs" / "p0001-r000.parquet")
    pd.testing.assert_frame_equal(row, frame.iloc[[2]].reset_index(drop=True))
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted(_snapshot(out))
    assert manifest["points"] == [[f"{SERVERS}=1"], [f"{SERVERS}=2"]]
    assert manifest["replication_seeds"] == frame["seed"].iloc[:2].tolist()


class Interrupted(LocalRunner):
    """Runs in this process and is interrupted (Ctrl-C) after ``after`` runs."""

    def __init__(self, after: int) -> None:
        super().__init__(1)
        self.left = after

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[Any]:
        for result in super().map(fn, tasks):
            if self.left == 0:
                raise KeyboardInterrupt
            self.left -= 1
            yield result


def test_an_interrupted_sweep_resumes_where_it_stopped(scenario, tmp_path, executed):
    out, design = tmp_path / "out", {"levers": {SERVERS: [1, 2]}, "replications": 2}
    with pytest.raises(KeyboardInterrupt):
        sweep(scenario, **design, out_dir=out, runner=Interrupted(after=3))
    finished = {p.stem for p in (out / "runs").glob("*.parquet")}
    assert finished == {"p0000-r000", "p0000-r001", "p0001-r000"}
    half = out / "runs" / ".p0001-r001.parquet.ab12cd34.tmp"  # as a kill mid-write leaves it
    half.write_bytes(b"PAR1 half")
    executed.clear()
    frame = sweep(scenario, **design, out_dir=out, resume=True)
    assert executed == ["p0001-r001"] and not half.exists()
    assert frame.attrs["sweep"]["resumed"] == 3 and frame.attrs["sweep"]["executed"] == 1
    pd.testing.assert_frame_equal(frame, sweep(scenario, **design))


_KILLED_SWEEP = """
import sys, time
import simulation.experiments.sweep as module

real = module.arm_outcomes
module.arm_outcomes = lambda task: (time.sleep(0.3), real(task))[1]
module.sweep(sys.argv[1], {sys.argv[3]: [1, 2, 3]}, replications=2, out_dir=sys.argv[2])
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_killed_sweep_resumed_redoes_no_finished_run_and_loses_none(scenario, tmp_path, executed):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", _KILLED_SWEEP, str(scenario), str(out), SERVERS]
    proc = subprocess.Popen(argv, env=env)
    deadline = time.monotonic() + 60
    while len(list(out.glob("runs/p*.parquet"))) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, "the sweep never started"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {p.stem for p in out.glob("runs/p*.parquet")}
    assert 2 <= len(finished) < 6 and not (out / "experiments.parquet").exists()
    frame = sweep(scenario, {SERVERS: [1, 2, 3]}, replications=2, out_dir=out, resume=True)
    assert sorted(executed) == sorted(set(frame["run"]) - finished)
    whole = sweep(scenario, {SERVERS: [1, 2, 3]}, replications=2, out_dir=tmp_path / "whole")
    pd.testing.assert_frame_equal(frame, whole)
    resumed, uninterrupted = (
        pd.read_parquet(p / "experiments.parquet") for p in (out, tmp_path / "whole")
    )
    pd.testing.assert_frame_equal(resumed, uninterrupted)
    assert sorted(json.loads((out / "manifest.json").read_text())["files"]) == sorted(
        _snapshot(out)
    )


def test_resuming_a_different_sweep_is_refused_in_one_line(scenario, tmp_path, executed):
    out = tmp_path / "out"
    sweep(scenario, {SERVERS: [1, 2]}, out_dir=out)
    before, executed[:] = _snapshot(out), []
    for design in ({SERVERS: [1, 3]}, {SERVERS: [1, 2], RATE: [5.0]}):
        with pytest.raises(ResultsFolderError, match="different sweep") as caught:
            sweep(scenario, design, out_dir=out, resume=True)
        assert "\n" not in str(caught.value)
    with pytest.raises(ResultsFolderError, match="different sweep"):
        sweep(scenario, {SERVERS: [1, 2]}, replications=2, out_dir=out, resume=True)
    assert _snapshot(out) == before and executed == []


def test_resuming_into_the_results_of_a_run_is_refused(tmp_path, executed):
    textbook, out = ROOT / "scenarios" / "textbook_mmc.yaml", tmp_path / "res"
    tiny = ["-n", "1", "-q", "--no-plots", "--set", "calendar.end=2025-01-03"]
    assert main(["run", str(textbook), *tiny, "--out", str(out)]) == 0
    before = _snapshot(out)
    with pytest.raises(ResultsFolderError, match="not of one written run by run"):
        sweep(textbook, common=["calendar.end=2025-01-03"], out_dir=out, resume=True)
    assert _snapshot(out) == before and executed == []


def test_a_folder_holding_a_users_file_is_refused_before_running(scenario, tmp_path, executed):
    out = tmp_path / "home"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"years of work")
    for resume in (False, True):
        with pytest.raises(ResultsFolderError, match=r"thesis\.docx") as caught:
            sweep(scenario, {SERVERS: [1, 2]}, out_dir=out, resume=resume)
        assert "\n" not in str(caught.value)
    assert _snapshot(out) == {"thesis.docx": b"years of work"} and executed == []


@pytest.mark.parametrize(
    "mine", ["notes.txt", "runs/notes.txt", "runs/p0000-r000.parquet.bak", "runs/p1-r1.parquet",
             "other/p0000-r000.parquet", "runs/.notes.txt.ab12cd34.tmp"],
)  # fmt: skip
def test_only_run_files_count_as_a_sweeps_own(scenario, tmp_path, mine, executed):
    out = tmp_path / "out"
    sweep(scenario, {SERVERS: [1]}, out_dir=out)
    (out / mine).parent.mkdir(exist_ok=True)
    (out / mine).write_text("mine")
    before, executed[:] = _snapshot(out), []
    for resume in (False, True):
        with pytest.raises(ResultsFolderError, match="did not write"):
            sweep(scenario, {SERVERS: [1]}, out_dir=out, resume=resume)
    assert _snapshot(out) == before and executed == []


def test_run_files_are_ours_only_in_a_folder_written_run_by_run(scenario, tmp_path):
    out = tmp_path / "out"
    sweep(scenario, {SERVERS: [1, 2]}, out_dir=out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"] = ["manifest.json", "experiments.parquet"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    check_destination(out)  # the run files and experiments: listed, or written run by run
    del manifest["run_files"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ResultsFolderError, match=r"runs/p0000-r000\.parquet"):
        check_destination(out)


def test_a_new_sweep_replaces_only_what_repatsim_wrote(scenario, tmp_path):
    out, textbook = tmp_path / "out", ROOT / "scenarios" / "textbook_mmc.yaml"
    tiny = ["-n", "1", "-q", "--no-plots", "--set", "calendar.end=2025-01-03"]
    assert main(["run", str(textbook), *tiny, "--out", str(out)]) == 0
    sweep(scenario, {SERVERS: [1, 2, 3]}, out_dir=out)  # replaces a run's results
    assert not (out / "summary.csv").exists() and len(list(out.glob("runs/*"))) == 3
    frame = sweep(scenario, {SERVERS: [4]}, replications=2, out_dir=out)  # another design
    assert sorted(p.name for p in (out / "runs").iterdir()) == [
        "p0000-r000.parquet", "p0000-r001.parquet"]  # fmt: skip
    pd.testing.assert_frame_equal(frame, pd.read_parquet(out / "experiments.parquet"))
    assert main(["run", str(textbook), *tiny, "--out", str(out)]) == 0  # and a run replaces it
    assert not (out / "runs").exists() and (out / "summary.csv").exists()
