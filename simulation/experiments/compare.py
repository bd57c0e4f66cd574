"""Policy comparisons: a baseline and its variants on the same replication seeds.

Every arm runs replication ``i`` on the same seed, and every source of randomness draws from its
own named stream, so the arms share their luck wherever the policy does not change it (common
random numbers). The differences are then paired by replication (:mod:`.paired`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from simulation.engine.run import run_model
from simulation.experiments.paired import differences
from simulation.experiments.replications import package_version, replication_seeds
from simulation.experiments.runners import LocalRunner, Runner
from simulation.outputs.registry import build_frames
from simulation.outputs.summary import KEYS, outcomes
from simulation.scenario import Scenario, parse_scenario, scenario_to_yaml

BASELINE = "baseline"
OUTCOME_COLUMNS = ["variant", "replication", "seed", *KEYS, "value"]


@dataclass
class Comparison:
    """Per-replication outcomes of every arm, and the paired differences from the baseline."""

    outcomes: pd.DataFrame
    differences: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)


def arm_outcomes(task: tuple[str, Scenario, int, int]) -> pd.DataFrame:
    """Outcomes of one replication of one arm (``task``: arm, scenario, seed, replication)."""
    arm, scenario, seed, replication = task
    built = build_frames(run_model(scenario, seed), replication)
    frame = outcomes(built["daily_stage"], built["returns"], built["stocks"], built["visits"])
    frame.insert(0, "variant", arm)
    frame.insert(2, "seed", seed)
    return frame[OUTCOME_COLUMNS]


def arms_from_overrides(
    scenario: str | Path | Scenario,
    variants: Mapping[str, Sequence[str]],
    common: Sequence[str] = (),
) -> dict[str, Scenario]:
    """The baseline (``common`` overrides) and each variant (``common`` plus its own) as
    validated scenarios; a scenario file is read once, a :class:`Scenario` is re-read from its
    resolved YAML."""
    if isinstance(scenario, Scenario):
        text, filename = scenario_to_yaml(scenario), f"<{scenario.name}>"
    else:
        text, filename = Path(scenario).read_text(encoding="utf-8"), str(scenario)
    arms = {BASELINE: parse_scenario(text, filename, list(common))}
    for name, overrides in variants.items():
        arms[name] = parse_scenario(text, filename, [*common, *overrides])
    return arms


def compare_arms(
    arms: Mapping[str, Scenario],
    replications: int,
    seed: int,
    runner: Runner | None = None,
    progress: bool = False,
    outcome_names: Sequence[str] = (),
) -> Comparison:
    """Run every arm on the same ``replications`` seeds and pair the outcomes.

    ``arms`` must hold the baseline under the name ``"baseline"``; ``outcome_names`` keeps only
    those outcomes (all by default).
    """
    if BASELINE not in arms:
        raise ValueError(f"arms must include {BASELINE!r} (got {sorted(arms)}).")
    started = time.perf_counter()
    seeds = replication_seeds(seed, replications)
    tasks = [(name, s, seeds[i], i) for name, s in arms.items() for i in range(replications)]
    runner = runner or LocalRunner(1)
    bar = tqdm(total=len(tasks), desc="compare", unit="run", disable=not progress)
    parts = []
    for part in runner.map(arm_outcomes, tasks):
        parts.append(part)
        bar.update()
    bar.close()
    frame = pd.concat(parts, ignore_index=True)
    if outcome_names:
        frame = frame[frame["outcome"].isin(list(outcome_names))].reset_index(drop=True)
    manifest = {
        "package": "repatsim",
        "version": package_version(),
        "kind": "compare",
        "arms": list(arms),
        "scenarios": {name: s.name for name, s in arms.items()},
        "replications": replications,
        "master_seed": seed,
        "replication_seeds": seeds,
        "runner": getattr(runner, "describe", lambda: type(runner).__name__)(),
        "wall_seconds": round(time.perf_counter() - started, 3),
    }
    return Comparison(frame, differences(frame, BASELINE), manifest)


def compare(
    scenario: str | Path | Scenario,
    variants: Mapping[str, Sequence[str]],
    replications: int = 10,
    seed: int = 1,
    runner: Runner | None = None,
    common: Sequence[str] = (),
    progress: bool = False,
) -> Comparison:
    """Compare a baseline with variants given as ``--set`` overrides, on common random numbers.

    ``compare("scenarios/torkham_2025_acc.yaml", {"plus30": ["timeline+={...}"]}, 20)``
    returns the per-replication outcomes and the paired differences (variant - baseline).
    """
    arms = arms_from_overrides(scenario, variants, common)
    return compare_arms(arms, replications, seed, runner, progress)


def headline(table: pd.DataFrame, rows: int = 12) -> pd.DataFrame:
    """What an analyst reads first: returns by group and mode with their totals over groups
    (so a shift between groups shows), then the largest other differences whose paired
    interval excludes zero, largest relative change first; at most ``rows`` per variant.
    Model estimates (not simulated outcomes) are left out."""
    simulated = table[~table["unit"].str.contains("estimate")]
    returns = simulated["outcome"] == "persons_returned"
    first = simulated[returns & (simulated["mode"] != "all")]
    clear = simulated[~returns & ((simulated["ci_low"] > 0) | (simulated["ci_high"] < 0))].copy()
    scale = clear["base_mean"].abs().where(clear["base_mean"].abs() > 1e-9, np.inf)
    clear["relative"] = (clear["difference"] / scale).abs()
    clear = clear[clear["relative"] > 0].sort_values("relative", ascending=False)
    parts = []
    for variant in dict.fromkeys(table["variant"]):
        mine = pd.concat([first[first["variant"] == variant], clear[clear["variant"] == variant]])
        parts.append(mine.head(rows))
    return pd.concat(parts, ignore_index=True).drop(columns="relative", errors="ignore")
