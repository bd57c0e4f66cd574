"""Shared fixtures and checks: shipped scenarios, scenarios shrunk to test size, and the
comparison of the two stage engines."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from simulation import Scenario, load_scenario
from simulation.engine.records import RawRun
from simulation.engine.run import run_model
from simulation.engine.stages.loop import compiled_engine

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
TOL_HOURS = 1e-9
# where an item appended to the default scenario's timeline lands (its index)
APPENDED = len(load_scenario(ROOT / "scenarios" / "torkham_2025_acc.yaml").timeline)


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


# ---------------------------------------------------------------- the two stage engines
def _visits(raw: RawRun, key: tuple[str, str]) -> np.ndarray:
    """A stage's visits as rows (hh, kind, arrive, start, end, leave), in a canonical order."""
    log = raw.stage_logs[key]
    rows = np.column_stack(
        [log["hh"], log["kind"], log["arrive"], log["start"], log["end"], log["leave"]]
    ).astype(float)
    return rows[np.lexsort(rows.T[::-1])]


def _sorted_columns(columns: dict[str, np.ndarray]) -> np.ndarray:
    rows = np.column_stack([c.astype(float) for c in columns.values()])
    return rows[np.lexsort(rows.T[::-1])] if len(rows) else rows


def fast_engines() -> list[str]:
    """The fast engines to check against the reference: the compiled one where it is built,
    and always the pure-Python one (values of ``REPATSIM_ENGINE``)."""
    return (["compiled"] if compiled_engine() is not None else []) + ["python"]


@contextmanager
def engine(name: str) -> Iterator[None]:
    """Run the fast engine ``name`` (``compiled`` or ``python``) inside the block."""
    before = os.environ.get("REPATSIM_ENGINE")
    os.environ["REPATSIM_ENGINE"] = name
    try:
        yield
    finally:
        if before is None:
            del os.environ["REPATSIM_ENGINE"]
        else:
            os.environ["REPATSIM_ENGINE"] = before


def assert_same_path(scenario: Scenario, seed: int) -> None:
    """``run_model`` with ``lookahead=True`` (FifoStage wherever it applies), on each fast
    engine, and with ``lookahead=False`` (every stage event by event) record the same visits,
    flows and exits for (scenario, seed), times to TOL_HOURS."""
    slow = run_model(scenario, seed, lookahead=False)
    for name in fast_engines():
        with engine(name):
            fast = run_model(scenario, seed)
        _assert_same_records(fast, slow, name)


def _assert_same_records(fast: RawRun, slow: RawRun, name: str) -> None:
    assert fast.stage_logs.keys() == slow.stage_logs.keys()
    for key in slow.stage_logs:
        a, b = _visits(fast, key), _visits(slow, key)
        assert a.shape == b.shape, (name, key)
        np.testing.assert_array_equal(a[:, :2], b[:, :2], err_msg=f"{name} engine: {key}")
        same_inf = np.isinf(a[:, 2:]) & (a[:, 2:] == b[:, 2:])
        with np.errstate(invalid="ignore"):
            gap = np.where(same_inf, 0.0, np.abs(a[:, 2:] - b[:, 2:]))
        assert gap.max(initial=0.0) <= TOL_HOURS, (name, key)
    for part in ("flows", "exits"):
        a, b = _sorted_columns(getattr(fast, part)), _sorted_columns(getattr(slow, part))
        assert a.shape == b.shape, (name, part)
        np.testing.assert_allclose(a, b, rtol=0, atol=TOL_HOURS, err_msg=f"{name}: {part}")
