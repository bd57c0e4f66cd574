"""The outputs layer's two registries: outcomes (unit, direction, keys) and frames (order, dates).

Every shipped scenario, shrunk, is run once; what it produces is checked against the registries.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from simulation import Results, load_scenario, run_replications, simulate, write_results
from simulation.outputs.outcomes import BREAKDOWNS, BY_NAME, OUTCOMES, Direction, Outcome
from simulation.outputs.registry import DATE_COLUMNS, FRAME_NAMES, FRAME_SPECS, FrameSpec
from simulation.outputs.summary import KEYS
from tests.conftest import ROOT, SCENARIOS, shrink


@pytest.fixture(scope="module")
def produced() -> dict[str, Results]:
    """One replication of each shipped scenario, cut to 3000 persons per population."""
    return {p.stem: simulate(shrink(load_scenario(p), 3000), seed=3) for p in SCENARIOS}


def test_every_produced_outcome_is_registered_with_unit_and_direction(produced):
    for name, results in produced.items():
        unknown = set(results.outcomes["outcome"]) - set(BY_NAME)
        assert not unknown, f"{name}: unregistered outcomes {sorted(unknown)}"
        summary = results.summary
        assert (summary["unit"] != "").all() and summary["direction"].isin(list(Direction)).all()
        expected = summary["outcome"].map(lambda o: (BY_NAME[o].unit, BY_NAME[o].direction))
        assert list(zip(summary["unit"], summary["direction"], strict=True)) == expected.tolist()


def test_every_registered_outcome_is_produced_by_some_shipped_scenario(produced):
    made = set().union(*(set(r.outcomes["outcome"]) for r in produced.values()))
    assert set(BY_NAME) - made == set()


def test_outcome_rows_are_broken_down_by_exactly_the_registered_keys(produced):
    for name, results in produced.items():
        frame = results.outcomes
        for key in BREAKDOWNS:
            registered = frame["outcome"].map(lambda o, k=key: k in BY_NAME[o].keys)
            wrong = frame.loc[(frame[key] != "") != registered, "outcome"].unique()
            assert not len(wrong), f"{name}: {key} breakdown of {list(wrong)} is not registered"


def test_registry_entries_are_complete_and_unique():
    assert len(BY_NAME) == len(OUTCOMES)
    for o in OUTCOMES:
        assert o.unit and o.description and isinstance(o.direction, Direction)
    with pytest.raises(ValueError, match="region"):
        Outcome("x", "persons", Direction.INFO, ("region",), "a breakdown that does not exist")


def test_summary_keeps_its_columns_and_ends_with_direction_then_date(produced):
    columns = [*KEYS, "mean", "ci_low", "ci_high", "sd", "n", "unit", "direction", "mean_date"]
    for results in produced.values():
        assert list(results.summary.columns) == columns


@pytest.fixture(scope="module")
def two_replications() -> Results:
    return run_replications(
        shrink(load_scenario("scenarios/torkham_2025_acc.yaml"), 2000), replications=2, seed=5
    )


def test_results_frames_are_the_registry_in_its_order(two_replications, tmp_path):
    fields = [f.name for f in dataclasses.fields(Results) if f.name != "manifest"]
    assert fields == list(FRAME_NAMES) == list(two_replications.frames())
    out = write_results(two_replications, tmp_path / "out", "name: x\n")
    assert {p.stem for p in out.glob("*.csv")} == set(FRAME_NAMES)
    for name in FRAME_NAMES[:-2]:  # built per replication: every replication is there
        assert set(getattr(two_replications, name)["replication"]) == {0, 1}


def test_date_columns_are_exactly_the_datetime_columns(two_replications):
    for name, frame in two_replications.frames().items():
        dated = {c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])}
        assert dated == set(DATE_COLUMNS[name]), name


def test_a_frame_is_built_or_derived_never_both():
    with pytest.raises(ValueError, match="exactly one"):
        FrameSpec("x", "neither")
    spec = next(s for s in FRAME_SPECS if s.build is not None)
    with pytest.raises(ValueError, match="exactly one"):
        FrameSpec("x", "both", build=spec.build, derive=lambda frames, start: pd.DataFrame())


def _imported(path: Path) -> set[str]:
    """Dotted names a module imports (``from a import b`` gives ``a.b``; relative ones resolved)."""
    package = ["simulation", "outputs"]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names |= {f"{module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names


def test_outputs_import_nothing_from_the_engine_but_its_records():
    for path in sorted((ROOT / "simulation" / "outputs").glob("*.py")):
        engine = {n for n in _imported(path) if n.startswith("simulation.engine")}
        bad = {n for n in engine if not n.startswith("simulation.engine.records")}
        assert not bad, f"{path.name} imports {sorted(bad)} from the engine"
