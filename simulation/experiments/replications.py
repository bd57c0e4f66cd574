"""Running replications: seeds from ``SeedSequence``, optional worker processes, tidy results."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd
from tqdm import tqdm

from simulation.engine.run import run_model
from simulation.outputs.registry import assemble_frames, build_frames
from simulation.results import Results
from simulation.scenario.schema import Scenario


def replication_seeds(seed: int, replications: int) -> list[int]:
    """Independent 63-bit seeds for each replication, spawned from the master seed."""
    children = np.random.SeedSequence(seed).spawn(replications)
    return [int(c.generate_state(2, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def _one(scenario: Scenario, seed: int, replication: int) -> tuple[dict[str, pd.DataFrame], int]:
    raw = run_model(scenario, seed)
    return build_frames(raw, replication), raw.events


def _assemble(
    scenario: Scenario, parts: list[dict[str, pd.DataFrame]], seeds: list[int], master: int
) -> Results:
    return Results(
        **assemble_frames(parts, scenario.calendar.start),
        manifest={
            "package": "repatsim",
            "version": package_version(),
            "scenario": scenario.name,
            "seed": master,
            "replications": len(parts),
            "replication_seeds": seeds,
        },
    )


def package_version() -> str:
    """Installed version of repatsim (or 'unknown' when run from a source tree)."""
    try:
        return version("repatsim")
    except PackageNotFoundError:
        return "unknown"


def simulate(scenario: Scenario, seed: int) -> Results:
    """Run one replication (``replication`` = 0); a pure function of (scenario, seed)."""
    return run_replications(scenario, replications=1, seed=seed, _seeds=[seed])


def _iterate(
    scenario: Scenario, seeds: list[int], workers: int
) -> Iterator[tuple[dict[str, pd.DataFrame], int]]:
    if workers <= 1:
        for i, s in enumerate(seeds):
            yield _one(scenario, s, i)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_one, [scenario] * len(seeds), seeds, range(len(seeds)))


def run_replications(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    progress: bool = False,
    _seeds: list[int] | None = None,
) -> Results:
    """Run replications (default: the scenario's ``run`` settings) and combine their frames.

    Replication ``i`` uses seed ``replication_seeds(seed, n)[i]``, so results do not depend on
    ``workers``.
    """
    n = replications if replications is not None else scenario.run.replications
    master = seed if seed is not None else scenario.run.seed
    if n < 1:
        raise ValueError(f"replications(={n}) must be >= 1.")
    seeds = _seeds if _seeds is not None else replication_seeds(master, n)
    started = time.perf_counter()
    parts, events = [], 0
    bar = tqdm(total=n, desc=scenario.name, unit="rep", disable=not progress)
    for frames, count in _iterate(scenario, seeds, workers):
        parts.append(frames)
        events += count
        bar.update()
    bar.close()
    results = _assemble(scenario, parts, seeds, master)
    results.manifest["wall_seconds"] = round(time.perf_counter() - started, 3)
    results.manifest["simpy_events"] = events
    results.manifest["workers"] = workers
    return results


def compare(results: dict[str, Results]) -> pd.DataFrame:
    """Summaries of several runs side by side, with a ``scenario`` column (e.g. policy options)."""
    frames = [r.summary.assign(scenario=name) for name, r in results.items()]
    out = pd.concat(frames, ignore_index=True)
    return out[["scenario", *[c for c in out.columns if c != "scenario"]]]
