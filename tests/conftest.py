"""Shared fixtures: shipped scenarios, and scenarios shrunk to test size."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def shrink(scenario: Scenario, persons: int = 6000) -> Scenario:
    """The same scenario with every population cut to at most ``persons`` persons."""
    pops = {
        name: pop.model_copy(update={"persons": min(pop.persons, persons)})
        for name, pop in scenario.populations.items()
    }
    return scenario.model_copy(update={"populations": pops})


def shrink_overrides(scenario: Scenario, persons: int = 6000) -> list[str]:
    """``--set`` assignments doing what :func:`shrink` does, for the CLI."""
    return [
        f"populations.{name}.persons={min(pop.persons, persons)}"
        for name, pop in scenario.populations.items()
    ]


@pytest.fixture(params=SCENARIOS, ids=[p.stem for p in SCENARIOS])
def shipped(request: pytest.FixtureRequest) -> tuple[Path, Scenario]:
    """Each shipped scenario file and its validated scenario."""
    path: Path = request.param
    return path, load_scenario(path)
