"""Running replications: seeds from ``SeedSequence``, optional worker processes, tidy results."""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd
from tqdm import tqdm

from simulation.engine.run import run_model
from simulation.experiments.runners import LocalRunner, Runner
from simulation.outputs.registry import assemble_frames, build_frames
from simulation.results import Results
from simulation.scenario.schema import Scenario


def replication_seeds(seed: int, replications: int) -> list[int]:
    """Independent 63-bit seeds for each replication, spawned from the master seed."""
    children = np.random.SeedSequence(seed).spawn(replications)
    return [int(c.generate_state(2, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def _one(task: tuple[Scenario, int, int]) -> tuple[dict[str, pd.DataFrame], int]:
    """Frames of one replication (``task``: scenario, seed, replication number)."""
    scenario, seed, replication = task
    raw = run_model(scenario, seed)
    return build_frames(raw, replication), raw.events


def package_version() -> str:
    """Installed version of repatsim (or 'unknown' when run from a source tree)."""
    try:
        return version("repatsim")
    except PackageNotFoundError:
        return "unknown"


def simulate(scenario: Scenario, seed: int) -> Results:
    """Run one replication (``replication`` = 0) with exactly this seed; a pure function of
    (scenario, seed). Its manifest says ``master_seed: null``: no seeds were spawned."""
    return _run(scenario, [seed], None, LocalRunner(1), progress=False)


def run_replications(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    progress: bool = False,
    runner: Runner | None = None,
) -> Results:
    """Run replications (default: the scenario's ``run`` settings) and combine their frames.

    Replication ``i`` runs ``simulate(scenario, replication_seeds(seed, n)[i])`` exactly: the
    manifest keeps ``master_seed`` and ``replication_seeds``. Results do not depend on
    ``workers`` or ``runner`` (local processes or a Dask cluster).
    """
    n = replications if replications is not None else scenario.run.replications
    master = seed if seed is not None else scenario.run.seed
    if n < 1:
        raise ValueError(f"replications(={n}) must be >= 1.")
    if not 0 <= master < 2**63:
        raise ValueError(f"seed(={master}) must be in 0..2**63-1.")
    seeds = replication_seeds(master, n)
    return _run(scenario, seeds, master, runner or LocalRunner(workers), progress)


def _run(
    scenario: Scenario, seeds: list[int], master: int | None, runner: Runner, progress: bool
) -> Results:
    started = time.perf_counter()
    tasks = [(scenario, s, i) for i, s in enumerate(seeds)]
    parts, events = [], 0
    bar = tqdm(total=len(tasks), desc=scenario.name, unit="rep", disable=not progress)
    for frames, count in runner.map(_one, tasks):
        parts.append(frames)
        events += count
        bar.update()
    bar.close()
    manifest = {
        "package": "repatsim",
        "version": package_version(),
        "scenario": scenario.name,
        "master_seed": master,
        "replications": len(seeds),
        "replication_seeds": seeds,
        "seed_rule": "replication i = simulate(scenario, replication_seeds[i])",
        "runner": getattr(runner, "describe", lambda: type(runner).__name__)(),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "simpy_events": events,
    }
    return Results(**assemble_frames(parts, scenario.calendar.start), manifest=manifest)


def side_by_side(results: dict[str, Results]) -> pd.DataFrame:
    """Summaries of several runs side by side, with a ``scenario`` column (no differences or
    intervals for them: for a policy comparison use :func:`simulation.compare`)."""
    frames = [r.summary.assign(scenario=name) for name, r in results.items()]
    out = pd.concat(frames, ignore_index=True)
    return out[["scenario", *[c for c in out.columns if c != "scenario"]]]
