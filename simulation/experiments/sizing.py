"""Capacity sizing: the smallest number of servers at a stage that meets a target.

``size(scenario, "torkham", "reception", "p95_wait_hours<=2", probability=0.9)`` tries server
counts on the same replication seeds (common random numbers: every count meets the same
arrivals). It starts from the stage's own count: if that meets the target in at least
``probability`` of the replications it bisects below it, otherwise it gallops up (doubling)
until the target is met, then bisects between the last count that failed and the first that
met it. That assumes more servers never make the outcome worse, which holds for waits at a stage
in the mean; each tried count is reported with its evidence, so a reader can check.

The servers apply on every date and replace the stage's dated changes (``servers_schedule`` and
capacity changes in the timeline); ``scale=True`` keeps the dated schedule and scales it.
"""

from __future__ import annotations

import operator
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from simulation.experiments.compare import arm_outcomes
from simulation.experiments.replications import package_version, replication_seeds
from simulation.experiments.runners import LocalRunner, Runner
from simulation.outputs.outcomes import BY_NAME
from simulation.scenario import Scenario
from simulation.scenario.transforms import (
    dated_server_changes,
    with_fixed_servers,
    with_scaled_servers,
)

TARGET = re.compile(r"\s*([a-z0-9_]+)\s*(<=|>=)\s*(\S+)\s*")
SIZABLE = (
    "mean_wait_hours",
    "p95_wait_hours",
    "worst_day_p95_wait_hours",
    "mean_end_to_end_wait_hours",
    "p95_end_to_end_wait_hours",
    "peak_queue_persons",
    "persons_queued_overnight",
    "persons_unserved_at_end",
)
EVIDENCE_COLUMNS = [
    "servers", "met", "replications", "share_met", "mean", "worst", "worst_day_p95_wait_hours",
    "meets_target",
]  # fmt: skip


@dataclass(frozen=True)
class Target:
    """``outcome <= value`` (or ``>=``) in a replication."""

    outcome: str
    op: str
    value: float

    def holds(self, values: np.ndarray) -> np.ndarray:
        """Whether each replication's value meets the target."""
        compare: Callable[[Any, Any], Any] = operator.le if self.op == "<=" else operator.ge
        return np.asarray(compare(values, self.value), dtype=bool)

    def __str__(self) -> str:
        return f"{self.outcome}{self.op}{self.value:g}"


def parse_target(text: str) -> Target:
    """``'p95_wait_hours<=2'`` as a :class:`Target`; ValueError with one line if malformed."""
    match = TARGET.fullmatch(text)
    if match is None:
        raise ValueError(f"--target {text!r}: expected OUTCOME<=VALUE, e.g. 'p95_wait_hours<=2'")
    outcome, op, raw = match.groups()
    if outcome not in SIZABLE:
        raise ValueError(f"--target {text!r}: {outcome!r} cannot be sized; use one of: "
                         + ", ".join(SIZABLE))  # fmt: skip
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"--target {text!r}: {raw!r} is not a number") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"--target {text!r}: the value must be a finite number >= 0")
    return Target(outcome, op, value)


@dataclass
class Sizing:
    """The answer (``servers``, or None when not met within the bound) and its evidence."""

    servers: int | None
    evidence: pd.DataFrame
    target: Target
    probability: float
    note: str
    manifest: dict[str, Any] = field(default_factory=dict)


class _Trial:
    """Runs and caches server counts on fixed seeds."""

    def __init__(
        self,
        scenario: Scenario,
        crossing: str,
        stage: str,
        target: Target,
        seeds: list[int],
        runner: Runner,
        scale: bool,
    ) -> None:
        self.args = (scenario, crossing, stage)
        self.target, self.seeds, self.runner, self.scale = target, seeds, runner, scale
        self.rows: dict[int, dict[str, Any]] = {}

    def run(self, servers: int) -> dict[str, Any]:
        if servers not in self.rows:
            self.rows[servers] = self._evaluate(servers)
        return self.rows[servers]

    def _evaluate(self, servers: int) -> dict[str, Any]:
        scenario, crossing, stage = self.args
        change = with_scaled_servers if self.scale else with_fixed_servers
        sized = change(scenario, crossing, stage, servers)
        tasks = [(str(servers), sized, s, i) for i, s in enumerate(self.seeds)]
        frame = pd.concat(list(self.runner.map(arm_outcomes, tasks)), ignore_index=True)
        values = _values(frame, self.target.outcome, crossing, stage)
        worst_day = _values(frame, "worst_day_p95_wait_hours", crossing, stage)
        met = self.target.holds(values)
        return {
            "servers": servers,
            "met": int(met.sum()),
            "replications": len(values),
            "share_met": float(met.mean()),
            "mean": float(values.mean()),
            "worst": float(values.max() if self.target.op == "<=" else values.min()),
            "worst_day_p95_wait_hours": float(worst_day.max()),
        }


def _values(frame: pd.DataFrame, outcome: str, crossing: str, stage: str) -> np.ndarray:
    """One value per replication of ``outcome`` at the stage (or its crossing)."""
    keys = BY_NAME[outcome].keys
    mask = frame["outcome"] == outcome
    mask &= frame["crossing"] == crossing
    if "stage" in keys:
        mask &= frame["stage"] == stage
    rows = frame[mask].sort_values("replication")
    return rows["value"].to_numpy(dtype=float)


def size(
    scenario: Scenario,
    crossing: str,
    stage: str,
    target: str | Target,
    probability: float = 0.9,
    replications: int = 10,
    seed: int = 1,
    max_servers: int = 200,
    scale: bool = False,
    runner: Runner | None = None,
    progress: bool = False,
) -> Sizing:
    """The smallest number of servers at ``crossing.stage`` meeting ``target`` in at least
    ``probability`` of ``replications`` (see the module docstring for the search)."""
    if crossing not in scenario.crossings or stage not in scenario.crossings[crossing].stages:
        raise ValueError(f"--stage {crossing}.{stage}: no such stage in {scenario.name}")
    if not 0 < probability <= 1:
        raise ValueError(f"--probability {probability}: must be in (0, 1]")
    goal = parse_target(target) if isinstance(target, str) else target
    started = time.perf_counter()
    trial = _Trial(scenario, crossing, stage, goal, replication_seeds(seed, replications),
                   runner or LocalRunner(1), scale)  # fmt: skip
    with tqdm(desc=f"size {crossing}.{stage}", unit="count", disable=not progress) as bar:
        start = scenario.crossings[crossing].stages[stage].servers
        answer = _search(trial, start, probability, max_servers, bar)
    evidence = pd.DataFrame([trial.rows[c] for c in sorted(trial.rows)])
    evidence["meets_target"] = evidence["share_met"] >= probability
    return Sizing(
        answer,
        evidence[EVIDENCE_COLUMNS],
        goal,
        probability,
        _note(scenario, crossing, stage, scale),
        {
            "package": "repatsim", "version": package_version(), "kind": "size",
            "scenario": scenario.name, "stage": f"{crossing}.{stage}", "target": str(goal),
            "probability": probability, "replications": replications, "master_seed": seed,
            "max_servers": max_servers, "scale": scale, "servers": answer,
            "runs": int(len(evidence) * replications),
            "wall_seconds": round(time.perf_counter() - started, 3),
        },
    )  # fmt: skip


def _search(
    trial: _Trial, start: int, probability: float, max_servers: int, bar: tqdm
) -> int | None:
    """Try ``start`` (the stage's own count); if it meets the target, bisect below it, else
    gallop up (doubling) to the first count that does, then bisect."""

    def ok(servers: int) -> bool:
        row = trial.run(servers)
        bar.update()
        return bool(row["share_met"] >= probability)

    low, high = 0, max(1, min(start, max_servers))  # low: known to fail (0 serve nobody)
    while not ok(high):
        if high >= max_servers:
            return None
        low, high = high, min(2 * high, max_servers)
    while high - low > 1:
        middle = (low + high) // 2
        if ok(middle):
            high = middle
        else:
            low = middle
    return high


def _note(scenario: Scenario, crossing: str, stage: str, scale: bool) -> str:
    """What the tried counts mean for the stage's dated changes, in one sentence."""
    changes = dated_server_changes(scenario, crossing, stage)
    if not changes:
        return f"{crossing}.{stage} has no dated server changes; the count applies throughout."
    listed = "; ".join(changes)
    if scale:
        return f"the dated schedule is kept and scaled in proportion ({listed})."
    return f"the count applies on every date and replaces the dated changes ({listed})."
