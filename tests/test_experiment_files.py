"""Experiment files are validated as strictly as scenarios: one line, file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation import ScenarioError
from simulation.calibration.forecast_runs import ForecastFile
from simulation.experiments.files import ExperimentFile, as_overrides, load_experiment
from tests.conftest import APPENDED, ROOT

SHIPPED = sorted((ROOT / "experiments").glob("*.yaml"))
GOOD = f"""name: trial
scenario: {ROOT / "scenarios" / "torkham_2025_acc.yaml"}
replications: 4
seed: 3
variants:
  plus30:
    timeline+: {{event: deadline_extension, date: 2025-03-20, group: acc, new_deadline: 2025-04-30}}
"""


def _load(tmp_path: Path, text: str) -> str:
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message.removeprefix(str(path))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_experiments_validate(path: Path) -> None:
    forecast = any(line.startswith("forecast:") for line in path.read_text().splitlines())
    experiment = load_experiment(path, ForecastFile if forecast else ExperimentFile)
    assert experiment.scenario_path.is_file()


def test_a_good_file_gives_its_arms(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(GOOD)
    experiment = load_experiment(path)
    assert list(experiment.variants) == ["plus30"]
    assert experiment.arm(experiment.variants["plus30"]).timeline[-1].event == "deadline_extension"


SWEEP = GOOD.split("variants:")[0]
CASES = [
    ("replications: 4", "replicatons: 4",
     ":3: replicatons: unknown key 'replicatons'; did you mean 'replications'?"),
    ("replications: 4", "replications: 0", ":3: replications: must be >= 1 (got 0)"),
    ("seed: 3", "seed: -3", ":4: seed: must be >= 0 (got -3)"),
    ("  plus30:", "  baseline:", ":5: variants: variant name 'baseline'"),
    ("name: trial", "name: ../up", ":1: name: expected a name usable as a folder name"),
    ("seed: 3", "seed: 3\noutcomes: [p95_wait]", ":5: outcomes: unknown outcome 'p95_wait'"),
    ("seed: 3", "seed: 3\nlevers: {run.seed: {values: [1, 2]}}",
     "give variants (to compare) or levers"),
    ("new_deadline: 2025-04-30", "new_deadline: 2025-04-31",
     ":6: variants.plus30: " ),
    ("group: acc", "group: acx", f"timeline.{APPENDED}.group: unknown group; did you mean 'acc'?"),
]  # fmt: skip
SWEEP_CASES = [
    ("uncertainties: {run.seed: {low: 1, high: 9}}", "is a range: give samples"),
    ("uncertainties: {run.seed: {low: 9, high: 1}}\nsamples: 2", "expected low < high"),
    ("levers: {run.seed: {values: [-1]}}", ":5: levers.run.seed: "),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES)
def test_errors_are_one_line_with_line_and_key(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    assert expected in _load(tmp_path, GOOD.replace(old, new, 1))


@pytest.mark.parametrize(("tail", "expected"), SWEEP_CASES)
def test_sweep_errors_are_one_line(tmp_path: Path, tail: str, expected: str) -> None:
    assert expected in _load(tmp_path, SWEEP + tail + "\n")


def test_a_missing_scenario_names_the_scenario_line(tmp_path: Path) -> None:
    text = GOOD.replace(str(ROOT / "scenarios" / "torkham_2025_acc.yaml"), "nowhere.yaml")
    assert ":2: scenario: no such file" in _load(tmp_path, text)


def test_a_hostile_file_is_one_line(tmp_path: Path) -> None:
    assert "not valid YAML" in _load(tmp_path, "name: [" * 3 + "\x1b")
    assert "deep" in _load(tmp_path, "name: " + "[" * 200 + "]" * 200)


def test_mapping_overrides_become_set_texts() -> None:
    assert as_overrides({"run.seed": 4, "timeline+": {"event": "x"}}) == [
        "run.seed=4",
        "timeline+={event: x}",
    ]
    assert as_overrides(["a=1"]) == ["a=1"]
