"""``repatsim calibrate``: the calibration file, the loss, and fits that recover a known value.

The fits run a tiny scenario (one group of 500 households, one crossing, 40 days) against a
synthetic observed file made by scoring the same scenario at a known ``never_share`` with the
same replication seeds; on common random numbers the loss there is exactly 0.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulation import load_scenario, parse_scenario
from simulation.calibration import read_observed, score
from simulation.calibration.calibrate import (
    MISSING_ARD,
    Fit,
    calibrate,
    fitted_figures,
    loss_of,
    unit_to_value,
    value_to_unit,
)
from simulation.calibration.fitfile import CalibrationFile, Parameter, load_calibration
from simulation.cli import main
from simulation.experiments.replications import run_replications
from tests.conftest import ROOT

TINY = """
name: calib_tiny
calendar: {start: 2025-03-01, end: 2025-04-09}
populations:
  acc:
    persons: 1500
    household_size: {values: [3], weights: [1]}
    regions:
      north:
        share: 1.0
        crossings: {torkham: {share: 1.0, travel_hours: {dist: fixed, value: 5.0}}}
    deadline: 2025-03-31
    voluntary:
      never_share: 0.3
      ramp: {base_per_day: 0.01, peak_per_day: 0.04, ramp_days: 10}
      after_deadline_per_day: 0.01
crackdown:
  arrest_rate_per_day: 0.0
  arrest_capacity_persons_per_day: 1000
  holding: {capacity_persons: 500, dwell_hours: {dist: fixed, value: 30.0}}
  transport:
    vehicle_capacity_persons: 50
    departures_per_day: 4
    travel_hours: {dist: fixed, value: 3.0}
crossings:
  torkham:
    stages:
      desk:
        servers: 50
        service_minutes: {per_household: {dist: fixed, value: 1.0}}
"""
NEVER = "populations.acc.voluntary.never_share"
TRUTH = 0.63  # the value the synthetic observations come from (start 0.3, bounds 0.1..0.9)
REPLICATIONS, SEED = 2, 7
WINDOWS = [("2025-03-01", "2025-03-10"), ("2025-03-11", "2025-03-20"),
           ("2025-03-21", "2025-03-31"), ("2025-04-01", "2025-04-09")]  # fmt: skip
HEADER = ["date_start", "date_end", "crossing", "population_group", "metric", "value", "unit",
          "source_title", "source_url", "notes"]  # fmt: skip
CALIBRATION = f"""
scenario: tiny.yaml
observed: {{file: returns.csv, series: UN}}
replications: {REPLICATIONS}
seed: {SEED}
parameters:
  {NEVER}: {{low: 0.1, high: 0.9}}
optimizer: {{method: Nelder-Mead, max_evaluations: 12}}
"""


def write_observed(path: Path, values: list[float], metric: str = "returns_total") -> Path:
    """Torkham/ACC figures of ``metric``, one per window of :data:`WINDOWS`, series UN."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for (start, end), value in zip(WINDOWS, values, strict=True):
            out.writerow([start, end, "Torkham", "ACC", metric, value, "persons", "synthetic",
                          "https://example.org", "series=UN; source_type=un"])  # fmt: skip
    return path


def make_observed(folder: Path) -> None:
    """The tiny scenario and observed figures made from it at :data:`TRUTH` (the simulated
    means with the calibration's own seeds), written in ``folder``."""
    (folder / "tiny.yaml").write_text(TINY)
    truth = parse_scenario(TINY, "tiny.yaml", [f"{NEVER}={TRUTH}"])
    placeholder = read_observed(write_observed(folder / "returns.csv", [1.0] * len(WINDOWS)))
    made = score(truth, run_replications(truth, REPLICATIONS, SEED), placeholder)
    write_observed(folder / "returns.csv", list(made.table["simulated_mean"]))


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("made")
    make_observed(folder)
    return folder


@pytest.fixture
def synthetic(made: Path, tmp_path: Path) -> Path:
    """A calibration file beside copies of the tiny scenario and the synthetic observations."""
    for name in ("tiny.yaml", "returns.csv"):
        shutil.copy(made / name, tmp_path / name)
    (tmp_path / "calibration.yaml").write_text(CALIBRATION)
    return tmp_path / "calibration.yaml"


@pytest.fixture(scope="module")
def fitted(made: Path) -> Fit:
    (made / "calibration.yaml").write_text(CALIBRATION)
    return calibrate(load_calibration(made / "calibration.yaml"))


# ---------------------------------------------------------------- the fit
def test_the_fit_recovers_the_value_the_observations_were_made_from(fitted):
    # The simulated totals fall by about 1/(1 - never_share) = 2.7 relative per unit of
    # never_share, so a fit 0.02 off the truth would still score a loss near 0.05; Nelder-Mead's
    # simplex shrinks to 1e-3 of the range, and one household is 1/500 = 0.002 of the share.
    assert fitted.start.loss > 0.5  # starting at 0.3, far from 0.63
    assert fitted.best.values[NEVER] == pytest.approx(TRUTH, abs=0.02)
    assert fitted.best.loss < 0.05 < fitted.start.loss
    assert fitted.start.number == 1 and fitted.start.values == {NEVER: 0.3}


def test_every_evaluation_lies_within_the_bounds_and_is_run_once(fitted):
    table = fitted.table()
    assert table[NEVER].between(0.1, 0.9).all()
    assert not table[NEVER].duplicated().any()  # a point tried before is not run again
    assert list(table["evaluation"]) == list(range(1, len(table) + 1)) and len(table) <= 12
    assert fitted.best.loss == table["loss"].min()


def test_a_second_calibration_evaluates_the_same_points_with_the_same_losses(
    fitted, synthetic, capsys
):
    again = calibrate(load_calibration(synthetic), progress=True, max_evaluations=4)
    pd.testing.assert_frame_equal(again.table(), fitted.table().head(4))
    progress = capsys.readouterr().err
    assert "calibrate" in progress and "4/4" in progress and "best" in progress


def test_powell_lowers_the_loss_within_its_budget(synthetic):
    synthetic.write_text(CALIBRATION.replace("Nelder-Mead", "Powell"))
    fit = calibrate(load_calibration(synthetic), max_evaluations=4)
    assert len(fit.evaluations) == 4
    assert fit.best.loss < fit.start.loss
    assert fit.table()[NEVER].between(0.1, 0.9).all()


# ---------------------------------------------------------------- the unit cube
@given(u=st.floats(-10, 10), log=st.booleans(), integer=st.booleans(),
       low=st.floats(0.5, 100), width=st.floats(1.5, 1e4))  # fmt: skip
def test_any_point_of_the_search_maps_to_a_value_within_the_bounds(u, log, integer, low, width):
    p = Parameter("x", low, low + width, log, integer, low)
    value = unit_to_value(p, u)
    assert p.low <= value <= p.high
    assert not integer or value == round(value)


@pytest.mark.parametrize(("log", "x"), [(False, 3.0), (True, 3.0), (True, 0.001)])
def test_the_unit_cube_maps_back_to_the_value_it_came_from(log, x):
    p = Parameter("x", 0.001, 10.0, log, False, x)
    assert unit_to_value(p, value_to_unit(p, x)) == pytest.approx(x, rel=1e-3)
    middle = math.sqrt(0.001 * 10.0) if log else 5.0005  # geometric or arithmetic mean
    assert unit_to_value(p, 0.5) == pytest.approx(middle, rel=1e-3)  # 4 significant digits
    assert unit_to_value(p, 1.25) == unit_to_value(p, 0.75)  # reflected at the upper bound


# ---------------------------------------------------------------- the loss
class _Scored:
    def __init__(self, rows: list[tuple]) -> None:
        self.table = pd.DataFrame(rows, columns=["row_id", "metric", "date_end", "ard",
                                                 "comparable"])  # fmt: skip
        self.compared = self.table[self.table["comparable"]]


def test_the_weighted_loss_is_the_stated_weighted_mean_of_the_fitted_figures(synthetic):
    weights = "loss: {weights: {returns_total: 3, returns_daily_peak: 0}}\n"
    synthetic.write_text(CALIBRATION + weights)
    cal = load_calibration(synthetic)
    day = pd.Timestamp("2025-03-10").date()
    start = _Scored([("a", "returns_total", day, 0.2, True),
                     ("b", "returns_daily", day, 0.5, True),
                     ("c", "returns_daily_peak", day, 0.9, True)])  # fmt: skip
    figures = fitted_figures(cal, start)  # type: ignore[arg-type]
    assert figures == ["a", "b"]  # weight 0: not fitted
    assert loss_of(cal, start, figures) == pytest.approx((3 * 0.2 + 1 * 0.5) / 4)  # type: ignore[arg-type]
    later = _Scored([("a", "returns_total", day, math.nan, False),
                     ("b", "returns_daily", day, 0.1, True)])  # fmt: skip
    assert loss_of(cal, later, figures) == pytest.approx((3 * MISSING_ARD + 0.1) / 4)  # type: ignore[arg-type]


def test_only_figures_ending_from_the_window_start_are_fitted(synthetic):
    synthetic.write_text(CALIBRATION.replace("series: UN}", "series: UN, from: 2025-03-15}"))
    cal = load_calibration(synthetic)
    day = pd.Timestamp("2025-03-15").date()
    scored = _Scored([("before", "returns_total", day - pd.Timedelta(days=1), 0.5, True),
                      ("on", "returns_total", day, 0.5, True)])  # fmt: skip
    assert fitted_figures(cal, scored) == ["on"]  # type: ignore[arg-type]


# ---------------------------------------------------------------- the command
def test_the_command_writes_a_fitted_scenario_that_reproduces_its_loss(synthetic, tmp_path, capsys):
    path = synthetic
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--max-evaluations", "3"]) == 0
    printed = capsys.readouterr().out
    assert "at the start ->" in printed and f"{NEVER}: 0.3 ->" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) >= {"fitted_scenario.yaml", "parameters.csv", "evaluations.csv",
                                      "score.csv", "skipped.csv", "plots/score.png",
                                      "plots/evaluations.png"}  # fmt: skip
    params = pd.read_csv(out / "parameters.csv")
    assert list(params.columns[:5]) == ["name", "start", "fitted", "low", "high"]
    assert params.loc[0, "fitted"] == manifest["fitted"][NEVER]
    assert len(pd.read_csv(out / "evaluations.csv")) == 3
    text = (out / "fitted_scenario.yaml").read_text()
    assert text.startswith("# Fitted by repatsim calibrate")
    assert main(["validate", str(out / "fitted_scenario.yaml")]) == 0
    scenario = load_scenario(out / "fitted_scenario.yaml")
    assert scenario.populations["acc"].voluntary.never_share == manifest["fitted"][NEVER]
    cal = load_calibration(path)
    rescored = score(scenario, run_replications(scenario, REPLICATIONS, SEED), cal.observed)
    assert loss_of(cal, rescored, manifest["figures_fitted"]) == manifest["loss_fitted"]
    table = pd.read_csv(out / "score.csv")
    assert table["ard"].mean() == pytest.approx(manifest["loss_fitted"])


# ---------------------------------------------------------------- bad files: one line each
BAD = [
    ("parameters:", "paramters:", 6, "unknown key 'paramters'"),
    ("{low: 0.1, high: 0.9}", "{low: 0.9, high: 0.1}", 7, "expected low < high"),
    ("{low: 0.1, high: 0.9}", "{low: 0, high: 0.9, scale: log}", 7, "scale: log needs low > 0"),
    ("{low: 0.1, high: 0.9}", "{low: 0.4, high: 0.9}", 7, "value 0.3 lies outside the bounds"),
    ("{low: 0.1, high: 0.9}", "{low: 0.1, high: 1.5}", 7, "at 1.5:"),
    ("voluntary.never_share:", "voluntary.never_shar:", 7,
     "no such key path in the scenario: populations.acc.voluntary has no 'never_shar'"),
    (f"{NEVER}: {{low: 0.1, high: 0.9}}", "populations.acc.deadline: {low: 0, high: 1}", 7,
     "the scenario's value is not a number"),
    ("method: Nelder-Mead", "method: BFGS", 8, "optimizer.method"),
    ("max_evaluations: 12", "max_evaluations: 0", 8, "optimizer.max_evaluations"),
    ("replications: 2", "replications: 0", 4, "replications"),
    ("scenario: tiny.yaml", "scenario: nowhere.yaml", 2, "no such scenario file"),
    ("series: UN}", "series: Taliban}", 3, "no rows of series 'Taliban'"),
    ("series: UN}", "series: UN, from: 2025-05-01, until: 2025-04-01}", 3,
     "until 2025-04-01 is before from 2025-05-01"),
    ("seed: 7", "seed: 7\nloss: {weights: {returns_totl: 2}}", 6, "unknown metric 'returns_totl'"),
    ("seed: 7", "seed: 7\nloss: median", 6, "loss"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "line", "message"), BAD, ids=[b[3][:30] for b in BAD])
def test_a_bad_calibration_file_is_one_line_with_file_line_and_key(
    synthetic, tmp_path, capsys, old, new, line, message
):
    path = synthetic
    assert old in CALIBRATION
    path.write_text(CALIBRATION.replace(old, new))
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert err.startswith(f"error: {path}:{line}: ")
    assert not out.exists()


@pytest.mark.parametrize(("text", "message"), [
    ("- a list\n", "expected a mapping"),
    ("a: &a [1]\n" + "".join(f"b{i}: &b{i} [*a, *a]\n" for i in range(120)), "alias"),
    ("parameters: " + "[" * 40 + "]" * 40 + "\n", "nest"),
])  # fmt: skip
def test_a_hostile_calibration_file_is_refused_in_one_line(tmp_path, capsys, text, message):
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    assert main(["calibrate", str(path), "-q", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and str(path) in err, err


def test_no_comparable_figure_is_one_line(synthetic, tmp_path, capsys):
    path = synthetic
    path.write_text(CALIBRATION.replace("series: UN}", "series: UN, from: 2025-06-01}"))
    assert main(["calibrate", str(path), "-q", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing to fit" in err


def test_the_file_schema_takes_from_as_the_window_start():
    data = {"scenario": "x.yaml", "observed": {"from": "2025-02-01"},
            "parameters": {"a.b": {"low": 1, "high": 2}}}  # fmt: skip
    spec = CalibrationFile.model_validate(data)
    assert str(spec.observed.start) == "2025-02-01" and spec.loss == "mean_ard"


@pytest.mark.parametrize("path", sorted((ROOT / "calibrations").glob("*.yaml")))
def test_each_shipped_calibration_file_is_valid(path):
    calibration = load_calibration(path)
    for p in calibration.parameters:
        assert p.low <= p.start <= p.high
