"""Figures drawn on a second core while the tables are written (``write_results(two_cores)``).

A forked child draws and saves half of the figures; the files must be byte for byte those of
drawing every figure in one process, a figure the child fails to write must fail the whole
write (and leave no results folder), and no child is forked while another thread runs. The
test process may run threads of its own (pytest-xdist's), so the fork itself is exercised in a
fresh single-threaded interpreter.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from simulation import results as results_module
from tests.conftest import ROOT

SCRIPT = """
import os, sys
import matplotlib
matplotlib.use("Agg")
from simulation.scenario import load_scenario, scenario_to_yaml
from simulation.experiments.replications import run_replications
from simulation.plots import policy_events
from simulation.plots.standard import standard_figure_makers
from simulation.results import write_results

from tqdm import tqdm
tqdm.monitor_interval = 0  # as the command line does: no monitor thread
forks = []
fork = os.fork
def counted():
    forks.append(1)
    return fork()
os.fork = counted
scenario = load_scenario(sys.argv[1], ["populations.acc.persons=20000",
                                       "populations.undocumented.persons=20000"])
r = run_replications(scenario, 1)
makers = standard_figure_makers(r.daily_stage, r.returns, r.stocks,
                                events=policy_events(scenario), who_waits=r.who_waits)
if sys.argv[3] == "fail":
    def broken():
        raise RuntimeError("no ink")
    makers = {"broken": broken, **makers}
try:
    write_results(r, sys.argv[2], scenario_to_yaml(scenario), "csv", makers,
                  two_cores=sys.argv[3] != "one")
except OSError as exc:
    print("OSError", exc)
print("forks", len(forks))
"""


def _write(out: Path, mode: str) -> str:
    """Write the default scenario's (shrunk) results to ``out`` in a fresh interpreter:
    ``two`` cores, ``one``, or ``fail`` (two cores, the child's first figure raising)."""
    scenario = ROOT / "scenarios" / "torkham_2025_acc.yaml"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(scenario), str(out), mode],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=True,
    )  # fmt: skip
    return done.stdout + done.stderr


def test_two_cores_write_the_files_one_core_writes(tmp_path: Path) -> None:
    assert "forks 1" in _write(tmp_path / "two", "two")
    assert "forks 0" in _write(tmp_path / "one", "one")
    two = sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*.*"))
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.*"))
    assert two == one and any(p.suffix == ".png" for p in one)
    for path in one:
        if path.name != "manifest.json":  # it holds the run's times
            assert (tmp_path / "two" / path).read_bytes() == (tmp_path / "one" / path).read_bytes()


def test_a_figure_the_child_cannot_draw_fails_the_write(tmp_path: Path) -> None:
    said = _write(tmp_path / "out", "fail")
    assert "forks 1" in said and "OSError" in said and "no ink" in said
    assert not (tmp_path / "out").exists()  # no half-written results folder


def test_no_child_is_forked_while_another_thread_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> int:
        raise AssertionError("forked while a thread runs")

    monkeypatch.setattr(results_module.os, "fork", refuse)
    stop = threading.Event()
    waiting = threading.Thread(target=stop.wait)
    waiting.start()
    try:
        assert not results_module._can_fork()
        drawn: list[str] = []
        figures = {name: (lambda n=name: drawn.append(n)) for name in ("a", "b")}
        monkeypatch.setattr(
            results_module, "_save_figures", lambda tmp, f: [g() for g in f.values()]
        )
        results_module._write_files(tmp_path, _empty_results(), "x: 1\n", "csv", figures, True)
        assert drawn == ["a", "b"]  # both here, in order
    finally:
        stop.set()
        waiting.join()


def _empty_results() -> results_module.Results:
    import pandas as pd

    empty = pd.DataFrame({"replication": []})
    return results_module.Results(empty, empty, empty, empty, empty, empty, empty)
