"""Sweeps: a scenario run over a design of lever and uncertainty values, resumable after a kill.

Every design point is the scenario with ``--set`` overrides (:mod:`.design`: listed values
crossed, ranges sampled by a Latin hypercube), and every point runs replication ``r`` on the same
seed (common random numbers across the design). With an output folder, each finished run is
written at once, atomically, as ``runs/pNNNN-rNNN.parquet`` (one row), so a killed sweep run
again with ``resume=True`` redoes no finished run and loses none; ``experiments.parquet`` gathers
them at the end: one row per run, one column per lever or uncertainty, ``replication``, ``seed``
and one column per scalar outcome, e.g. ``p95_wait_hours[torkham/reception]``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from tqdm import tqdm

from simulation.experiments.compare import arm_outcomes
from simulation.experiments.design import Range, design_points
from simulation.experiments.replications import package_version, replication_seeds
from simulation.experiments.runners import LocalRunner, Runner
from simulation.folders import start_progressive, write_atomic, write_progressive_manifest
from simulation.outputs.outcomes import BREAKDOWNS
from simulation.scenario import Scenario, ScenarioError, parse_scenario, scenario_to_yaml
from simulation.scenario.errors import clip
from simulation.scenario.load import read_text

Spec = Sequence[Any] | Range  # listed values (crossed) or a range (Latin hypercube)
RUNS = "runs"
EXPERIMENTS = "experiments.parquet"
RESUME_KEY = "design_sha256"
FIXED = ("run", "point", "replication", "seed")
CHUNK_PER_WORKER = 4  # runs submitted at once per worker: what a kill may cost


@dataclass(frozen=True)
class RunTask:
    """One run: a design point's scenario on one replication's seed."""

    run: str
    point: int
    replication: int
    seed: int
    cells: tuple[tuple[str, Any], ...]  # (lever or uncertainty, value as recorded)
    scenario: Scenario


@dataclass(frozen=True)
class Plan:
    """A sweep's runs and the manifest recording its design."""

    keys: list[str]
    tasks: list[RunTask]
    manifest: dict[str, Any]


def sweep(
    scenario: str | Path | Scenario,
    levers: Mapping[str, Spec] | None = None,
    uncertainties: Mapping[str, Spec] | None = None,
    samples: int = 0,
    replications: int = 1,
    seed: int = 1,
    out_dir: str | Path | None = None,
    resume: bool = False,
    runner: Runner | None = None,
    progress: bool = False,
    common: Sequence[str] = (),
) -> pd.DataFrame:
    """Run every (design point, replication) and return the experiments frame (one row each).

    ``levers``/``uncertainties`` map dotted scenario keys to listed values or a
    :class:`~simulation.experiments.design.Range` (which needs ``samples`` > 0); ``common`` are
    ``--set`` overrides applied to every point. With ``out_dir`` the runs and
    ``experiments.parquet`` are written there; ``resume`` keeps the finished runs of the same
    sweep in it. Raises :class:`ScenarioError` for a bad design or point,
    :class:`~simulation.folders.ResultsFolderError` for a folder it may not write. The frame's
    ``attrs["sweep"]`` counts points, replications, resumed and executed runs.
    """
    started = time.perf_counter()
    runner = runner or LocalRunner(1)
    plan = plan_sweep(
        scenario, levers or {}, uncertainties or {}, samples, replications, seed, common
    )
    plan.manifest["runner"] = getattr(runner, "describe", lambda: type(runner).__name__)()
    out = None
    if out_dir is not None:
        key = RESUME_KEY if resume else None
        out = start_progressive(out_dir, plan.manifest, [EXPERIMENTS], key)
    rows = finished_runs(out, plan.tasks) if out is not None and resume else {}
    resumed = len(rows)
    rows.update(execute(plan.tasks, rows, out, runner, progress))
    frame = experiments_frame([rows[task.run] for task in plan.tasks])
    if out is not None:
        _finish(out, plan, frame, time.perf_counter() - started)
    frame.attrs["sweep"] = {
        "points": len(plan.manifest["points"]),
        "replications": replications,
        "resumed": resumed,
        "executed": len(plan.tasks) - resumed,
        "out_dir": None if out is None else str(out_dir),
    }
    return frame


def _finish(out: Path, plan: Plan, frame: pd.DataFrame, wall_seconds: float) -> None:
    """Write ``experiments.parquet``, then the manifest listing every file of the sweep."""
    _write_parquet(out / EXPERIMENTS, frame)
    files = [EXPERIMENTS, *(run_file(task) for task in plan.tasks)]
    manifest = {**plan.manifest, "wall_seconds": round(wall_seconds, 3)}
    write_progressive_manifest(out, manifest, files)


# ---------------------------------------------------------------- the design
def plan_sweep(
    scenario: str | Path | Scenario,
    levers: Mapping[str, Spec],
    uncertainties: Mapping[str, Spec],
    samples: int,
    replications: int,
    seed: int,
    common: Sequence[str] = (),
) -> Plan:
    """Every run of the sweep, each point validated as a scenario, and the design's manifest."""
    values, ranges = split_design(levers, uncertainties, samples, replications)
    points = design_points(values, ranges, samples, seed)
    keys = [*values, *ranges]
    text, filename = _scenario_text(scenario)
    overrides = [point_overrides(point) for point in points]
    scenarios = [_point_scenario(text, filename, common, o, i) for i, o in enumerate(overrides)]
    seeds = replication_seeds(seed, replications)
    cells = _cells(keys, points)
    tasks = [
        RunTask(f"p{i:04d}-r{r:03d}", i, r, s, cells[i], scenarios[i])
        for i in range(len(points))
        for r, s in enumerate(seeds)
    ]
    design = {
        "scenario_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "common": list(common),
        "points": overrides,
        "replication_seeds": seeds,
    }
    digest = hashlib.sha256(json.dumps(design, sort_keys=True).encode("utf-8")).hexdigest()
    manifest = {
        "kind": "sweep",
        "version": package_version(),
        "scenario": filename,
        "levers": {k: _describe(v) for k, v in levers.items()},
        "uncertainties": {k: _describe(v) for k, v in uncertainties.items()},
        "samples": samples,
        "replications": replications,
        "master_seed": seed,
        **design,
        RESUME_KEY: digest,
        "runs": len(tasks),
    }
    return Plan(keys, tasks, manifest)


def split_design(
    levers: Mapping[str, Spec], uncertainties: Mapping[str, Spec], samples: int, replications: int
) -> tuple[dict[str, list[Any]], dict[str, Range]]:
    """The listed values and the ranges of a design; :class:`ScenarioError` if it is unusable."""
    if replications < 1:
        raise ScenarioError([f"sweep: replications must be >= 1 (got {replications})"])
    values: dict[str, list[Any]] = {}
    ranges: dict[str, Range] = {}
    for role, specs in (("levers", levers), ("uncertainties", uncertainties)):
        for key, spec in specs.items():
            where = f"sweep: {role}.{clip(str(key))}"
            if key in values or key in ranges or key in FIXED:
                raise ScenarioError([f"{where}: given twice, or clashes with a column name"])
            if isinstance(spec, Range):
                if not spec.low <= spec.high:
                    raise ScenarioError([f"{where}: low must be <= high (got {spec})"])
                ranges[key] = spec
            elif isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) > 0:
                values[key] = [v.item() if isinstance(v, np.generic) else v for v in spec]
            else:
                raise ScenarioError([f"{where}: expected a non-empty list of values or a Range"])
    if ranges and samples < 1:
        raise ScenarioError([f"sweep: a range ({next(iter(ranges))}) needs samples >= 1"])
    if samples and not ranges:
        raise ScenarioError([f"sweep: samples={samples} is for ranges, and none is given"])
    return values, ranges


def _describe(spec: Spec) -> Any:
    """A design entry as JSON for the manifest."""
    if isinstance(spec, Range):
        return {"low": spec.low, "high": spec.high, "integer": spec.integer}
    return list(spec)


def _scenario_text(scenario: str | Path | Scenario) -> tuple[str, str]:
    """The YAML text of the scenario and the file name errors point at."""
    if isinstance(scenario, Scenario):
        return scenario_to_yaml(scenario), f"<{scenario.name}>"
    return read_text(Path(scenario)), str(scenario)


def _flow(value: Any) -> str:
    """``value`` as one line of YAML, as a ``--set`` value."""
    text = yaml.safe_dump([value], default_flow_style=True, width=float("inf")).strip()
    return text[1:-1]


def point_overrides(point: Mapping[str, Any]) -> list[str]:
    """A design point as ``--set`` overrides ``KEY=VALUE``."""
    return [f"{key}={_flow(value)}" for key, value in point.items()]


def _point_scenario(
    text: str, filename: str, common: Sequence[str], overrides: list[str], index: int
) -> Scenario:
    """The scenario of design point ``index``; a :class:`ScenarioError` naming the point."""
    try:
        return parse_scenario(text, filename, [*common, *overrides])
    except ScenarioError as exc:
        head = f"design point {index} ({clip(', '.join(overrides))}): "
        raise ScenarioError([head + exc.lines[0], *exc.lines[1:]]) from None


def _cells(keys: list[str], points: list[dict[str, Any]]) -> list[tuple[tuple[str, Any], ...]]:
    """Each point's values as recorded in its row: numbers, text and booleans as they are; other
    values, and every value of a key mixing kinds, as the YAML text that was set."""
    as_text = set()
    for key in keys:
        kinds = {_kind(point[key]) for point in points}
        if len(kinds) > 1 or kinds == {"other"}:
            as_text.add(key)
    return [
        tuple((k, _flow(point[k]) if k in as_text else point[k]) for k in keys) for point in points
    ]


def _kind(value: Any) -> str:
    """The column kind a value fits: number, bool, text or other."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "text" if isinstance(value, str) else "other"


# ---------------------------------------------------------------- the runs
def run_file(task: RunTask) -> str:
    """The run's file, relative to the sweep folder."""
    return f"{RUNS}/{task.run}.parquet"


def run_row(task: RunTask) -> pd.DataFrame:
    """One run's row: its id, point, values, replication, seed, then every scalar outcome."""
    long = arm_outcomes((task.run, task.scenario, task.seed, task.replication))
    row: dict[str, Any] = {"run": task.run, "point": task.point, **dict(task.cells)}
    row.update(replication=task.replication, seed=task.seed)
    row.update(outcome_columns(long))
    return pd.DataFrame([row])


def outcome_columns(long: pd.DataFrame) -> dict[str, float]:
    """Outcomes as columns ``outcome[key/key]`` from their non-empty breakdown keys."""
    columns: dict[str, float] = {}
    for record in long[["outcome", *BREAKDOWNS, "value"]].itertuples(index=False):
        keys = [str(k) for k in record[1:-1] if isinstance(k, str) and k]
        name = f"{record[0]}[{'/'.join(keys)}]" if keys else str(record[0])
        if name in columns:
            raise ValueError(f"two outcomes would share the column {name!r}")
        columns[name] = float(record[-1])
    return columns


def finished_runs(out: Path, tasks: Sequence[RunTask]) -> dict[str, pd.DataFrame]:
    """The rows of runs already written in ``out`` (a file that is not the run's is redone)."""
    found = {}
    for task in tasks:
        path = out / run_file(task)
        if not path.is_file():
            continue
        try:
            row = pd.read_parquet(path)
        except (OSError, ValueError):
            continue
        if len(row) == 1 and row.at[0, "run"] == task.run and row.at[0, "seed"] == task.seed:
            found[task.run] = row
    return found


def execute(
    tasks: Sequence[RunTask],
    done: Mapping[str, pd.DataFrame],
    out: Path | None,
    runner: Runner,
    progress: bool,
) -> dict[str, pd.DataFrame]:
    """Run the tasks not ``done``, a chunk at a time, writing each row to ``out`` as it comes."""
    pending = [task for task in tasks if task.run not in done]
    chunk = CHUNK_PER_WORKER * int(getattr(runner, "workers", CHUNK_PER_WORKER))
    rows: dict[str, pd.DataFrame] = {}
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(pending), desc="sweep", unit="run",
               disable=not progress)  # fmt: skip
    try:
        for start in range(0, len(pending), chunk):
            part = pending[start : start + chunk]
            for task, row in zip(part, runner.map(run_row, part), strict=True):
                if out is not None:
                    _write_parquet(out / run_file(task), row)
                rows[task.run] = row
                bar.update()
    finally:
        bar.close()
    return rows


def _write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` to ``path`` atomically (whole or not at all)."""
    write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))


def experiments_frame(rows: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The runs' rows in one frame, in the order given (point, then replication)."""
    return pd.concat(list(rows), ignore_index=True)
