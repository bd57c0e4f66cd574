"""Results folders never cost a user their files: refusals, replacement, stale temporary folders."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulation.cli import main
from simulation.folders import MARKER
from simulation.results import ResultsFolderError, read_results, write_results

ROOT = Path(__file__).resolve().parents[1]
TEXTBOOK = ROOT / "scenarios" / "textbook_mmc.yaml"
TINY = ["-n", "1", "-q", "--no-plots", "--set", "calendar.end=2025-01-03"]


def _run(out: Path | str, *extra: str) -> int:
    """A three-day textbook run into ``out``."""
    return main(["run", str(TEXTBOOK), *TINY, "--out", str(out), *extra])


def _snapshot(path: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every entry under ``path`` (and ``path`` itself): its bytes (files) and mtime."""
    entries = [path, *sorted(path.rglob("*"))] if path.is_dir() else [path]
    return {
        str(p.relative_to(path.parent)): (p.read_bytes() if p.is_file() else None,
                                          p.stat().st_mtime_ns)
        for p in entries
    }  # fmt: skip


def _one_line_refusal(capsys: pytest.CaptureFixture[str], *words: str) -> None:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert err.startswith("error: ") and all(w in err for w in words), err


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """A spy in place of the simulation: the list of calls it received."""
    import simulation.experiments.replications as replications

    calls: list[object] = []
    monkeypatch.setattr(replications, "run_replications", lambda *a, **k: calls.append(a))
    return calls


# ---------------------------------------------------------------- refusals
def test_a_folder_of_the_users_files_is_refused_untouched(tmp_path, capsys, no_simulation):
    home = tmp_path / "home"
    (home / "photos").mkdir(parents=True)
    (home / "thesis.docx").write_bytes(b"years of work")
    (home / "photos" / "a.jpg").write_bytes(b"\xff\xd8")
    before = _snapshot(home)
    assert _run(home) == 2
    _one_line_refusal(capsys, str(home), "thesis.docx")
    assert _snapshot(home) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]
    assert no_simulation == []  # refused before simulating


def test_an_existing_file_as_out_is_refused(tmp_path, capsys, no_simulation):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    before = _snapshot(target)
    assert _run(target) == 2
    _one_line_refusal(capsys, "notes.txt", "not a folder")
    assert _snapshot(target) == before and no_simulation == []


def test_a_repatsim_folder_with_one_extra_user_file_is_refused(tmp_path, capsys):
    out = tmp_path / "res"
    assert _run(out) == 0
    (out / "my_analysis.xlsx").write_bytes(b"added by hand")
    before = _snapshot(out)
    assert _run(out, "--seed", "9") == 2
    _one_line_refusal(capsys, "my_analysis.xlsx")
    assert _snapshot(out) == before


@pytest.mark.parametrize("manifest", [None, "{not json", '{"package": "other", "files": []}'])
def test_a_folder_without_repatsims_manifest_is_refused(tmp_path, capsys, manifest):
    out = tmp_path / "res"
    out.mkdir()
    (out / "summary.csv").write_text("a user's own summary")
    if manifest is not None:
        (out / "manifest.json").write_text(manifest)
    before = _snapshot(out)
    assert _run(out) == 2
    _one_line_refusal(capsys, "summary.csv")
    assert _snapshot(out) == before


def test_a_results_folder_of_an_older_repatsim_is_refused_with_a_hint(tmp_path, capsys):
    out = tmp_path / "res"
    assert _run(out) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["files"]  # as written before repatsim listed its files
    (out / "manifest.json").write_text(json.dumps(manifest))
    before = _snapshot(out)
    assert _run(out) == 2
    _one_line_refusal(capsys, "older repatsim", "delete it yourself")
    assert _snapshot(out) == before


def test_the_python_api_refuses_too(tmp_path):
    out = tmp_path / "res"
    assert _run(out) == 0
    results = read_results(out)
    home = tmp_path / "home"
    home.mkdir()
    (home / "keep.txt").write_text("keep")
    with pytest.raises(ResultsFolderError, match=r"keep\.txt"):
        write_results(results, home, "name: x\n")
    assert (home / "keep.txt").read_text() == "keep" and len(list(home.iterdir())) == 1


@pytest.mark.parametrize("folder", ["res", ".res.old"])
def test_a_file_saved_during_the_run_stops_the_swap(tmp_path, monkeypatch, folder):
    import simulation.results as module

    out, mine = tmp_path / "res", tmp_path / folder / "saved_meanwhile.txt"
    assert _run(out) == 0
    results, before = read_results(out), _snapshot(out)
    written = module._write_files

    def user_saves_meanwhile(*args, **kwargs):
        mine.parent.mkdir(exist_ok=True)
        mine.write_text("mine")
        return written(*args, **kwargs)

    monkeypatch.setattr(module, "_write_files", user_saves_meanwhile)
    with pytest.raises(ResultsFolderError, match=r"saved_meanwhile\.txt"):
        write_results(results, out, "name: x\n")
    assert mine.read_text() == "mine"
    after = {k: v for k, v in _snapshot(out).items() if k not in ("res", "res/" + mine.name)}
    del before["res"]
    assert after == before
    assert {p.name for p in tmp_path.iterdir()} == {"res", folder}  # no temporary folder left


def test_an_unwritable_destination_fails_before_simulating(tmp_path, capsys, no_simulation):
    (tmp_path / "file.txt").write_text("")
    assert _run(tmp_path / "file.txt" / "res") == 2
    _one_line_refusal(capsys, "file.txt", "not a folder")
    assert no_simulation == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_fails_before_simulating(tmp_path, capsys, no_simulation):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert _run(locked / "res") == 2
    finally:
        locked.chmod(0o700)
    _one_line_refusal(capsys, "permission")
    assert no_simulation == []


# ---------------------------------------------------------------- what may be replaced
def test_an_empty_folder_may_be_used(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    assert _run(out) == 0
    assert (out / "summary.csv").exists()


def test_a_repatsim_folder_is_replaced_whole(tmp_path):
    out = tmp_path / "res"
    assert _run(out, "--format", "parquet") == 0
    files = json.loads((out / "manifest.json").read_text())["files"]
    assert "summary.parquet" in files and "manifest.json" in files
    assert _run(out) == 0  # now csv: the parquet files it wrote before are gone
    assert not list(out.glob("*.parquet")) and (out / "summary.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_plots_are_listed_and_replaced(tmp_path):
    out = tmp_path / "res"
    args = ["run", str(TEXTBOOK), "-n", "1", "-q", "--set", "calendar.end=2025-01-03"]
    assert main([*args, "--out", str(out)]) == 0
    files = json.loads((out / "manifest.json").read_text())["files"]
    assert {f for f in files if f.startswith("plots/")} == {
        f"plots/{p.name}" for p in (out / "plots").iterdir()
    }
    assert main([*args, "--out", str(out), "--no-plots"]) == 0
    assert not (out / "plots").exists()


def test_an_override_run_gets_its_own_default_folder(tmp_path, monkeypatch):
    tiny = tmp_path / "tiny.yaml"
    text = TEXTBOOK.read_text().replace("end: 2025-03-01", "end: 2025-01-03")
    tiny.write_text(text.replace("replications: 10", "replications: 1"))
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(tiny), "-q", "--no-plots"]) == 0
    baseline = (tmp_path / "results" / "textbook_mmc" / "summary.csv").read_bytes()
    override = "crossings.gate.stages.desk.servers=9"
    assert main(["run", str(tiny), "-q", "--no-plots", "--set", override]) == 0
    folders = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert len(folders) == 2 and folders[0] == "textbook_mmc", folders
    assert (tmp_path / "results" / "textbook_mmc" / "summary.csv").read_bytes() == baseline
    manifest = json.loads((tmp_path / "results" / folders[1] / "manifest.json").read_text())
    assert manifest["overrides"] == [override]


# ---------------------------------------------------------------- killed runs
_KILLED_WRITER = """
import sys, time
from simulation.results import read_results, write_results

class Stuck:
    def savefig(self, path, **kwargs):
        open(path, "wb").close()
        time.sleep(600)

write_results(read_results(sys.argv[1]), sys.argv[2], "name: x\\n", figures={"q": Stuck()})
"""


def _killed_while_writing(source: Path, out: Path) -> Path:
    """Kill a process writing ``out`` half way; return the temporary folder it left."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(source), str(out)], env=env)
    deadline = time.monotonic() + 60
    while not list(out.parent.glob(f".{out.name}.*/plots/q.png")):
        assert proc.poll() is None and time.monotonic() < deadline, "the writer never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (left,) = out.parent.glob(f".{out.name}.*/plots/q.png")
    return left.parent.parent


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_the_next_run_removes_a_killed_runs_temporary_folder(tmp_path):
    source, out = tmp_path / "source", tmp_path / "res"
    assert _run(source) == 0
    left = _killed_while_writing(source, out)
    assert (left / MARKER).exists()
    users = [tmp_path / ".res.abcd1234", tmp_path / ".res.old.txt"]  # similar names, no marker
    users[0].mkdir()
    (users[0] / "summary.csv").write_text("mine")
    users[1].write_text("mine")
    assert _run(out) == 0
    assert not left.exists()
    assert (users[0] / "summary.csv").read_text() == "mine" and users[1].read_text() == "mine"


def test_a_temporary_folder_with_a_users_file_keeps_that_file(tmp_path):
    source, out = tmp_path / "source", tmp_path / "res"
    assert _run(source) == 0
    left = tmp_path / ".res.zz99zz99"
    left.mkdir()
    (left / MARKER).write_text(json.dumps({"package": "repatsim", "pid": 2**22 + 1, "host": ""}))
    os.utime(left / MARKER, (0, 0))  # from another machine, long ago
    (left / "summary.csv").write_text("half written")
    (left / "mine.txt").write_text("mine")
    assert _run(out) == 0
    assert sorted(p.name for p in left.iterdir()) == ["mine.txt"]


def test_a_swap_folder_left_by_a_killed_run_is_removed(tmp_path):
    out = tmp_path / "res"
    assert _run(out) == 0
    out.rename(tmp_path / ".res.old")  # killed between the two renames of the swap
    assert _run(out) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_a_users_folder_named_like_the_swap_folder_is_refused(tmp_path, capsys, no_simulation):
    old = tmp_path / ".res.old"
    old.mkdir()
    (old / "diary.txt").write_text("mine")
    before = _snapshot(old)
    assert _run(tmp_path / "res") == 2
    _one_line_refusal(capsys, "diary.txt")
    assert _snapshot(old) == before and no_simulation == []


def test_a_running_writers_temporary_folder_is_left_alone(tmp_path):
    out = tmp_path / "res"
    busy = tmp_path / ".res.busy1234"  # another repatsim process, still writing
    busy.mkdir()
    owner = {"package": "repatsim", "pid": os.getpid(), "host": socket.gethostname()}
    (busy / MARKER).write_text(json.dumps(owner))
    (busy / "summary.csv").write_text("being written")
    assert _run(out) == 0
    assert sorted(p.name for p in busy.iterdir()) == [MARKER, "summary.csv"]


@pytest.mark.parametrize(
    ("command", "module", "work"),
    [("calibrate", "simulation.calibration.calibrate", "calibrate"),
     ("forecast", "simulation.calibration.forecast_runs", "run_forecast")],
)  # fmt: skip
def test_calibrate_and_forecast_refuse_a_users_folder_before_any_work(
    tmp_path, capsys, monkeypatch, command, module, work
):
    """A folder of the user's is refused in one line, untouched, and nothing is simulated."""
    import importlib

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{command} simulated before refusing the folder")

    monkeypatch.setattr(importlib.import_module(module), work, no_work)
    files = {"calibrate": ROOT / "calibrations" / "torkham_2025_acc.yaml",
             "forecast": ROOT / "experiments" / "ifrp_2025_forecast.yaml"}  # fmt: skip
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    before = _snapshot(home)
    assert main([command, str(files[command]), "--out", str(home), "-q"]) == 2
    assert _snapshot(home) == before
    _one_line_refusal(capsys, "did not write", "notes.txt")
